"""File imports as jobs (ingress/services/imports.py, import_run.py): formats, report, idempotency, batches, routing."""

import json
import zipfile
from io import BytesIO

import pytest

from annotation.models import Item, ItemStatus, ItemTag
from core.models import JobStatus
from ingress.models import ImportBatch
from tests.factories import make_project
from tests.ingress.ingress_fixtures import png_bytes, run_import, tone, wav_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


def csv_bytes(rows: list[str], header: str = "external_id,text,tags,gold_label") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_csv_import_creates_items_tags_gold_and_a_batch(media_roots):
    # Given a text project and a CSV with tags, a gold label and an extra metadata column
    project = make_project()
    data = csv_bytes(
        ["a1,I love it,web;mobile,pos,", "a2,Terrible service,web,,en"],
        header="external_id,text,tags,gold_label,lang",
    )
    # When it is imported
    job = run_import(project, "reviews.csv", data)
    # Then both rows land, with tags (and their ItemTag rows), gold and metadata
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["errors"] == 0 and job.result["duplicates"] == 0
    a1 = Item.objects.get(project=project, external_id="a1")
    a2 = Item.objects.get(project=project, external_id="a2")
    assert a1.tags == ["mobile", "web"] and a1.gold_label == "pos" and a1.is_gold
    assert a2.metadata == {"lang": "en"} and a2.gold_label is None
    assert sorted(ItemTag.objects.filter(item=a1).values_list("tag", flat=True)) == ["mobile", "web"]
    batch = ImportBatch.objects.get(project=project)
    assert (batch.number, batch.n_created, batch.source, batch.job_id) == (1, 2, "reviews.csv", job.pk)
    assert a1.batch_id == batch.pk
    assert a1.profile["kind"] == "text" and a1.profile["length"] == len("I love it")
    assert batch.profile_summary["n_items"] == 2
    assert batch.profile_summary["numeric"]["length"]["max"] == len("Terrible service")


def test_reimporting_the_same_file_creates_nothing_and_reports_duplicates(media_roots):
    project = make_project()
    data = csv_bytes([f"r{i},row number {i},," for i in range(5)])
    first = run_import(project, "rows.csv", data)
    # When the same file comes again
    second = run_import(project, "rows.csv", data)
    # Then nothing is created twice
    assert first.result["created"] == 5
    assert second.result["created"] == 0 and second.result["duplicates"] == 5
    assert sorted(second.result["duplicate_ids"]) == [f"r{i}" for i in range(5)]
    assert Item.objects.filter(project=project).count() == 5
    # And a file that adds nothing opens no batch (as a bulk call that adds nothing)
    assert list(ImportBatch.objects.filter(project=project).values_list("number", flat=True)) == [1]
    assert second.result["batch"] is None and second.result["outcome"] == "completed"


