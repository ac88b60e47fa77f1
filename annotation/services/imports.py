"""File imports as jobs: save the upload, then stream it row by row into items, chunk by chunk.

``import_start`` (in the request) checks the format from the first bytes, saves the upload under
``MEDIA_ROOT/imports/`` through the default storage and creates the Job. ``import_run`` (in the worker) reads
the file with a streaming reader from ``annotation.ingress``, profiles and hashes each row, and inserts chunks of
at most ``CHUNK_ROWS`` rows / ``CHUNK_BYTES`` of content: one query for the external ids already present, the
chunk's media files written to the default storage, then one COPY (PostgreSQL; ``bulk_create`` elsewhere) for
the items and one ``bulk_create`` for their tag rows, in one transaction.
Memory stays flat whatever the file size. At the end it recomputes project-wide duplicate groups and stores
the batch's profile summary and drift sentences. On PostgreSQL, text imports write their chunks on a second
thread (``_ChunkWriter``) while the job's thread reads the next one, in file order, one transaction per chunk.

Idempotent: a re-import, or a retried job, finds the rows already there (by external id) and creates nothing
twice; a retried job reuses its own ImportBatch. A chunk that fails to insert removes the files it wrote.
"""

import functools
import json
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, models, transaction
from django.utils import timezone

from annotation import ingress
from annotation.ingress import FileError, RawRow, RowError
from annotation.job_kinds import IMPORT_JOB
from annotation.models import ImportBatch, Item, ItemStatus, ItemTag, Project, TaskType
from annotation.profiling_hooks import summary_builder, thresholds_for
from annotation.services import items as item_services
from annotation.services.batch_summaries import bulk_batches_summarise
from annotation.services.media_rows import MediaRowError, media_item, read_import_file
from annotation.services.near_duplicates import DUP_FLAGS, near_dup_refresh, text_sketches
from annotation.services.text_rows import text_item_values
from core import jobs
from core.errors import ValidationFailed
from core.models import Job

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
# Media bytes (or text characters) held per chunk before it is inserted: bounds memory for big files.
CHUNK_BYTES = 32 * 1024 * 1024
REPORT_CAP = 1000
DUPLICATE_SAMPLE = 100
SNIFF_BYTES = 64 * 1024
IMPORT_TASK = "annotation.import"


# ---------------------------------------------------------------------------------------------- request side


def import_start(*, project: Project, user, upload: UploadedFile, labelstudio_annotations: str = "annotations",
                 labelstudio_config: str = "", data_key: str = "", labelstudio_users: dict | None = None) -> Job:
    """Save the upload and create the import Job (enqueued after commit).

    Raises ValidationFailed (field ``file``) for a file whose format cannot be told from its name and first
    bytes, and for bad Label Studio options (``labelstudio_options_check``); nothing is stored then. Every other
    problem with the content (an empty or binary file, a missing column) is found by the job, which then ends
    ``failed`` with the reason.
    """
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    try:
        fmt = ingress.detect_format(upload.name or "", head)
    except ingress.UnknownFormatError as exc:
        raise ValidationFailed(str(exc), field="file") from exc
    ls_params = labelstudio_options_check(
        labelstudio_annotations=labelstudio_annotations, labelstudio_config=labelstudio_config, data_key=data_key,
        labelstudio_users=labelstudio_users,
    )
    fmt, zip_params = _zip_kind(fmt, upload)
    upload.seek(0)
    ls_params.update(zip_params)
    original = os.path.basename((upload.name or "upload").replace("\\", "/"))[:200]
    stored = default_storage.save(f"imports/{project.pk}/{uuid.uuid4().hex}/{_safe_name(original)}", upload)
    try:
        with transaction.atomic():
            job = jobs.job_create(
                kind=IMPORT_JOB,
                task_name=IMPORT_TASK,
                project=project,
                params={
                    "upload": stored, "file_name": original, "format": fmt, "size": upload.size, **ls_params,
                },
                user=user,
            )
    except Exception:
        default_storage.delete(stored)
        raise
    return job


