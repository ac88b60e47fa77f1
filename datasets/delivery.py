"""Export downloads as files with a known digest.

A response's ``Repr-Digest`` must be the sha256 of the bytes it carries, which a stream cannot announce before
it has been generated. So an export is written once to a file (chunk by chunk, hashing as it goes: memory stays
bounded) and then served with its digest and length. A version is immutable and its exports are reproducible
(stored lines, fixed zip timestamps), so the file is cached per version, format and split (and the few
mutable things an export shows, such as the project's name) and later downloads are plain file reads; the Label Studio export holds this server's absolute URLs, so it is written per request
to a file deleted as soon as it is opened. The cache is disposable: deleting the directory costs only the time
to regenerate. ``EXPORT_REVISION`` is part of every cached name; bump it when an exporter's output changes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import FileResponse
from django.utils.text import slugify

from datasets.exporters import FORMATS, canonical_json
from datasets.models import DatasetVersion
from kinds.registry import kind_for

EXPORT_REVISION = "r2"
# The Label Studio export holds signed media links made per request; its config follows the project's imports.
REQUEST_DEPENDENT = {"labelstudio", "labelstudio-config"}


@dataclass(frozen=True)
class ExportFile:
    """An export written out: ``handle`` is open for reading at offset 0; ``sha256`` the digest of its bytes."""

    handle: object
    sha256: bytes
    size: int
    filename: str
    content_type: str


def export_filename(*, version: DatasetVersion, fmt: str, split: str | None) -> str:
    extension = FORMATS[fmt][1]
    return f"{slugify(version.project.name) or 'project'}-v{version.number}-{split or 'all'}.{extension}"


def export_chunks(
    *, version: DatasetVersion, fmt: str, split: str | None, base_url: str = ""
) -> Iterator[bytes]:
    """The export's bytes as a stream (the zip always holds every split)."""
    return kind_for(version.project).export_part.stream(
        fmt=fmt, version=version, split=split, base_url=base_url
    )


def cache_dir() -> Path:
    configured = getattr(settings, "LABELGATE_EXPORT_CACHE_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "export-cache"


def _write(chunks: Iterator[bytes], directory: Path) -> tuple[str, bytes, int]:
    """Write the chunks to a new temporary file in ``directory``; ``(path, sha256, size)``."""
    digest, size = hashlib.sha256(), 0
    handle, path = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as target:
            for chunk in chunks:
                digest.update(chunk)
                target.write(chunk)
                size += len(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, digest.digest(), size


def _fingerprint(version: DatasetVersion) -> str:
    # Everything an export reads besides the frozen entries: a renamed project or version, or a database
    # restored under the same ids, never serves an older file.
    project = version.project
    identity = [
        EXPORT_REVISION,
        version.pk,
        version.checksum,
        version.created_at.isoformat(),
        version.name,
        project.pk,
        project.name,
        project.task_type,
        version.label_schema,
    ]
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:24]


def export_file_open(
    *, version: DatasetVersion, fmt: str, split: str | None, base_url: str = ""
) -> ExportFile:
    """The export as an open file with its sha256, generated on first use (see the module docstring).

    ``split`` is ignored for the zip. Raises OSError when the cache directory cannot be written.
    """
    split = None if fmt == "zip" else split
    filename = export_filename(version=version, fmt=fmt, split=split)
    content_type = FORMATS[fmt][0]
    directory = cache_dir() / str(version.pk)
    directory.mkdir(parents=True, exist_ok=True)
    if fmt in REQUEST_DEPENDENT:
        path, sha, size = _write(
            export_chunks(version=version, fmt=fmt, split=split, base_url=base_url), directory
        )
        handle = open(path, "rb")  # noqa: SIM115 - closed by the response
        os.unlink(path)  # the open handle keeps the bytes readable; nothing is left behind
        return ExportFile(handle=handle, sha256=sha, size=size, filename=filename, content_type=content_type)
    # The digest is in the cached file's name, so one atomic rename publishes the bytes and their digest
    # together, and concurrent first downloads each write their own partial file and the last rename wins.
    stem = f"{fmt}-{split or 'all'}-{_fingerprint(version)}"
    for cached in directory.glob(f"{stem}.*"):
        handle = open(cached, "rb")  # noqa: SIM115 - closed by the response
        sha = bytes.fromhex(cached.name.rsplit(".", 1)[1])
        return ExportFile(
            handle=handle,
            sha256=sha,
            size=os.fstat(handle.fileno()).st_size,
            filename=filename,
            content_type=content_type,
        )
    path, sha, size = _write(export_chunks(version=version, fmt=fmt, split=split), directory)
    final = directory / f"{stem}.{sha.hex()}"
    os.replace(path, final)
    return ExportFile(
        handle=open(final, "rb"), sha256=sha, size=size, filename=filename, content_type=content_type
    )  # noqa: SIM115


def repr_digest(sha256: bytes) -> str:
    """RFC 9530 ``Repr-Digest`` value: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(sha256).decode()}:"


def export_response(
    *, version: DatasetVersion, fmt: str, split: str | None, base_url: str = ""
) -> FileResponse:
    """A download response: the export's bytes, their ``Repr-Digest``, and the version's own checksum apart."""
    export = export_file_open(version=version, fmt=fmt, split=split, base_url=base_url)
    response = FileResponse(
        export.handle, content_type=export.content_type, as_attachment=True, filename=export.filename
    )
    response["Content-Length"] = str(export.size)
    response["Repr-Digest"] = repr_digest(export.sha256)
    # The version's checksum is the sha256 of its full JSONL export, whatever this response holds.
    response["X-Dataset-Checksum"] = version.checksum
    response["X-Dataset-Version"] = str(version.number)
    return response
