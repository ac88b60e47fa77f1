"""The pipelined text import (PostgreSQL): a writer thread inserts chunk n while the job's thread reads chunk n+1.

The pipeline only runs outside a transaction (a thread's connection cannot see an uncommitted outer
transaction), so these tests use transactional test cases; the rest of the import suite covers the same
behaviour on the one-thread path. Chunks are made tiny so a small file crosses many of them.
"""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Item, ItemTag
from annotation.services import item_create
from annotation.services.items import existing_owners
from core.models import JobStatus
from ingress.models import ImportBatch
from ingress.services import import_rows, import_run, imports
from tests.factories import add_items, make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def csv_bytes(rows: list[str]) -> bytes:
    return ("\n".join(["external_id,text,tags", *rows]) + "\n").encode()


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(import_rows, "CHUNK_ROWS", 3)


@pytest.fixture
def writer_threads(monkeypatch) -> list[str]:
    """Names of the threads that wrote chunks (proves the pipeline, not the one-thread path, ran)."""
    names: list[str] = []
    original = import_rows.RowImporter.write

    def recording(self, pending):
        names.append(threading.current_thread().name)
        return original(self, pending)

    monkeypatch.setattr(import_rows.RowImporter, "write", recording)
    return names


def test_a_pipelined_import_stores_every_row_once_and_reports_the_bad_ones(
    media_roots, tiny_chunks, writer_threads
):
    # Given a project that already holds r0, and a file of 20 rows across 7 chunks: r0 again, a repeated id,
    # a row with the wrong field count, and a content-derived id repeated under no external id
    project = make_project()
    add_items(project, 1, prefix="r")
    rows = [f"r{i},text number {i},web" for i in range(1, 15)]
    rows += [
        "r0,already there,",
        "r3,same id again,",
        "r15,too,many,fields",
        ",no id at all,",
        ",no id at all,",
    ]
    rows += ["r16,last row,mobile"]
    # When it is imported
    job = run_import(project, "rows.csv", csv_bytes(rows))
    # Then the chunks were written on the writer thread
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert set(writer_threads) == {"import-writer"} and len(writer_threads) >= 6
    # And every good row is stored once, with its tags; the bad ones are reported by line
    stored = dict(Item.objects.filter(project=project).values_list("external_id", "text"))
    expected_ids = {f"r{i}" for i in range(17)} - {"r15"}
    derived = {external_id for external_id in stored if external_id.startswith("sha256:")}
    assert set(stored) - derived == expected_ids and len(derived) == 1
    assert stored["r16"] == "last row" and stored["r0"] == "text number 0"
    assert job.result["created"] == 15 + 1  # r1..r14, r16 and one content-derived item
    assert job.result["duplicates"] == 2  # r0 (earlier import) and the second id-less row (same content)
    assert {row["line"] for row in job.result["report"]} == {17, 18}  # the repeated r3, the 4-field row
    assert ItemTag.objects.filter(item__project=project, tag="web").count() == 14
    batch = ImportBatch.objects.get(project=project, job=job)
    assert batch.n_created == 16 and batch.profile_summary["n_items"] == 16


