"""File imports as jobs, the worker side: stream the saved file row by row into items, chunk by chunk.

``import_run`` reads the file with a streaming reader from ``ingress.readers``; ``RowImporter``
(``ingress.services.import_rows``) profiles and hashes each row and hands chunks of at most ``CHUNK_ROWS`` rows /
``CHUNK_BYTES`` of content to ``annotation.services.item_create``, which writes the chunk's media files, the
items and their tag rows in one transaction. Memory stays flat whatever the file size. At the end it recomputes
project-wide duplicate groups and stores the batch's profile summary and drift sentences. On PostgreSQL, text
imports write their chunks on a second thread (``ChunkWriter``) while the job's thread reads the next one, in
file order, one transaction per chunk.

Idempotent: a re-import, or a retried job, finds the rows already there (by external id) and creates nothing
twice; a retried job reuses its own ImportBatch. A chunk that fails to insert removes the files it wrote.
"""

import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import connection

from annotation.models import Project
from annotation.selectors import label_choices
from core import jobs
from core.models import Job
from ingress import readers
from ingress.models import ImportBatch
from ingress.readers import FileError, RawRow, RowError
from ingress.readers.labelstudio_config import parse_config
from ingress.readers.labelstudio_parts import LsOptions
from ingress.services.batch_summaries import bulk_batches_summarise
from ingress.services.batches import batch_discard_if_empty, batch_summarise, batch_summary_store
from ingress.services.chunk_writer import ChunkWriter
from ingress.services.import_report import ImportReport
from ingress.services.import_rows import RowImporter
from ingress.services.near_duplicates import near_dup_refresh
from kinds.registry import item_media, kind_for

logger = logging.getLogger(__name__)

ZIP_FORMATS = ("zip", "labelstudio_zip")
OUTCOME_COMPLETED = "completed"
OUTCOME_WITH_ERRORS = "completed_with_errors"
OUTCOME_FAILED = "failed"


class _Counting:
    """A binary stream wrapper that counts the bytes read, for progress."""

    def __init__(self, raw):
        self.raw = raw
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.read_bytes += len(data)
        return data


def import_run(job: Job, context: jobs.JobContext) -> dict:
    """Work function of the ``annotation.import`` task (see module docstring). Returns the job result.

    Raises ``jobs.JobFailed`` (the job ends ``failed`` with the reason) when the file cannot be read at all,
    holds no rows, or none of its rows could be used. A batch is opened by the first insert only, and an
    import that ends with a batch without items (a crash between the two) removes it.
    """
    try:
        return _import_run(job, context)
    except BaseException:
        try:
            batch_discard_if_empty(job=job)
        except Exception:  # noqa: BLE001 - e.g. the database is gone: the original error is the one to report
            logger.warning("could not remove the empty batch of import job %s", job.pk, exc_info=True)
        raise


def _import_run(job: Job, context: jobs.JobContext) -> dict:
    project = Project.objects.get(pk=job.project_id)
    params = job.params
    report = ImportReport()
    importer = RowImporter(
        project=project,
        batch=ImportBatch.objects.filter(job=job).first(),
        report=report,
        job=job,
        source=params.get("file_name") or "upload",
    )
    pipelined = (
        connection.vendor == "postgresql" and not connection.in_atomic_block and item_media(project) == "text"
    )
    writer = ChunkWriter(importer) if pipelined else None
    write = writer.put if writer else importer.write
    try:
        with _opened(params) as (stream, path, total):
            if not total:
                raise jobs.JobFailed(f"{_file_name(params)} is empty (0 bytes).")
            for row, fraction in _rows(params, project, stream, path, total):
                if isinstance(row, FileError) and not report.rows:
                    raise jobs.JobFailed(row.message)
                report.rows += 1
                if isinstance(row, FileError):
                    # After some rows, a file error is the row where reading stopped: counted and reported.
                    report.file_error = row.message
                if isinstance(row, RowError):
                    report.error(row.line, row.field, row.message)
                else:
                    importer.add(row)
                if importer.full():
                    write(importer.take())
                    context.progress(0.9 * fraction, f"{report.rows} rows read, {report.created} created")
            write(importer.take())
    except BaseException:
        if writer:
            writer.close(raise_error=False)  # the reading error is the one to report
        raise
    if writer:
        writer.close()
    batch = importer.batch
    n_created, drift, near_duplicates = 0, [], {}
    if batch is not None:
        context.progress(0.92, "finding duplicates")
        near_duplicates = near_dup_refresh(project=project)
        context.progress(0.97, "summarising the batch")
        # A retried job created some items in an earlier attempt: summarise the batch from the database then.
        if report.created_earlier:
            batch_summarise(batch=batch, n_duplicates=report.duplicates, n_errors=report.error_count)
        else:
            batch_summary_store(
                batch=batch,
                summary=importer.summary.build(),
                flags=report.flags,
                n_duplicates=report.duplicates,
                n_errors=report.error_count,
            )
        batch.refresh_from_db(fields=["n_created", "drift"])
        n_created, drift = batch.n_created, batch.drift
    # Bulk-API batches not summarised yet, in bulk; other imports' batches are left to their own (running) job.
    bulk_batches_summarise(project=project)
    result = {
        "batch": batch.number if batch is not None else None,
        "format": params.get("format"),
        "file_name": params.get("file_name"),
        "outcome": OUTCOME_WITH_ERRORS if report.error_count else OUTCOME_COMPLETED,
        "rows": report.rows,
        "created": n_created,
        "duplicates": report.duplicates,
        "errors": report.error_count,
        "file_error": report.file_error,
        "report": report.errors,
        "report_truncated": report.error_count > len(report.errors),
        "duplicate_ids": report.duplicate_ids,
        "flags": dict(report.flags),
        "routed_to_review": report.routed,
        "gold": report.gold,
        "near_duplicates": near_duplicates,
        "drift": [finding["sentence"] for finding in drift],
    }
    if importer.labelstudio is not None:
        ls_report = importer.labelstudio.report
        annotations_as = params.get("labelstudio_annotations", "metadata")
        if annotations_as != "annotations":
            # The annotations became gold labels or metadata on the rows, so the merger saw no task: each row
            # read without an error is one task.
            ls_report.tasks = ls_report.records = report.rows - report.error_count
        result["labelstudio"] = {**ls_report.as_dict(), "annotations_as": annotations_as}
    if params.get("upload"):
        default_storage.delete(
            params["upload"]
        )  # streamed in full; a retry after this point has nothing to redo
    unusable = _nothing_usable(report, n_created=n_created, params=params)
    if unusable:
        raise jobs.JobFailed(unusable, result={**result, "outcome": OUTCOME_FAILED, "batch": None})
    return result