def test_a_job_retried_after_a_crash_reuses_its_batch_and_creates_nothing_twice(media_roots, monkeypatch):
    # Given an import whose worker died after its rows were committed, before the job finished
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core import jobs
    from ingress.services import import_run, imports

    project = make_project()
    job = imports.import_start(
        project=project,
        user=project.created_by,
        upload=SimpleUploadedFile("rows.csv", csv_bytes([f"r{i},text {i},," for i in range(3)])),
    )

    def crash(**kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(import_run, "near_dup_refresh", crash)
    with pytest.raises(RuntimeError):
        import_run.import_run(job, jobs.JobContext(job))
    assert Item.objects.filter(project=project).count() == 3
    monkeypatch.undo()
    # When the job runs again
    jobs.job_execute(job_id=str(job.pk), work=import_run.import_run)
    job.refresh_from_db()
    # Then the rows count as created by this job, in its one batch, and nothing is duplicated
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert ImportBatch.objects.filter(project=project).count() == 1
    assert job.result["created"] == 3 and job.result["duplicates"] == 0
    assert Item.objects.filter(project=project).count() == 3
    assert ImportBatch.objects.get(project=project).profile_summary["n_items"] == 3


def test_jsonl_import_with_bad_lines_reports_line_numbers(media_roots):
    project = make_project()
    data = b'{"external_id": "j1", "text": "fine"}\nnot json\n{"external_id": "j2", "text": 5}\n{"id": "j3", "text": "ok"}\n'
    job = run_import(project, "rows.jsonl", data)
    assert job.result["created"] == 2
    assert {row["line"] for row in job.result["report"]} == {2, 3}
    by_line = {row["line"]: row for row in job.result["report"]}
    assert by_line[3]["field"] == "text" and "must be a string" in by_line[3]["message"]
    assert "invalid JSON" in by_line[2]["message"]
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {"j1", "j3"}


def test_json_array_and_unknown_gold_label(media_roots):
    project = make_project()
    data = json.dumps(
        [
            {"external_id": "k1", "text": "one", "gold_label": "pos"},
            {"external_id": "k2", "text": "two", "gold_label": "nope"},
        ]
    ).encode()
    job = run_import(project, "rows.json", data)
    assert job.result["created"] == 1
    assert job.result["report"] == [
        {"line": 2, "field": "gold_label", "message": job.result["report"][0]["message"]}
    ]
    assert "Unknown gold label 'nope'" in job.result["report"][0]["message"]


def test_label_studio_export_keeps_annotations_as_metadata_or_gold(media_roots):
    project = make_project()
    tasks = [
        {
            "id": 11,
            "data": {"text": "great"},
            "annotations": [
                {"result": [{"value": {"choices": ["pos"]}}]},
                {"result": [{"value": {"choices": ["pos"]}}]},
            ],
        },
        {
            "id": 12,
            "data": {"text": "meh", "source": "forum"},
            "annotations": [
                {"result": [{"value": {"choices": ["pos"]}}]},
                {"result": [{"value": {"choices": ["neg"]}}]},
            ],
        },
    ]
    job = run_import(project, "export.json", json.dumps(tasks).encode(), labelstudio_annotations="gold")
    assert job.result["format"] == "labelstudio" and job.result["created"] == 2
    agreed = Item.objects.get(project=project, external_id="11")
    split = Item.objects.get(project=project, external_id="12")
    assert agreed.gold_label == "pos" and agreed.metadata["ls_choices"] == [["pos"], ["pos"]]
    assert split.gold_label is None and split.metadata == {
        "source": "forum",
        "ls_choices": [["pos"], ["neg"]],
    }


def test_rows_without_external_id_get_a_content_id_so_reimport_is_idempotent(media_roots):
    project = make_project()
    data = b"text\nfirst line\nsecond line\n"
    first = run_import(project, "plain.csv", data)
    second = run_import(project, "plain.csv", data)
    assert first.result["created"] == 2 and second.result["duplicates"] == 2
    ids = set(Item.objects.filter(project=project).values_list("external_id", flat=True))
    assert all(external_id.startswith("sha256:") and len(external_id) == 39 for external_id in ids)


def test_empty_text_is_flagged_and_routed_to_review(media_roots):
    project = make_project()
    job = run_import(project, "rows.csv", csv_bytes(['e1,"   ",,', "e2,real words,,"]))
    assert job.result["created"] == 2 and job.result["routed_to_review"] == 1
    assert job.result["flags"] == {"empty": 1}
    e1 = Item.objects.get(external_id="e1")
    assert e1.flags == ["empty"] and e1.status == ItemStatus.NEEDS_REVIEW
    assert Item.objects.get(external_id="e2").status == ItemStatus.NEW


def test_flagged_items_stay_with_annotators_when_routing_is_off(media_roots):
    project = make_project(route_flagged_to_review=False)
    run_import(project, "rows.csv", csv_bytes(['e1,"",,']))
    item = Item.objects.get(external_id="e1")
    assert item.flags == ["empty"] and item.status == ItemStatus.NEW


def test_zip_of_images_with_manifest(media_roots):
    # Given an image project and a zip with a manifest naming two of three images
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imgs/a.png", png_bytes(100, pattern=4))
        archive.writestr("imgs/b.png", png_bytes(100, pattern=8))
        archive.writestr("imgs/unlisted.png", png_bytes(50))
        archive.writestr(
            "manifest.csv", "file,external_id,gold_label,tags\nimgs/a.png,A,cat,indoor\nimgs/b.png,B,,\n"
        )
    job = run_import(project, "pets.zip", buffer.getvalue())
    # Then the two listed images land with files, profiles, pHash keys and the detected content type
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["errors"] == 0
    a = Item.objects.get(project=project, external_id="A")
    assert a.gold_label == "cat" and a.tags == ["indoor"] and a.content_type == "image/png"
    assert a.profile["width"] == 48 and a.profile["format"] == "PNG" and len(a.near_dup_key) == 16
    assert a.file.name.startswith(
        f"projects/{project.pk}/{a.sha256[:2]}/{a.sha256}/"
    ) and a.file.read() == png_bytes(100, pattern=4)
    assert not Item.objects.filter(external_id="imgs/unlisted.png").exists()


def test_upload_is_removed_from_storage_after_a_successful_import(media_roots):
    project = make_project()
    job = run_import(project, "rows.csv", csv_bytes(["a,b,,"]))
    assert not (media_roots["media"] / job.params["upload"]).exists()


def test_identical_rows_without_ids_in_one_file_become_one_item(media_roots):
    project = make_project()
    job = run_import(project, "plain.csv", b"text\nsame words\nsame words\nother words\n")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["duplicates"] == 1
    assert Item.objects.filter(project=project).count() == 2


def test_zip_of_images_into_a_text_project_is_reported_per_member(media_roots):
    project = make_project()
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.png", png_bytes())
    job = run_import(project, "imgs.zip", buffer.getvalue())
    assert job.result["created"] == 0
    assert job.result["report"] == [
        {
            "line": 1,
            "field": "file",
            "message": "This is a text project: a zip needs a manifest.csv with a text column.",
        }
    ]


def test_label_studio_image_tasks_land_as_image_items_and_bad_media_is_reported_per_task(media_roots):
    # Given an image project, images under the allowed import root, and an LS export pointing at them
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    (media_roots["import"] / "pets").mkdir()
    (media_roots["import"] / "pets" / "cat.png").write_bytes(png_bytes(90, pattern=4))
    (media_roots["import"] / "dog.png").write_bytes(png_bytes(160, pattern=8))
    (media_roots["import"] / "broken.png").write_bytes(b"\x89PNG but not really")
    (media_roots["import"] / "beep.wav").write_bytes(wav_bytes(tone(seconds=0.2)))
    dog = (media_roots["import"] / "dog.png").as_uri()
    tasks = [
        {
            "id": 1,
            "data": {"image": "pets/cat.png", "camera": "front"},
            "annotations": [{"result": [{"value": {"choices": ["cat"]}}]}],
        },
        {"id": 2, "data": {"image": dog}},
        {"id": 3, "data": {"image": "/data/upload/7/3f2a-cat.png"}},  # a Label Studio upload path
        {"id": 4, "data": {"image": "https://example.com/cat.png"}},
        {"id": 5, "data": {"image": "broken.png"}},
        {"id": 6, "data": {"image": "beep.wav"}},
    ]
    # When the export is imported
    job = run_import(project, "ls-images.json", json.dumps(tasks).encode(), labelstudio_annotations="gold")
    # Then the two readable images are image items with files, profiles and LS metadata
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["format"], job.result["created"], job.result["errors"]) == ("labelstudio", 2, 4)
    cat = Item.objects.get(project=project, external_id="1")
    assert cat.content_type == "image/png" and cat.file.read() == png_bytes(90, pattern=4)
    assert cat.profile["kind"] == "image" and cat.profile["width"] == 48 and len(cat.near_dup_key) == 16
    assert cat.gold_label == "cat" and cat.metadata == {"camera": "front", "ls_choices": [["cat"]]}
    assert Item.objects.get(project=project, external_id="2").file_name == "dog.png"
    assert ImportBatch.objects.get(project=project).profile_summary["numeric"]["brightness"]["n"] == 2
    # And each bad task is reported on its own line with the field at fault
    by_line = {row["line"]: row for row in job.result["report"]}
    assert {line: row["field"] for line, row in by_line.items()} == {
        3: "file_url",
        4: "file_url",
        5: "file",
        6: "file",
    }
    # A Label Studio upload path needs Label Studio's media folder; a web address is not fetched by default
    assert "LABELGATE_LS_MEDIA_ROOT" in by_line[3]["message"]
    assert "LABELGATE_LS_FETCH_URLS" in by_line[4]["message"]
    assert by_line[5]["message"] == "broken.png is not a readable image (PNG, JPEG, GIF, WebP, BMP or TIFF)."


