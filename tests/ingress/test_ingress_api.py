"""Ingress REST (annotation/api/imports.py): roles, listing, and end-to-end runs on the real worker."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotation.models import Item, Role
from core.models import Job, JobStatus
from tests.conftest import wait_for_job
from tests.factories import UserFactory, add_member, make_project
from tests.ingress.ingress_fixtures import png_bytes, run_import  # noqa: F401

CSV = b"external_id,text,tags\ne1,first row,web\ne2,second row,\ne3,,\n"


def upload(client, project, name: str, data: bytes, **extra):
    return client.post(
        f"/api/projects/{project.pk}/imports/",
        {"file": SimpleUploadedFile(name, data), **extra},
        format="multipart",
    )


@pytest.mark.django_db
def test_only_managers_start_imports(media_roots, api):
    project = make_project()
    annotator, reviewer = add_member(project, Role.ANNOTATOR), add_member(project, Role.REVIEWER)
    assert upload(api(annotator), project, "a.csv", CSV).status_code == 403
    assert upload(api(reviewer), project, "a.csv", CSV).status_code == 403
    assert upload(api(UserFactory()), project, "a.csv", CSV).status_code == 404
    response = upload(api(project.created_by), project, "a.csv", CSV)
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.task_name, job.status, job.params["format"]) == (
        "import",
        "annotation.import",
        "queued",
        "csv",
    )
    assert (media_roots["media"] / job.params["upload"]).read_bytes() == CSV


@pytest.mark.django_db
def test_bad_labelstudio_option_is_a_field_error(media_roots, api):
    project = make_project()
    response = upload(api(project.created_by), project, "a.json", b"[]", labelstudio_annotations="truth")
    assert response.status_code == 400 and "labelstudio_annotations" in response.json()


@pytest.mark.django_db
def test_reviewers_list_imports_and_batches_with_drift(media_roots, api):
    project = make_project()
    run_import(
        project, "short.csv", ("external_id,text\n" + "".join(f"s{i},w{i}\n" for i in range(40))).encode()
    )
    long_rows = "".join(f"l{i},{'a much longer piece of text ' * 8}{i}\n" for i in range(40))
    run_import(project, "long.csv", ("external_id,text\n" + long_rows).encode())
    reviewer = add_member(project, Role.REVIEWER)
    jobs = api(reviewer).get(f"/api/projects/{project.pk}/imports/").json()
    assert jobs["count"] == 2 and [j["file_name"] for j in jobs["results"]] == ["long.csv", "short.csv"]
    assert jobs["results"][0]["result"]["created"] == 40
    batches = api(reviewer).get(f"/api/projects/{project.pk}/batches/").json()["results"]
    assert [b["number"] for b in batches] == [2, 1]
    assert "summary_state" not in batches[0]
    assert batches[0]["profile_summary"]["numeric"]["length"]["n"] == 40
    # The second batch's texts are ~50x longer: a material, significant drift with a sentence
    (finding,) = batches[0]["drift"]
    assert finding["field"] == "length" and finding["sentence"].startswith("Batch 2: mean text length rose")
    assert batches[1]["drift"] == []
    annotator = add_member(project, Role.ANNOTATOR)
    assert api(annotator).get(f"/api/projects/{project.pk}/batches/").status_code == 403


@pytest.mark.worker
def test_csv_upload_runs_on_the_real_worker(worker, api):
    # Given a manager uploading a CSV through the API
    project = make_project()
    response = upload(api(project.created_by), project, "rows.csv", CSV)
    assert response.status_code == 202
    # When the worker runs the job
    job = wait_for_job(response.json()["job"], worker=worker)
    # Then the rows exist and the job's result carries the report
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 3 and job.result["routed_to_review"] == 1
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {
        "e1",
        "e2",
        "e3",
    }
    assert Item.objects.get(project=project, external_id="e3").status == "needs_review"
    polled = api(project.created_by).get(f"/api/jobs/{job.pk}/").json()
    assert polled["status"] == "succeeded" and polled["progress"] == 1.0


@pytest.mark.worker
def test_image_zip_on_the_real_worker_then_media_for_members_only(worker, api):
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    image = png_bytes(pattern=5)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", image)
        archive.writestr("b.png", b"not an image")
    response = upload(api(project.created_by), project, "imgs.zip", buffer.getvalue())
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 1 and job.result["report"][0]["line"] == 2
    item = Item.objects.get(project=project, external_id="a.png")
    member = Client()
    member.force_login(add_member(project, Role.ANNOTATOR))
    ranged = member.get(f"/media/items/{item.pk}/", HTTP_RANGE="bytes=0-7")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == image[:8]
    assert ranged["Content-Type"] == "image/png" and ranged["X-Content-Type-Options"] == "nosniff"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(f"/media/items/{item.pk}/").status_code == 404


@pytest.mark.worker
def test_bulk_batches_get_their_profile_summary_and_drift_from_the_refresh_job(worker, api):
    from ingress.job_kinds import NEAR_DUPLICATES_JOB

    project = make_project()
    manager = api(project.created_by)

    def bulk_call_then_its_job(rows: list[dict]) -> Job:
        response = manager.post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
        assert response.status_code == 201, response.content
        job = Job.objects.filter(project=project, kind=NEAR_DUPLICATES_JOB).order_by("-created_at").first()
        assert job is not None
        job = wait_for_job(job.pk, worker=worker)
        assert job.status == JobStatus.SUCCEEDED, job.error
        return job

    # Given a bulk call of 40 short texts and the refresh job it schedules
    first = bulk_call_then_its_job([{"external_id": f"s{i}", "text": f"w{i}"} for i in range(40)])
    # Then the bulk batch has its profile summary without any file import, and no drift (nothing before it)
    assert first.result["batches_summarised"] == 1
    batches = manager.get(f"/api/projects/{project.pk}/batches/").json()["results"]
    assert [b["number"] for b in batches] == [1]
    assert batches[0]["profile_summary"]["numeric"]["length"]["n"] == 40 and batches[0]["drift"] == []
    # When a second bulk call sends texts ~50x longer and its job runs
    long_text = "a much longer piece of text " * 8
    bulk_call_then_its_job([{"external_id": f"l{i}", "text": f"{long_text}{i}"} for i in range(40)])
    # Then the second batch carries a text-length drift finding against the first
    batches = manager.get(f"/api/projects/{project.pk}/batches/").json()["results"]
    assert [b["number"] for b in batches] == [2, 1]
    assert batches[0]["profile_summary"]["numeric"]["length"]["n"] == 40
    (finding,) = batches[0]["drift"]
    assert finding["field"] == "length" and finding["sentence"].startswith("Batch 2: mean text length rose")
    assert batches[1]["drift"] == []
