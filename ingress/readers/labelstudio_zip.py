"""A zip of a Label Studio export and its uploaded files → rows carrying their media bytes.

Label Studio keeps uploads in its media folder as ``upload/<project>/<file>`` and names them in tasks as
``/data/upload/<project>/<file>``. A zip holding one export (JSON, JSON_MIN or CSV, anywhere outside an
``upload/`` folder) and those files imports in one upload: each upload reference is read from the member whose
path, from its ``upload/`` folder on, matches (``upload/2/x.png`` or ``media/upload/2/x.png``). Other references
(http(s) URLs, local paths) stay on the row for the importer to treat as it treats a plain export. Members are
read through ``zipreader``'s guards (unsafe names, symlinks, size and ratio caps).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import PurePosixPath
from typing import IO
from urllib.parse import unquote, urlparse

from ingress.readers.formats import detect_format
from ingress.readers.labelstudio import read_labelstudio
from ingress.readers.labelstudio_min import read_labelstudio_csv, read_labelstudio_min
from ingress.readers.labelstudio_parts import LsOptions
from ingress.readers.rows import FileError, RawRow, RowError, UnknownFormatError
from ingress.readers.zipreader import (
    _ZIP_ERRORS,
    MANIFEST_NAME,
    ZipLimits,
    _CappedStream,
    _is_junk,
    _LimitExceeded,
    _load,
    _open_archive,
    _Reader,
    _TotalExceeded,
    _unreadable_member,
)

LS_EXPORT_FORMATS = ("labelstudio", "labelstudio_min", "labelstudio_csv")
_EXPORT_SUFFIXES = frozenset({".json", ".csv"})
_SNIFF_BYTES = 64 * 1024
_UPLOAD_DIR = "upload"


def _upload_key(path: str) -> str | None:
    """``upload/<project>/<file>`` from a member path or a ``/data/upload/...`` reference, else None."""
    parts = PurePosixPath(path).parts
    if _UPLOAD_DIR not in parts:
        return None
    return "/".join(parts[parts.index(_UPLOAD_DIR) :])


def labelstudio_export_in_zip(source: str | IO[bytes]) -> tuple[str, str] | None:
    """``(member name, export format)`` when the zip holds exactly one Label Studio export outside ``upload/``
    folders and no ``manifest.csv`` (which makes it an ordinary media zip); None otherwise. Raises nothing."""
    try:
        with zipfile.ZipFile(source) as archive:
            infos = [
                i
                for i in archive.infolist()
                if not i.is_dir() and not _is_junk(i.filename.replace("\\", "/"))
            ]
            if any(i.filename.lower() == MANIFEST_NAME for i in infos):
                return None
            candidates = [
                i
                for i in infos
                if PurePosixPath(i.filename).suffix.lower() in _EXPORT_SUFFIXES
                and _upload_key(i.filename) is None
            ]
            if len(candidates) != 1:
                return None
            with archive.open(candidates[0]) as handle:
                head = handle.read(_SNIFF_BYTES)
    except (*_ZIP_ERRORS, ValueError):
        return None
    try:
        fmt = detect_format(candidates[0].filename, head)
    except UnknownFormatError:
        return None
    return (candidates[0].filename, fmt) if fmt in LS_EXPORT_FORMATS else None


def read_labelstudio_zip(
    path: str, *, member: str, fmt: str, options: LsOptions, limits: ZipLimits | None = None
) -> Iterator[RawRow | RowError]:
    """Rows of the export ``member`` (format ``fmt``) with each ``/data/upload/...`` reference replaced by the
    archive's file. A reference the archive lacks, or a member that cannot be read safely, is that row's error;
    an unreadable archive or export, or the archive's total cap, ends the stream with one ``FileError``."""
    limits = limits or ZipLimits()
    archive = _open_archive(path, limits)
    if isinstance(archive, FileError):
        yield archive
        return
    with archive:
        infos = archive.infolist()
        uploads: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            key = None if info.is_dir() else _upload_key(info.filename.replace("\\", "/"))
            if key is not None:
                uploads.setdefault(key, info)
        reader = _Reader(archive, limits)
        try:
            with archive.open(member) as raw:
                stream = _CappedStream(raw, limits.max_member_bytes)
                if fmt == "labelstudio_min":
                    rows = read_labelstudio_min(stream, options=options)  # type: ignore[arg-type]
                elif fmt == "labelstudio_csv":
                    rows = read_labelstudio_csv(stream, options=options)  # type: ignore[arg-type]
                else:
                    rows = read_labelstudio(stream, options=options)  # type: ignore[arg-type]
                for row in rows:
                    if not isinstance(row, RawRow) or not row.file_url:
                        yield row
                        continue
                    key = _upload_key(unquote(urlparse(row.file_url).path))
                    if key is None:
                        yield row
                        continue
                    info = uploads.get(key)
                    if info is None:
                        yield RowError(
                            row.line, "file_url", f"{row.file_url} is not in the archive (no {key} in it)."
                        )
                        continue
                    try:
                        data = _load(reader, info, row.line, info.filename)
                    except _TotalExceeded as exc:
                        yield FileError(
                            row.line,
                            "file",
                            f"{exc}; task {row.external_id} and the ones after it were not read.",
                        )
                        return
                    if isinstance(data, RowError):
                        yield data
                        continue
                    yield replace(
                        row, file_url=None, file_bytes=data, file_name=PurePosixPath(info.filename).name
                    )
        except _LimitExceeded:
            yield FileError(0, "file", f"{member} is larger than {limits.max_member_bytes} bytes.")
        except _ZIP_ERRORS as exc:
            yield FileError(0, "file", f"{member} {_unreadable_member(exc)}")