def import_local_file(*, project: Project, path: str, user=None, labelstudio_annotations: str = "annotations",
                      labelstudio_config: str = "", data_key: str = "", labelstudio_users: dict | None = None,
                      wrap_context=None) -> Job:
    """Import a local file in this process (shell command, demo seeding): same Job, batch and report as an
    upload, without a broker. ``wrap_context`` may wrap the JobContext (e.g. to draw a progress bar).

    Raises ValidationFailed (field ``file``) for a missing or unrecognised file.
    """
    if not os.path.isfile(path):
        raise ValidationFailed(f"{path} is not a file.", field="file")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        fmt = ingress.detect_format(os.path.basename(path), head)
    except ingress.UnknownFormatError as exc:
        raise ValidationFailed(str(exc), field="file") from exc
    ls_params = labelstudio_options_check(
        labelstudio_annotations=labelstudio_annotations, labelstudio_config=labelstudio_config, data_key=data_key,
        labelstudio_users=labelstudio_users,
    )
    fmt, zip_params = _zip_kind(fmt, path)
    ls_params.update(zip_params)
    # Job.objects.create, not job_create: nothing is enqueued, this process runs the job.
    job = Job.objects.create(
        kind=IMPORT_JOB, task_name=IMPORT_TASK, project=project,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        params={"path": path, "file_name": os.path.basename(path), "format": fmt, "size": os.path.getsize(path),
                **ls_params},
    )
    wrap = wrap_context or (lambda context: context)
    jobs.job_execute(job_id=str(job.pk), work=lambda j, context: import_run(j, wrap(context)))
    job.refresh_from_db()
    return job


LS_ANNOTATIONS_CHOICES = ("annotations", "metadata", "gold")
ZIP_FORMATS = ("zip", "labelstudio_zip")


def _zip_kind(fmt: str, source) -> tuple[str, dict]:
    """``labelstudio_zip`` and the export member's name and format for a zip of a Label Studio export and its
    uploads; the format unchanged otherwise."""
    if fmt != "zip":
        return fmt, {}
    found = ingress.labelstudio_export_in_zip(source)
    if found is None:
        return fmt, {}
    return "labelstudio_zip", {"ls_export_member": found[0], "ls_export_format": found[1]}


def labelstudio_options_check(*, labelstudio_annotations: str, labelstudio_config: str, data_key: str,
                              labelstudio_users: dict | None) -> dict:
    """The Label Studio options as job params. Raises ValidationFailed for an unknown ``labelstudio_annotations``,
    a labelling config that cannot be read (``annotation.ingress.labelstudio.parse_config``), or a user map that
    is not ``{"<Label Studio user id>": "<e-mail>"}``."""
    from annotation.ingress.labelstudio import parse_config

    if labelstudio_annotations not in LS_ANNOTATIONS_CHOICES:
        raise ValidationFailed(
            "labelstudio_annotations must be 'annotations', 'metadata' or 'gold'.", field="labelstudio_annotations"
        )
    params: dict = {"labelstudio_annotations": labelstudio_annotations}
    if labelstudio_config:
        try:
            parse_config(labelstudio_config)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="labelstudio_config") from exc
        params["labelstudio_config"] = labelstudio_config
    if data_key:
        params["data_key"] = data_key.strip().lstrip("$")
    if labelstudio_users:
        if not isinstance(labelstudio_users, dict) or not all(
            isinstance(v, str) and "@" in v for v in labelstudio_users.values()
        ):
            raise ValidationFailed(
                'labelstudio_users must map Label Studio user ids to e-mails: {"1": "ann@example.com"}.',
                field="labelstudio_users",
            )
        params["labelstudio_users"] = {str(k): v.strip() for k, v in labelstudio_users.items()}
    return params


def _safe_name(name: str) -> str:
    from annotation.services.media_rows import storage_file_name

    return storage_file_name(name, "upload")