def test_a_chunk_that_fails_to_insert_ends_the_attempt_and_the_retry_completes_it_without_duplicates(
    media_roots, tiny_chunks, writer_threads, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core import jobs

    # Given an import whose third chunk fails inside the writer thread
    project = make_project()
    calls = {"n": 0}
    original = item_create._rows_insert

    def failing_third(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full while writing chunk 3")
        return original(**kwargs)

    monkeypatch.setattr(item_create, "_rows_insert", failing_third)
    job = imports.import_start(
        project=project,
        user=project.created_by,
        upload=SimpleUploadedFile("rows.csv", csv_bytes([f"r{i},text {i}," for i in range(20)])),
    )
    # When the worker runs it, the writer's error reaches the job's thread (as a crash would end the attempt)
    with pytest.raises(RuntimeError, match="disk full while writing chunk 3"):
        import_run.import_run(job, jobs.JobContext(job))
    # Then only whole chunks before the failing one were stored, by the writer thread
    assert set(writer_threads) == {"import-writer"}
    stored = set(Item.objects.filter(project=project).values_list("external_id", flat=True))
    assert stored == {f"r{i}" for i in range(6)}
    # When the job runs again with the fault gone
    monkeypatch.setattr(item_create, "_rows_insert", original)
    jobs.job_execute(job_id=str(job.pk), work=import_run.import_run)
    job.refresh_from_db()
    # Then every row is stored exactly once, all in the job's one batch
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert Item.objects.filter(project=project).count() == 20
    assert ImportBatch.objects.filter(project=project).count() == 1
    assert job.result["duplicates"] == 0
    assert ImportBatch.objects.get(project=project).n_created == 20


def test_a_reading_error_stops_the_writer_and_is_the_error_reported(media_roots, tiny_chunks, monkeypatch):
    # Given a file whose reading breaks after ten rows (an I/O error on the upload, say)
    project = make_project()
    original_rows = import_run._rows

    def breaking(*args, **kwargs):
        for n, item in enumerate(original_rows(*args, **kwargs)):
            if n == 10:
                raise OSError("upload storage went away")
            yield item

    monkeypatch.setattr(import_run, "_rows", breaking)
    before = {thread.name for thread in threading.enumerate()}
    job = run_import(project, "rows.csv", csv_bytes([f"r{i},text {i}," for i in range(20)]))
    # Then the job reports the reading error, the chunks read before it were written, and no writer is left
    assert job.status == JobStatus.FAILED
    assert "upload storage went away" in job.error
    assert Item.objects.filter(project=project).count() == 9  # three whole chunks of three
    assert "import-writer" not in {thread.name for thread in threading.enumerate()} - before


def flush_statistics() -> None:
    """Make this connection's pending table statistics visible now (PostgreSQL batches them for up to 1 s)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT 1")


def analyze_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relid = 'annotation_item'::regclass"
        )
        return cursor.fetchone()[0]


def test_stale_item_statistics_are_refreshed_and_the_lookup_then_probes_the_unique_index(monkeypatch):
    from annotation.services import items

    # Given statistics taken while the item table was empty, then a project of 10,000 items
    monkeypatch.setattr(items, "STALE_MIN_CHANGES", 1000)
    project = make_project()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_item")
    add_items(project, 10_000, prefix="x")
    flush_statistics()
    before = analyze_count()
    # When the import's check runs, the statistics are stale and get refreshed, once
    assert items.item_statistics_refresh_if_stale() is True
    flush_statistics()
    assert analyze_count() == before + 1
    assert items.item_statistics_refresh_if_stale() is False
    # Then looking up 60 ids gives exactly the present ones with their batch
    wanted = [f"x{i}" for i in range(0, 10_000, 170)] + ["missing-1", "missing-2"]
    with CaptureQueriesContext(connection) as queries:
        owners = existing_owners(project=project, external_ids=wanted)
    batch_ids = dict(Item.objects.filter(project=project).values_list("external_id", "batch_id"))
    assert owners == {external_id: batch_ids[external_id] for external_id in wanted[:-2]}
    # And its plan probes the (project, external_id) unique index instead of scanning the project's items
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_unique_external_id" in plan, plan
    assert "Seq Scan" not in plan and "item_status_idx" not in plan and "project_id_" not in plan, plan


def test_fresh_or_small_changes_do_not_trigger_an_analyze(monkeypatch):
    from annotation.services import items

    # Given current statistics and 300 new items, under the default floor of changes
    project = make_project()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_item")
    add_items(project, 300)
    flush_statistics()
    # Then nothing is analysed
    assert items.item_statistics_refresh_if_stale() is False


def test_every_chunk_of_an_import_checks_the_statistics_before_its_lookup(
    media_roots, tiny_chunks, monkeypatch
):
    from annotation.services import items

    # Given a recorder of the order of statistics checks and lookups
    calls: list[str] = []
    original_check, original_lookup = items.item_statistics_refresh_if_stale, items.existing_owners
    monkeypatch.setattr(
        items, "item_statistics_refresh_if_stale", lambda: calls.append("check") or original_check()
    )
    monkeypatch.setattr(
        items, "existing_owners", lambda **kw: calls.append("lookup") or original_lookup(**kw)
    )
    # When a 9-row file is imported in chunks of three
    job = run_import(make_project(), "rows.csv", csv_bytes([f"r{i},text {i}," for i in range(9)]))
    # Then each chunk checked the statistics right before looking up its ids
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert calls == ["check", "lookup"] * 3
