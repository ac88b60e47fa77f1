"""What an import ends as, through the API and the real worker: a file that cannot be used fails with a reason
in words and leaves no batch; a file with row errors is "completed_with_errors", never plain success; every
row read is counted once (rows = created + duplicates + errors); messages carry no Python internals."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Item
from core.models import JobStatus
from ingress.models import ImportBatch
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import make_project
from tests.ingress.ingress_fixtures import png_bytes

pytestmark = pytest.mark.worker

NOT_TEXT = (
    "The file is not text: it holds NUL bytes (it is a binary file such as an image or a spreadsheet, or text "
    "saved as UTF-16/UTF-32 without a byte-order mark). Save it as CSV or JSON Lines in UTF-8."
)


def import_through_the_api(worker, api, project, name: str, data: bytes):
    """Upload as a script would, let the worker run the job, and read it back from both API endpoints."""
    client = api(project.created_by)
    response = client.post(
        f"/api/projects/{project.pk}/imports/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["job"], worker=worker)
    listed = client.get(f"/api/projects/{project.pk}/imports/").json()["results"]
    (row,) = [entry for entry in listed if entry["id"] == str(job.pk)]
    polled = client.get(f"/api/jobs/{job.pk}/").json()
    return job, row, polled


def assert_adds_up(result: dict) -> None:
    assert result["rows"] == result["created"] + result["duplicates"] + result["errors"], result


UNUSABLE = {
    "missing-column": (
        "wrong.csv",
        b"external_id,body\nx1,hello\nx2,world\n",
        "The CSV has no 'text' column. Columns found: external_id, body.",
    ),
    "binary": ("photo.csv", png_bytes(), NOT_TEXT),
    "utf16-without-bom": ("export.csv", "external_id,text\nx1,hello\n".encode("utf-16-le"), NOT_TEXT),
    "empty": ("empty.csv", b"", "empty.csv is empty (0 bytes)."),
    "blank-lines-only": (
        "blank.csv",
        b"\n   \n\n",
        "The file is empty: a CSV needs a header row naming its columns (such as text).",
    ),
    "header-only": ("header.csv", b"external_id,text\n", "header.csv holds no rows to import."),
    "not-a-zip": (
        "data.zip",
        b"PK\x03\x04 this is not really an archive",
        "The file is not a readable zip archive (it is damaged or incomplete).",
    ),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_a_file_that_cannot_be_used_fails_with_its_reason_and_leaves_no_batch(worker, api, case):
    # Given a text project and a file that cannot be read as rows
    name, data, reason = UNUSABLE[case]
    project = make_project()
    # When it is uploaded and the worker runs the import
    job, listed, polled = import_through_the_api(worker, api, project, name, data)
    # Then the job failed with the reason in words, the same on both endpoints
    assert (job.status, job.error) == (JobStatus.FAILED, reason)
    assert (listed["status"], listed["outcome"], listed["error"]) == ("failed", "failed", reason)
    assert (polled["status"], polled["error"]) == ("failed", reason)
    # And nothing was stored: no item, no (empty) batch
    assert not Item.objects.filter(project=project).exists()
    assert not ImportBatch.objects.filter(project=project).exists()


def test_a_file_with_row_errors_completes_with_errors_and_reports_each_bad_line(worker, api):
    # Given a project holding p1, and a CSV (line numbers on the right) with two good rows, a row already in
    # the project, a quote never closed, an unknown gold label, a repeated id and a row with an extra field
    project = make_project()
    item_bulk_create(project=project, rows=[{"external_id": "p1", "text": "imported before"}])
    data = (
        b"external_id,text,gold_label\n"  # 1
        b"a1,fine text,pos\n"  # 2
        b'a2,"never closed,neg\n'  # 3
        b"a3,third row,neg\n"  # 4
        b"a4,bad gold,maybe\n"  # 5
        b"a1,repeat id,pos\n"  # 6
        b"a5,too,many,fields\n"  # 7
        b"p1,already here,\n"  # 8
    )
    # When it is imported through the API and the worker
    job, listed, polled = import_through_the_api(worker, api, project, "mixed.csv", data)
    # Then the job succeeded but says it has errors, on both endpoints
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert listed["status"] == "succeeded" and listed["outcome"] == "completed_with_errors"
    assert polled["result"]["outcome"] == "completed_with_errors"
    # And 7 rows = 2 created (a1, a3) + 1 duplicate (p1) + 4 errors (lines 3, 5, 6, 7)
    result = listed["result"]
    assert (result["rows"], result["created"], result["duplicates"], result["errors"]) == (7, 2, 1, 4)
    assert_adds_up(result)
    assert [(row["line"], row["field"]) for row in result["report"]] == [
        (3, "row"),
        (5, "gold_label"),
        (6, "external_id"),
        (7, "row"),
    ]
    assert result["report"][0]["message"].startswith("unterminated quote")
    # And the unterminated quote did not swallow the rows after it
    assert Item.objects.get(project=project, external_id="a3").text == "third row"
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {
        "p1",
        "a1",
        "a3",
    }


def test_a_corrupt_image_in_a_zip_is_named_without_python_internals(worker, api):
    # Given an image project and a zip of two good PNGs and one that only starts like a PNG
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo1.png", png_bytes(pattern=3))
        archive.writestr("photo2.png", png_bytes(pattern=7))
        archive.writestr("photo3.png", b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10)
    # When it is imported
    job, listed, _ = import_through_the_api(worker, api, project, "photos.zip", buffer.getvalue())
    # Then the bad member is one row error in plain words, and the import says it has errors
    assert listed["outcome"] == "completed_with_errors"
    assert listed["result"]["report"] == [
        {
            "line": 3,
            "field": "file",
            "message": "photo3.png is not a readable image (PNG, JPEG, GIF, WebP, BMP or TIFF).",
        }
    ]
    assert (listed["result"]["rows"], listed["result"]["created"]) == (3, 2)
    assert_adds_up(listed["result"])


def test_a_label_studio_file_counts_each_task_once(worker, api):
    # Given a project holding p1..p5 and a 50-task Label Studio export: 30 good tasks, 10 image tasks (no
    # text: an error in a text project), 5 that repeat the ids of tasks 1-5, and 5 whose ids are p1..p5
    project = make_project()
    item_bulk_create(
        project=project, rows=[{"external_id": f"p{k}", "text": f"earlier {k}"} for k in range(1, 6)]
    )
    tasks = [{"id": i, "data": {"text": f"task number {i}"}} for i in range(1, 31)]
    tasks += [{"id": i, "data": {"image": f"/data/{i}.png"}} for i in range(31, 41)]
    tasks += [{"id": i, "data": {"text": f"again {i}"}} for i in range(1, 6)]
    tasks += [{"id": 40 + k, "data": {"external_id": f"p{k}", "text": f"p text {k}"}} for k in range(1, 6)]
    assert len(tasks) == 50
    # When it is imported
    job, listed, _ = import_through_the_api(worker, api, project, "ls.json", json.dumps(tasks).encode())
    # Then 50 rows = 30 created + 5 duplicates + 15 errors, and the errors are tasks 31-45
    result = listed["result"]
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (result["format"], result["rows"], result["created"], result["duplicates"], result["errors"]) == (
        "labelstudio",
        50,
        30,
        5,
        15,
    )
    assert [row["line"] for row in result["report"]] == list(range(31, 46))
    assert listed["outcome"] == "completed_with_errors"


def test_a_file_whose_every_row_is_bad_fails_and_keeps_its_report(worker, api):
    # Given a CSV whose three rows all name an unknown gold label
    project = make_project()
    data = b"external_id,text,gold_label\nb1,one,maybe\nb2,two,maybe\nb3,three,maybe\n"
    # When it is imported
    job, listed, _ = import_through_the_api(worker, api, project, "allbad.csv", data)
    # Then nothing could be used: the import failed, says why, keeps the per-row report and leaves no batch
    assert job.status == JobStatus.FAILED
    assert job.error == (
        "None of the 3 rows could be imported: Unknown gold label 'maybe'; known: neg, neutral, pos."
    )
    assert listed["outcome"] == "failed" and [row["line"] for row in listed["result"]["report"]] == [2, 3, 4]
    assert (listed["result"]["rows"], listed["result"]["errors"]) == (3, 3)
    assert not ImportBatch.objects.filter(project=project).exists()