# ---------------------------------------------------------------------------------------------- worker side


OUTCOME_COMPLETED = "completed"
ROW_AS_A_WHOLE = "row"
OUTCOME_WITH_ERRORS = "completed_with_errors"
OUTCOME_FAILED = "failed"


@dataclass
class ImportReport:
    """Counts of one import. Each row read is counted once in ``rows`` and ends in exactly one of ``created``
    (with ``created_earlier``), ``duplicates`` or ``error_count``."""

    rows: int = 0
    created: int = 0
    created_earlier: int = 0
    duplicates: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    flags: Counter = field(default_factory=Counter)
    routed: int = 0
    file_error: str | None = None

    def error(self, line: int, field_name: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < REPORT_CAP:
            # A problem with the row as a whole (its shape, its quoting) has no column: the report says "row",
            # the user's word, never a framework's internal key.
            self.errors.append({"line": line, "field": field_name or ROW_AS_A_WHOLE, "message": message})

    def duplicate(self, external_id: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_ids) < DUPLICATE_SAMPLE:
            self.duplicate_ids.append(external_id)


@functools.cache
def _item_defaults() -> tuple[tuple[str, object], ...]:
    return tuple((f.attname, f.get_default()) for f in Item._meta.concrete_fields if not f.primary_key)


class _TextRow:
    """A text item to insert, as plain attributes named like ``Item``'s columns. The COPY path reads nothing
    else, and building a model instance per row cost about a fifth of a text import. Columns not given fall back
    to ``Item``'s defaults, held once on the class (never mutated: rows are only serialised), so ``vars(row)``
    names exactly the columns this row sets and the COPY converts the others once per chunk."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)
        self.pk = None

    def to_item(self) -> Item:
        return Item(**{name: getattr(self, name) for name, _ in _item_defaults()})


for _name, _default in _item_defaults():
    setattr(_TextRow, _name, _default)
del _name, _default


@dataclass
class _Pending:
    line: int
    item: Item | _TextRow
    normalised: str | None = None
    size: int = 0
    ls: object = None  # the row's LsTask (annotations, predictions) in a Label Studio import


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
            _discard_empty_batch(job=job)
        except Exception:  # noqa: BLE001 - e.g. the database is gone: the original error is the one to report
            logger.warning("could not remove the empty batch of import job %s", job.pk, exc_info=True)
        raise


def _import_run(job: Job, context: jobs.JobContext) -> dict:
    project = Project.objects.get(pk=job.project_id)
    params = job.params
    report = ImportReport()
    importer = _Importer(
        project=project, batch=ImportBatch.objects.filter(job=job).first(), report=report, job=job,
        source=params.get("file_name") or "upload",
    )
    pipelined = (
        connection.vendor == "postgresql" and not connection.in_atomic_block and project.task_type == TaskType.TEXT
    )
    writer = _ChunkWriter(importer) if pipelined else None
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
            _store_summary(batch=batch, summary=importer.summary.build(), flags=report.flags,
                           n_duplicates=report.duplicates, n_errors=report.error_count)
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
        "near_duplicates": near_duplicates,
        "drift": [finding["sentence"] for finding in drift],
    }
    if importer.labelstudio is not None:
        result["labelstudio"] = importer.labelstudio.report.as_dict()
    if params.get("upload"):
        default_storage.delete(params["upload"])  # streamed in full; a retry after this point has nothing to redo
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


def _discard_empty_batch(*, job: Job) -> None:
    ImportBatch.objects.filter(job=job).exclude(
        models.Exists(Item.objects.filter(batch_id=models.OuterRef("pk")))
    ).delete()


def _batch_open_for_job(*, job: Job, project: Project, source: str) -> ImportBatch:
    with transaction.atomic():
        batch = item_services.batch_open(project=project, source=source)
        batch.job = job
        batch.save(update_fields=["job"])
    return batch


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


def _rows(params: dict, project: Project, stream, path: str | None, total: int) -> Iterator[tuple[RawRow | RowError, float]]:
    """Rows of the file with the fraction of it read so far."""
    fmt = params["format"]
    if fmt in ZIP_FORMATS:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                members = max(1, len(archive.infolist()))
        except (zipfile.BadZipFile, OSError):
            members = 1  # the readers report the unreadable archive in words

        if fmt == "zip":
            reader = ingress.read_zip(path)
        else:
            # About one upload per task: the member count is a fair denominator for progress.
            reader = ingress.read_labelstudio_zip(
                path, member=params["ls_export_member"], fmt=params["ls_export_format"],
                options=_ls_options(params, project),
            )
        for count, row in enumerate(reader, start=1):
            yield row, min(1.0, count / members)
        return
    counted = _Counting(stream)
    if fmt == "csv":
        reader = ingress.read_csv(counted, required_columns=_required_columns(project))
    elif fmt == "jsonl":
        reader = ingress.read_jsonl(counted)
    elif fmt == "json":
        reader = ingress.read_json_array(counted)
    elif fmt == "labelstudio_min":
        reader = ingress.read_labelstudio_min(counted, options=_ls_options(params, project))
    elif fmt == "labelstudio_csv":
        reader = ingress.read_labelstudio_csv(counted, options=_ls_options(params, project))
    else:
        reader = ingress.read_labelstudio(counted, options=_ls_options(params, project))
    for row in reader:
        yield row, min(1.0, counted.read_bytes / max(total, 1))


LS_FORMATS = ("labelstudio", "labelstudio_min", "labelstudio_csv", "labelstudio_zip")


def _ls_options(params: dict, project: Project):
    from annotation.ingress.labelstudio import LsOptions, parse_config

    config = parse_config(params["labelstudio_config"]) if params.get("labelstudio_config") else None
    return LsOptions(
        data_key=params.get("data_key") or (config.data_key if config else None),
        control=config.control if config else None,
        media=project.task_type != TaskType.TEXT,
        labels=frozenset(item_services.label_values(project=project)),
        users=params.get("labelstudio_users") or {},
        # Jobs queued before annotations could be imported kept them as metadata.
        annotations_as=params.get("labelstudio_annotations", "metadata"),
    )


def _required_columns(project: Project) -> tuple[str, ...]:
    return ("text",) if project.task_type == TaskType.TEXT else ("file_url",)


class _Importer:
    """Turns rows into items and inserts them chunk by chunk."""

    def __init__(self, *, project: Project, batch: ImportBatch | None, report: ImportReport, job: Job, source: str):
        self.project = project
        # None until the first insert opens it, so a file with nothing to insert leaves no batch behind.
        self.batch = batch
        self.job = job
        self.source = source
        self.report = report
        self.labels = item_services.label_values(project=project)
        self.thresholds = thresholds_for(project)
        self.pending: list[_Pending] = []
        self.pending_bytes = 0
        self.summary = summary_builder()
        # Content-derived ids (rows without external_id) of this run: identical rows collapse to one item.
        self.derived_ids: set[bytes] = set()
        self.labelstudio = None
        if job.params.get("format") in LS_FORMATS:
            from annotation.services.labelstudio_import import LabelStudioMerger

            self.labelstudio = LabelStudioMerger(project=project)
        # Task ids of this Label Studio file already taken: a later row of the same task merges into the item.
        self.ls_seen: set[str] = set()

    def full(self) -> bool:
        return len(self.pending) >= CHUNK_ROWS or self.pending_bytes >= CHUNK_BYTES

    def add(self, row: RawRow) -> None:
        try:
            pending = self._prepare(row)
        except MediaRowError as exc:
            self.report.error(row.line, exc.field, exc.message)
            return
        pending.ls = row.labelstudio
        self.pending.append(pending)
        self.pending_bytes += pending.size

    def _prepare(self, row: RawRow) -> _Pending:
        tags, tag_error = item_services.clean_tags(row.tags)
        if tag_error:
            raise MediaRowError("tags", tag_error)
        gold, gold_error = item_services.gold_value(project=self.project, raw=row.gold_label, label_values=self.labels)
        if gold_error:
            raise MediaRowError("gold_label", gold_error)
        external_id = (row.external_id or "").strip()
        if len(external_id) > 255:
            raise MediaRowError("external_id", "external_id is longer than 255 characters.")
        if self.project.task_type == TaskType.TEXT:
            if row.text is None and row.file_bytes is not None:
                raise MediaRowError("file", "This is a text project: a zip needs a manifest.csv with a text column.")
            return self._text(row, external_id, tags, gold)
        if row.file_bytes is not None:
            data, name = row.file_bytes, row.file_name
        elif row.file_url and self.labelstudio is not None:
            from annotation.services.labelstudio_import import labelstudio_media_read

            data, name = labelstudio_media_read(row.file_url)
        elif row.file_url:
            data, name = read_import_file(row.file_url)
        else:
            raise MediaRowError("file_url", "An image/audio row needs a file (file_url, or a zip member).")
        item = media_item(
            project=self.project, external_id=external_id or "pending", data=data, file_name=name,
            metadata=row.metadata, tags=tags, gold=gold, text=row.text or "",
        )
        if not external_id:
            item.external_id = f"sha256:{item.sha256[:32]}"  # content-derived: a re-import finds it again
        return _Pending(line=row.line, item=item, size=len(data))

    def _text(self, row: RawRow, external_id: str, tags: list[str], gold: object) -> _Pending:
        if row.text is None:
            raise MediaRowError("text", "text is required for a text project.")
        values, normalised = text_item_values(
            project=self.project, external_id=external_id, text=row.text, metadata=row.metadata, tags=tags,
            gold=gold, thresholds=self.thresholds,
        )
        return _Pending(line=row.line, item=_TextRow(**values), normalised=normalised, size=len(row.text))

    def take(self) -> list[_Pending]:
        """The rows added since the last call, to be passed to ``write``. Text rows get their MinHash sketches
        here, on the reading thread: the writer thread is the slower of the two (it waits on the database), so
        numpy work moved off it shortens the import."""
        pending, self.pending, self.pending_bytes = self.pending, [], 0
        if self.project.task_type == TaskType.TEXT and pending:
            for p, sketch in zip(pending, text_sketches([p.normalised or "" for p in pending]), strict=True):
                p.item.minhash = sketch
                p.normalised = None  # not needed past here; chunks waiting for the writer hold less
        return pending

    def write(self, pending: list[_Pending]) -> None:
        """Insert the rows of ``pending`` not in the project yet (one transaction) and count them in the report."""
        if not pending:
            return
        item_services.item_statistics_refresh_if_stale()  # keeps the lookup below an index probe as the table grows
        existing = item_services.existing_owners(project=self.project, external_ids=[p.item.external_id for p in pending])
        fresh: list[_Pending] = []
        merging: list[tuple[_Pending, bool]] = []
        for p in pending:
            owner = existing.get(p.item.external_id, 0)
            if p.ls is not None:
                if p.item.external_id in self.ls_seen:
                    self.report.duplicate(p.item.external_id)  # a task's later rows: merged into its item
                    self.labelstudio.report.tasks_merged += 1
                    merging.append((p, False))
                    continue
                self.ls_seen.add(p.item.external_id)
                merging.append((p, owner == 0))
            if p.item.external_id.startswith("sha256:"):
                digest = bytes.fromhex(p.item.external_id[7:23])
                if digest in self.derived_ids:
                    self.report.duplicate(p.item.external_id)  # the same content earlier in this file
                    continue
                self.derived_ids.add(digest)
            if owner == 0:
                fresh.append(p)
            elif self.batch is not None and owner == self.batch.pk:
                self.report.created_earlier += 1  # inserted by an earlier attempt of this job
            else:
                self.report.duplicate(p.item.external_id)
        if fresh:
            self._write_fresh(fresh)
        if merging:
            self._merge_labelstudio(merging)

    def _merge_labelstudio(self, merging: list[tuple[_Pending, bool]]) -> None:
        """Annotations and predictions of Label Studio rows, onto their new or existing items."""
        ids = dict(
            Item.objects.filter(project=self.project, external_id__in={p.item.external_id for p, _ in merging})
            .values_list("external_id", "pk")
        )
        self.labelstudio.merge(tasks=[
            (ids[p.item.external_id], p.ls, is_new) for p, is_new in merging if p.item.external_id in ids
        ])

    def _write_fresh(self, fresh: list[_Pending]) -> None:
        if self.batch is None:
            self.batch = _batch_open_for_job(job=self.job, project=self.project, source=self.source)
        items = [p.item for p in fresh]
        for item in items:
            item.batch_id = self.batch.pk
        self._insert(items)
        self.report.created += len(items)
        for item in items:
            self.summary.add(item.profile)
            self.report.flags.update(item.flags)
            self.report.routed += item.status == ItemStatus.NEEDS_REVIEW

    def _insert(self, items: list[Item]) -> None:
        written: list[str] = []
        try:
            with transaction.atomic():
                for item in items:
                    if not item.file or item.file._committed:
                        continue
                    # Names are content-addressed (sha256 in the path): a file that a crashed attempt or an
                    # identical item already wrote is reused rather than copied.
                    name = item.file.field.generate_filename(item, item.file.name)
                    if default_storage.exists(name):
                        item.file.name = name
                        item.file._committed = True
                    else:
                        item.file.save(item.file.name, item.file.file, save=False)
                        written.append(item.file.name)
                _items_insert_fast(project=self.project, items=items)
        except Exception:
            for name in written:
                default_storage.delete(name)
            raise


class _ChunkWriter:
    """Writes chunks on a thread of its own (with its own database connection) while the job's thread reads and
    profiles the next chunk, so PostgreSQL's work on one chunk (COPY, index updates, the foreign-key checks at
    commit) overlaps Python's work on the next. At most one chunk waits, so memory grows by one chunk at most.

    Each chunk is still one transaction, written in file order, so a crash leaves whole chunks and a retry
    finds them (see the module docstring). The first error stops the writing: ``put`` and ``close`` raise it,
    and later chunks are dropped unwritten. Used only on PostgreSQL outside a transaction: a thread's
    connection would not see rows of an uncommitted outer transaction.
    """

    SWITCH_INTERVAL = 0.0002  # s; the writer waits on the socket often and must get the GIL back promptly

    def __init__(self, importer: "_Importer") -> None:
        self.importer = importer
        self.queue: queue.Queue[list[_Pending] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self.previous_interval, self.SWITCH_INTERVAL))
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        self.importer.write(chunk)
                    except BaseException as exc:  # noqa: BLE001 - handed to the job's thread by put/close
                        self.error = exc
        finally:
            connection.close()

    def put(self, chunk: list[_Pending]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for every chunk put so far to be written (or dropped after an error); then raise the error."""
        self.queue.put(None)
        self.thread.join()
        sys.setswitchinterval(self.previous_interval)
        if raise_error and self.error is not None:
            raise self.error


