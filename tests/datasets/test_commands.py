"""Management commands: export_dataset and verify_dataset_checksums (which catches tampering)."""

import hashlib
import io

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from datasets.models import DatasetEntry
from tests.datasets.builders import freeze, labelled_items
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 5, "neg": 3})
    return freeze(project)


def test_export_dataset_writes_the_canonical_jsonl_and_other_formats(version, tmp_path):
    target = tmp_path / "all.jsonl"
    call_command("export_dataset", str(version.pk), "--output", str(target), stderr=io.StringIO())
    assert hashlib.sha256(target.read_bytes()).hexdigest() == version.checksum
    call_command(
        "export_dataset",
        str(version.pk),
        "--format",
        "parquet",
        "--split",
        "train",
        "-o",
        str(tmp_path / "t.parquet"),
        stderr=io.StringIO(),
    )
    assert len(pd.read_parquet(tmp_path / "t.parquet")) == version.split_counts["train"]


def test_export_dataset_rejects_an_unknown_version(version):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_dataset", "999999")


def test_verify_reports_ok_for_untouched_versions(version):
    out = io.StringIO()
    call_command("verify_dataset_checksums", stdout=out)
    assert (
        f"v{version.number} (id {version.pk}): ok" in out.getvalue()
        and "1 versions verified." in out.getvalue()
    )


def _tamper(entry: DatasetEntry) -> None:
    """Change an entry behind the immutability trigger's back (an operator with DDL rights could)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE datasets_datasetentry DISABLE TRIGGER datasets_entry_immutable")
        else:
            cursor.execute("DROP TRIGGER datasets_entry_immutable")
        cursor.execute(
            "UPDATE datasets_datasetentry SET line = replace(line, '\"pos\"', '\"neg\"') WHERE id = %s",
            [entry.pk],
        )


def test_verify_fails_loudly_when_an_entry_was_tampered_with(version):
    # Given an entry changed by going around the database trigger (the test transaction rolls the DDL back)
    _tamper(DatasetEntry.objects.filter(version=version, label="pos").first())
    out = io.StringIO()
    # When verified
    with pytest.raises(CommandError, match="1 of 1 versions failed verification"):
        call_command("verify_dataset_checksums", str(version.pk), stdout=out)
    # Then the mismatch is named
    assert "MISMATCH" in out.getvalue()


def test_verify_names_missing_versions(version):
    with pytest.raises(CommandError, match="Only 1 of the 2 versions"):
        call_command("verify_dataset_checksums", str(version.pk), "999999", stdout=io.StringIO())
