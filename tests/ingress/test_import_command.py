"""The ``labelgate_import`` management command: a local file imported from the shell as an import Job."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotation.models import Item
from core.models import Job, JobStatus
from ingress.job_kinds import IMPORT_JOB
from ingress.models import ImportBatch
from tests.factories import make_project

pytestmark = pytest.mark.django_db

CSV = (
    b"external_id,text,gold_label\n"
    b"c1,Great product,pos\n"
    b"c2,Broken on arrival,maybe\n"  # unknown gold label
    b"c3,Too,many,fields\n"
    b"c4,Fine I guess,\n"
)


def run_command(*args) -> str:
    out = StringIO()
    call_command("labelgate_import", *map(str, args), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_csv_with_good_and_bad_rows_imports_the_good_ones_and_prints_the_report(media_roots):
    # Given a project and a CSV on disk with two good rows and two bad ones
    project = make_project()
    path = media_roots["tmp"] / "reviews.csv"
    path.write_bytes(CSV)
    # When it is imported from the shell, recording a user as the job's creator
    output = run_command(project.pk, path, "--user", project.created_by.username)
    # Then the good rows land in one batch and the output gives the counts and every bad row's line and field
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {"c1", "c4"}
    assert Item.objects.get(project=project, external_id="c1").gold_label == "pos"
    job = Job.objects.get(project=project, kind=IMPORT_JOB)
    assert job.status == JobStatus.SUCCEEDED and job.created_by == project.created_by
    assert job.params["file_name"] == "reviews.csv" and "upload" not in job.params
    assert f"4 rows: 2 created, 0 duplicates, 2 errors, 0 routed to review (batch 1, job {job.pk})." in output
    assert "  line 3: gold_label: Unknown gold label 'maybe'" in output
    assert "  line 4: row: expected 3 fields, got 4" in output
    assert [(row["line"], row["field"]) for row in job.result["report"]] == [
        (3, "gold_label"),
        (4, "row"),
    ]
    assert ImportBatch.objects.get(project=project).job_id == job.pk
    # And the file is read in place, not copied into MEDIA_ROOT
    assert not (media_roots["media"] / "imports").exists()


def test_running_the_same_file_again_creates_nothing_twice(media_roots):
    # Given a file already imported once
    project = make_project()
    path = media_roots["tmp"] / "reviews.csv"
    path.write_bytes(CSV)
    run_command(project.pk, path)
    # When the command runs again on the same file
    output = run_command(project.pk, path)
    # Then the rows are reported as duplicates and nothing new is stored
    assert "4 rows: 0 created, 2 duplicates, 2 errors, 0 routed to review (no new batch" in output
    assert Item.objects.filter(project=project).count() == 2
    assert Job.objects.filter(project=project, kind=IMPORT_JOB, status=JobStatus.SUCCEEDED).count() == 2


def test_unknown_project_is_a_clear_error(media_roots):
    path = media_roots["tmp"] / "reviews.csv"
    path.write_bytes(CSV)
    with pytest.raises(CommandError, match=r"^No project with id 987654\.$"):
        run_command(987654, path)
    assert not Job.objects.exists()


def test_missing_file_is_a_clear_error(media_roots):
    project = make_project()
    missing = media_roots["tmp"] / "nowhere.csv"
    with pytest.raises(CommandError, match="nowhere.csv is not a file"):
        run_command(project.pk, missing)
    assert not Job.objects.filter(project=project).exists()


def test_unknown_user_is_a_clear_error(media_roots):
    project = make_project()
    path = media_roots["tmp"] / "reviews.csv"
    path.write_bytes(CSV)
    with pytest.raises(CommandError, match=r"^No user named ghost\.$"):
        run_command(project.pk, path, "--user", "ghost")
    assert not Item.objects.filter(project=project).exists()