def _items_insert_fast(*, project: Project, items: list[Item]) -> None:
    """Insert items and their tag rows. On PostgreSQL the items go through COPY, several times faster than a
    multi-row INSERT with tens of thousands of parameters, with ids reserved from the sequence first.
    Preconditions: inside a transaction; ``items`` have distinct external ids not yet in the project, and
    their files are already saved.
    """
    if connection.vendor != "postgresql":
        item_services.items_insert(
            project=project, items=[item.to_item() if isinstance(item, _TextRow) else item for item in items]
        )
        return
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    convert = _copy_converters(fields, now=timezone.now())
    table = connection.ops.quote_name(Item._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [Item._meta.pk, *fields])
    with connection.cursor() as cursor:
        # Ids drawn from the table's own sequence up front, so the COPY carries them and nothing is read back.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Item._meta.db_table, Item._meta.pk.column, len(items)],
        )
        for item, (pk,) in zip(items, cursor.fetchall(), strict=True):
            item.pk = pk
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in _copy_rows(items, fields, convert):
                copy.write_row(row)
    if any(item.tags for item in items):
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(ItemTag._meta.db_table)} (project_id, item_id, tag) FROM STDIN"
        ) as copy:
            for item in items:
                for tag in item.tags:
                    copy.write_row((project.pk, item.pk, tag))


