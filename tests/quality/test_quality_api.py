import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Role
from core.jobs import JobContext
from core.models import Job, JobStatus
from quality import services
from quality.job_kinds import QUALITY_JOB
from tests.factories import UserFactory, add_member, make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db

VOTES = [
    ["pos", "pos", "neg"],
    ["neg", "neg", "neg"],
    ["pos", "neg", "neutral"],
    ["neutral", "neutral", "pos"],
]


def _project_with_report(n_annotators: int = 3):
    votes = [row + ["pos"] * (n_annotators - 3) for row in VOTES]
    project, items, annotators = votes_project(make_project, votes)
    job = services.quality_run_create(project=project, user=project.created_by, n_boot=20)
    services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    return project, job, annotators


def test_post_quality_run_returns_202_with_the_job(api):
    project, _, _ = votes_project(make_project, VOTES)
    reviewer = add_member(project, Role.REVIEWER)
    response = api(reviewer).post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.task_name, job.project_id, job.status) == (
        QUALITY_JOB,
        "quality.run",
        project.pk,
        "queued",
    )


def test_second_run_while_one_is_queued_is_a_conflict(api):
    project, _, _ = votes_project(make_project, VOTES)
    client = api(project.created_by)
    first = client.post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    second = client.post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert second.status_code == 409
    assert second.json()["job"] == first.json()["job"]
    assert "already queued" in second.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"n_boot": -1}, "n_boot", "greater than or equal to 0"),
        ({"n_boot": "many"}, "n_boot", "valid integer"),
        ({"n_boot": 5000}, "n_boot", "less than or equal to 1000"),
    ],
)
def test_bad_n_boot_is_a_field_error(api, body, field, fragment):
    project, _, _ = votes_project(make_project, VOTES)
    response = api(project.created_by).post(f"/api/projects/{project.pk}/quality-runs/", body, format="json")
    assert response.status_code == 400
    assert fragment in response.json()[field][0]
    assert not Job.objects.filter(project=project).exists()


def test_run_on_a_project_without_annotations_is_refused(api):
    project = make_project()
    response = api(project.created_by).post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert response.status_code == 400
    assert "no annotations yet" in response.json()["project"][0]


@pytest.mark.parametrize("path", ["quality-runs/", "quality/", "annotators/"])
def test_annotators_get_403_and_non_members_404(api, path):
    project, _, (annotator, *_) = votes_project(make_project, VOTES)
    url = f"/api/projects/{project.pk}/{path}"
    call = (lambda c: c.post(url, {}, format="json")) if path == "quality-runs/" else (lambda c: c.get(url))
    forbidden = call(api(annotator))
    assert forbidden.status_code == 403 and "reviewer role" in forbidden.json()["detail"]
    assert call(api(UserFactory())).status_code == 404
    assert call(api()).status_code == 401


def test_latest_report_is_404_with_a_hint_before_any_run(api):
    project, _, _ = votes_project(make_project, VOTES)
    response = api(project.created_by).get(f"/api/projects/{project.pk}/quality/")
    assert response.status_code == 404
    assert f"POST /api/projects/{project.pk}/quality-runs/" in response.json()["detail"]
    assert api(project.created_by).get(f"/api/projects/{project.pk}/annotators/").status_code == 404


def test_latest_report_shape(api):
    project, job, _ = _project_with_report()
    body = api(project.created_by).get(f"/api/projects/{project.pk}/quality/").json()
    for key in (
        "krippendorff_alpha",
        "fleiss_kappa",
        "mean_pairwise_cohen_kappa",
        "hlp",
        "per_label",
        "per_tag",
        "consensus_method",
        "job",
        "explanations",
        "krippendorff_alpha_ci_low",
        "per_guideline_version",
    ):
        assert key in body
    assert body["job"] == str(job.pk)
    assert body["fleiss_kappa"] == pytest.approx(10 / 94)
    assert set(body["per_label"]) == {"pos", "neg", "neutral"}
    assert (
        body["krippendorff_alpha_ci_low"] <= body["krippendorff_alpha"] <= body["krippendorff_alpha_ci_high"]
    )
    assert "consensus_params" not in body


def test_annotator_list_shape_and_pagination(api):
    project, _, annotators = _project_with_report()
    body = api(project.created_by).get(f"/api/projects/{project.pk}/annotators/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    row = body["results"][0]
    assert set(row) >= {
        "user",
        "username",
        "n_annotations",
        "agreement_with_consensus",
        "quality_score",
        "gold_accuracy",
    }
    by_user = {
        r["user"]: r
        for r in api(project.created_by).get(f"/api/projects/{project.pk}/annotators/").json()["results"]
    }
    assert by_user[annotators[0].pk]["n_annotations"] == 4
    assert by_user[annotators[0].pk]["agreement_with_consensus"] == pytest.approx(3 / 4)
    assert len(by_user[annotators[0].pk]["confusion"]) == 3


def _annotator_list_queries(api, n_annotators: int) -> int:
    project, _, _ = _project_with_report(n_annotators)
    client = api(project.created_by)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/projects/{project.pk}/annotators/")
    assert len(response.json()["results"]) == n_annotators
    return len(queries)


def test_annotator_list_query_count_does_not_grow_with_annotators(api):
    assert _annotator_list_queries(api, 3) == _annotator_list_queries(api, 8)
