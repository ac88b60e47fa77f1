"""File imports as jobs, the request side: check the upload, save it, create the Job.

``import_start`` (in the request) checks the format from the first bytes, saves the upload under
``MEDIA_ROOT/imports/`` through the default storage and creates the Job; the worker runs
``ingress.services.import_run.import_run``. ``import_local_file`` runs the same job in this process.
"""

import os
import uuid

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from annotation.models import Project
from core import jobs
from core.errors import ValidationFailed
from core.models import Job
from ingress import readers
from ingress.job_kinds import IMPORT_JOB
from ingress.readers.formats import Format
from ingress.readers.labelstudio_config import parse_config
from ingress.services.import_run import import_run
from ingress.services.media_rows import storage_file_name
from kinds.registry import kind_for

SNIFF_BYTES = 64 * 1024
IMPORT_TASK = "annotation.import"


def import_start(
    *,
    project: Project,
    user,
    upload: UploadedFile,
    labelstudio_annotations: str = "annotations",
    labelstudio_config: str = "",
    data_key: str = "",
    labelstudio_users: dict | None = None,
) -> Job:
    """Save the upload and create the import Job (enqueued after commit).

    Raises ValidationFailed (field ``file``) for a file whose format cannot be told from its name and first
    bytes or that the project cannot take (a CoNLL file outside a span project), and for bad Label Studio options (``labelstudio_options_check``); nothing is stored then. Every other
    problem with the content (an empty or binary file, a missing column) is found by the job, which then ends
    ``failed`` with the reason.
    """
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    try:
        fmt = readers.detect_format(upload.name or "", head)
    except readers.UnknownFormatError as exc:
        raise ValidationFailed(str(exc), field="file") from exc
    _check_fits_project(fmt, project)
    ls_params = labelstudio_options_check(
        labelstudio_annotations=labelstudio_annotations,
        labelstudio_config=labelstudio_config,
        data_key=data_key,
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
                    "upload": stored,
                    "file_name": original,
                    "format": fmt,
                    "size": upload.size,
                    **ls_params,
                },
                user=user,
            )
    except Exception:
        default_storage.delete(stored)
        raise
    return job


def import_local_file(
    *,
    project: Project,
    path: str,
    user=None,
    labelstudio_annotations: str = "annotations",
    labelstudio_config: str = "",
    data_key: str = "",
    labelstudio_users: dict | None = None,
    wrap_context=None,
) -> Job:
    """Import a local file in this process (shell command, demo seeding): same Job, batch and report as an
    upload, without a broker. ``wrap_context`` may wrap the JobContext (e.g. to draw a progress bar).

    Raises ValidationFailed (field ``file``) for a missing or unrecognised file.
    """
    if not os.path.isfile(path):
        raise ValidationFailed(f"{path} is not a file.", field="file")
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        fmt = readers.detect_format(os.path.basename(path), head)
    except readers.UnknownFormatError as exc:
        raise ValidationFailed(str(exc), field="file") from exc
    _check_fits_project(fmt, project)
    ls_params = labelstudio_options_check(
        labelstudio_annotations=labelstudio_annotations,
        labelstudio_config=labelstudio_config,
        data_key=data_key,
        labelstudio_users=labelstudio_users,
    )
    fmt, zip_params = _zip_kind(fmt, path)
    ls_params.update(zip_params)
    # Not job_create: nothing is enqueued, this process runs the job.
    job = jobs.job_record(
        kind=IMPORT_JOB,
        task_name=IMPORT_TASK,
        project=project,
        user=user,
        params={
            "path": path,
            "file_name": os.path.basename(path),
            "format": fmt,
            "size": os.path.getsize(path),
            **ls_params,
        },
    )
    wrap = wrap_context or (lambda context: context)
    jobs.job_execute(job_id=str(job.pk), work=lambda j, context: import_run(j, wrap(context)))
    job.refresh_from_db()
    return job


LS_ANNOTATIONS_CHOICES = ("annotations", "metadata", "gold")


def _check_fits_project(fmt: Format, project: Project) -> None:
    """Raises ValidationFailed (field ``file``) for a CoNLL/BIO file sent to a project whose answers are not
    spans: its every document would be refused for a gold label the project cannot read."""
    # Span kinds are the ones whose Label Studio gold is ``labels`` regions: the answers a BIO file's tags mark.
    if fmt == "conll" and kind_for(project).labelstudio_regions != "labels":
        raise ValidationFailed(
            "A CoNLL/BIO file holds entity spans; import it into a span project (task type text_spans).",
            field="file",
        )


def _zip_kind(fmt: Format, source) -> tuple[Format, dict]:
    """``labelstudio_zip`` and the export member's name and format for a zip of a Label Studio export and its
    uploads; the format unchanged otherwise."""
    if fmt != "zip":
        return fmt, {}
    found = readers.labelstudio_export_in_zip(source)
    if found is None:
        return fmt, {}
    return "labelstudio_zip", {"ls_export_member": found[0], "ls_export_format": found[1]}


def labelstudio_options_check(
    *, labelstudio_annotations: str, labelstudio_config: str, data_key: str, labelstudio_users: dict | None
) -> dict:
    """The Label Studio options as job params. Raises ValidationFailed for an unknown ``labelstudio_annotations``,
    a labelling config that cannot be read (``ingress.readers.labelstudio_config.parse_config``), or a user map that
    is not ``{"<Label Studio user id>": "<e-mail>"}``."""
    if labelstudio_annotations not in LS_ANNOTATIONS_CHOICES:
        raise ValidationFailed(
            "labelstudio_annotations must be 'annotations', 'metadata' or 'gold'.",
            field="labelstudio_annotations",
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
    return storage_file_name(name, "upload")