def test_label_studio_audio_tasks_land_as_audio_items_with_profiles(media_roots):
    # Given an audio project, a clip under the import root and an LS export with one good and one bad task
    project = make_project(task_type="audio_classification", labels=("tone", "noise"))
    (media_roots["import"] / "clips").mkdir()
    (media_roots["import"] / "clips" / "beep.wav").write_bytes(wav_bytes(tone(seconds=0.5, freq=440.0)))
    (media_roots["import"] / "clips" / "notes.wav").write_bytes(b"meeting notes, not audio")
    tasks = [
        {"id": 21, "data": {"audio": "clips/beep.wav", "speaker": "s1", "tags": "lab;quiet"}},
        {"id": 22, "data": {"audio": "clips/notes.wav"}},
        {"id": 23, "data": {"audio": "clips/missing.wav"}},
    ]
    # When imported
    job = run_import(project, "ls-audio.json", json.dumps(tasks).encode())
    # Then the clip is an audio item with its profile, tags and metadata; bad tasks are reported per line
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["created"], job.result["errors"]) == (1, 2)
    clip = Item.objects.get(project=project, external_id="21")
    assert clip.content_type == "audio/wav" and clip.file_name == "beep.wav"
    assert clip.profile["kind"] == "audio" and clip.profile["sample_rate"] == 16000
    assert abs(clip.profile["duration"] - 0.5) < 0.01 and clip.profile["loudness_dbfs"] < 0
    assert clip.tags == ["lab", "quiet"] and clip.metadata == {"speaker": "s1"}
    assert ImportBatch.objects.get(project=project).profile_summary["numeric"]["duration"]["n"] == 1
    by_line = {row["line"]: row for row in job.result["report"]}
    assert {line: row["field"] for line, row in by_line.items()} == {2: "file", 3: "file_url"}
    assert by_line[2]["message"] == "notes.wav is not a readable audio file (WAV, FLAC, OGG, MP3 or AIFF)."
    assert "No file at 'clips/missing.wav'" in by_line[3]["message"]


def test_a_json_array_that_breaks_keeps_its_earlier_rows_and_counts_the_break_as_one_error(media_roots):
    # Given a JSON array whose third element is cut off
    project = make_project()
    data = b'[{"external_id": "j1", "text": "one"}, {"external_id": "j2", "text": "two"}, {"external_id": "j3", "te'
    # When it is imported
    job = run_import(project, "cut.json", data)
    # Then the two rows before the break land, the break is the third row's error, and the import says so
    assert job.status == JobStatus.SUCCEEDED, job.error
    result = job.result
    assert (result["rows"], result["created"], result["duplicates"], result["errors"]) == (3, 2, 0, 1)
    assert result["outcome"] == "completed_with_errors" and job.outcome == "completed_with_errors"
    assert [row["line"] for row in result["report"]] == [3] and result["file_error"] == result["report"][0][
        "message"
    ]
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {"j1", "j2"}