def _copy_rows(items: list, fields: list, convert: list) -> Iterator[list]:
    """COPY rows (id first) for ``items``. Text rows that set the same columns share the converted values of
    the columns they leave at their defaults, so only the columns they set are converted per row."""
    shared: tuple[frozenset, list, list] | None = None
    for item in items:
        if not isinstance(item, _TextRow):
            yield [item.pk, *(fn(item) for fn in convert)]
            continue
        own = item.__dict__.keys()
        if shared is None or shared[0] != own:
            names = frozenset(own)
            template = [None, *(fn(item) for fn in convert)]
            varying = [(i + 1, fn) for i, (f, fn) in enumerate(zip(fields, convert, strict=True)) if f.attname in names]
            shared = (names, template, varying)
        row = shared[1].copy()
        row[0] = item.pk
        for index, fn in shared[2]:
            row[index] = fn(item)
        yield row


def _copy_converters(fields: list, *, now) -> list:
    """One function per column turning an Item into its COPY value. Field-generic ``get_db_prep_save`` costs
    ~30 calls per row; the column kinds of Item are few, so each gets its direct conversion."""

    def json_value(attname: str):
        def convert(item) -> str | None:
            value = getattr(item, attname)
            if value is None:
                return None
            if not value and isinstance(value, list | dict):
                return "[]" if isinstance(value, list) else "{}"  # most JSON columns of a new item are empty
            return json.dumps(value)

        return convert

    out = []
    for f in fields:
        if isinstance(f, models.JSONField):
            out.append(json_value(f.attname))
        elif isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            out.append(lambda item, now=now: now)
        elif isinstance(f, models.FileField):
            out.append(lambda item, name=f.attname: getattr(item, name) and getattr(item, name).name or "")
        else:
            out.append(attrgetter(f.attname))
    return out