def _nothing_usable(report: ImportReport, *, n_created: int, params: dict) -> str | None:
    """Why an import that read the whole file still failed (no row in it, or no row that could be used), or
    None. A file whose rows are all in the project already succeeded: re-importing a file is safe."""
    if not report.rows:
        what = "files" if params.get("format") in ZIP_FORMATS else "rows"
        return f"{_file_name(params)} holds no {what} to import."
    if n_created or report.duplicates:
        return None
    messages = {row["message"] for row in report.errors}
    if len(messages) == 1 and report.error_count == len(report.errors):
        return f"None of the {report.rows} rows could be imported: {messages.pop()}"
    return f"None of the {report.rows} rows could be imported; the row report gives the reason for each."


def _file_name(params: dict) -> str:
    return str(params.get("file_name") or "The file")


@contextmanager
def _opened(params: dict) -> Iterator[tuple[object, str | None, int]]:
    """(binary stream or None, local path for zip or None, total bytes) of the job's file.

    ``upload`` is a storage name (API/UI uploads); ``path`` a local file given on the command line.
    A zip needs random access, so a storage without local paths is copied to a temporary file first.
    """
    fmt = params["format"]
    if params.get("path"):
        path = params["path"]
        total = os.path.getsize(path)
        if fmt in ZIP_FORMATS:
            yield None, path, total
        else:
            with open(path, "rb") as handle:
                yield handle, None, total
        return
    name = params["upload"]
    if not default_storage.exists(name):
        raise jobs.JobFailed(f"{_file_name(params)} is no longer stored on the server; upload it again.")
    total = default_storage.size(name)
    if fmt not in ZIP_FORMATS:
        with default_storage.open(name, "rb") as handle:
            yield handle, None, total
        return
    try:
        yield None, default_storage.path(name), total
    except NotImplementedError:
        with tempfile.NamedTemporaryFile(suffix=".zip") as copy, default_storage.open(name, "rb") as handle:
            shutil.copyfileobj(handle, copy, 1024 * 1024)
            copy.flush()
            yield None, copy.name, total


def _rows(
    params: dict, project: Project, stream, path: str | None, total: int
) -> Iterator[tuple[RawRow | RowError, float]]:
    """Rows of the file with the fraction of it read so far."""
    fmt = params["format"]
    if fmt in ZIP_FORMATS:
        try:
            with zipfile.ZipFile(path) as archive:
                members = max(1, len(archive.infolist()))
        except (zipfile.BadZipFile, OSError):
            members = 1  # the readers report the unreadable archive in words

        if fmt == "zip":
            kind = kind_for(project)
            gold_files = kind.part("gold_files").GoldFiles() if kind.gold_files else None
            reader = readers.read_zip(path, gold_files=gold_files)
        else:
            # About one upload per task: the member count is a fair denominator for progress.
            reader = readers.read_labelstudio_zip(
                path,
                member=params["ls_export_member"],
                fmt=params["ls_export_format"],
                options=_ls_options(params, project),
            )
        for count, row in enumerate(reader, start=1):
            yield row, min(1.0, count / members)
        return
    counted = _Counting(stream)
    if fmt == "csv":
        reader = readers.read_csv(counted, required_columns=_required_columns(project))
    elif fmt == "jsonl":
        reader = readers.read_jsonl(counted)
    elif fmt == "json":
        reader = readers.read_json_array(counted)
    elif fmt == "conll":
        reader = readers.read_conll(counted)
    elif fmt == "labelstudio_min":
        reader = readers.read_labelstudio_min(counted, options=_ls_options(params, project))
    elif fmt == "labelstudio_csv":
        reader = readers.read_labelstudio_csv(counted, options=_ls_options(params, project))
    else:
        reader = readers.read_labelstudio(counted, options=_ls_options(params, project))
    for row in reader:
        yield row, min(1.0, counted.read_bytes / max(total, 1))


def _ls_options(params: dict, project: Project):
    config = parse_config(params["labelstudio_config"]) if params.get("labelstudio_config") else None
    return LsOptions(
        data_key=params.get("data_key") or (config.data_key if config else None),
        control=config.control if config else None,
        media=item_media(project) != "text",
        labels=frozenset(label_choices(project=project)),
        users=params.get("labelstudio_users") or {},
        # Jobs queued before annotations could be imported kept them as metadata.
        annotations_as=params.get("labelstudio_annotations", "metadata"),
        regions=kind_for(project).labelstudio_regions,
    )


def _required_columns(project: Project) -> tuple[str, ...]:
    return ("text",) if item_media(project) == "text" else ("file_url",)