def _store_summary(*, batch: ImportBatch, summary, flags: dict, n_duplicates: int | None = None,
                   n_errors: int | None = None) -> None:
    from annotation.profiling_hooks import compact_summary, drift_findings

    earlier = list(
        ImportBatch.objects.filter(project_id=batch.project_id, number__lt=batch.number)
        .exclude(summary_state={})
        .order_by("-number")
        .values_list("summary_state", flat=True)[:10]
    )
    fields = {
        "n_created": Item.objects.filter(batch=batch).count(),
        "summary_state": summary.to_dict(),
        "profile_summary": compact_summary(summary, flags),
        "drift": drift_findings(number=batch.number, summary=summary, earlier=earlier),
    }
    if n_duplicates is not None:
        fields["n_duplicates"] = n_duplicates
    if n_errors is not None:
        fields["n_errors"] = n_errors
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def batch_summarise(*, batch: ImportBatch, n_duplicates: int | None = None, n_errors: int | None = None) -> None:
    """Profile summary and drift of a batch read back from its items (streamed, chunk by chunk)."""
    from annotation.profiling_hooks import summary_builder

    builder = summary_builder()
    flags: Counter = Counter()
    rows = Item.objects.filter(batch=batch).order_by("id").values_list("profile", "flags")
    for profile, item_flags in rows.iterator(chunk_size=2000):
        builder.add(profile or {})
        flags.update(flag for flag in item_flags or [] if flag not in DUP_FLAGS)
    _store_summary(batch=batch, summary=builder.build(), flags=flags, n_duplicates=n_duplicates, n_errors=n_errors)
