"""Zip of images/audio → rows, with zip-slip, symlink and zip-bomb guards.

With a root ``manifest.csv`` (columns ``file``, optional ``external_id``, ``tags``, ``gold_label``,
``metadata`` JSON and any other metadata columns), each manifest row names one member; members the manifest
does not list are not imported. Without a manifest, each media member is a row whose external id is its
path inside the archive. Every member is read with a byte cap counted on the *decompressed* stream, so a
header that lies about sizes cannot get past the limits.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO, Protocol

from ingress.readers.csvreader import read_csv
from ingress.readers.rows import FileError, RawRow, RowError, SeenIds

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif"})
MANIFEST_NAME = "manifest.csv"
_READ_CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Caps for one archive. ``max_ratio`` applies only to members over ``ratio_floor_bytes``: small, highly
    compressible files (text, blank icons) are harmless."""

    max_members: int = 200_000
    max_member_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024
    max_manifest_bytes: int = 128 * 1024 * 1024


class _LimitExceeded(Exception):
    pass


class _CappedStream:
    """Read-only binary wrapper that raises ``_LimitExceeded`` past ``cap`` bytes."""

    def __init__(self, raw: BinaryIO, cap: int) -> None:
        self._raw, self._cap, self._read = raw, cap, 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size if size >= 0 else self._cap + 1)
        self._read += len(data)
        if self._read > self._cap:
            raise _LimitExceeded(f"manifest is larger than {self._cap} bytes")
        return data


def unsafe_member_reason(name: str) -> str | None:
    """Why a member name must not be used (absolute, drive-qualified or ``..`` path), or None if safe."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        return f"absolute path {name!r} in archive"
    if ".." in PurePosixPath(posix).parts:
        return f"path {name!r} escapes the archive ('..')"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return name.startswith("__MACOSX/") or (bool(parts) and parts[-1].startswith("."))


def _is_media(name: str) -> bool:
    suffix = PurePosixPath(name).suffix.lower()
    return suffix in IMAGE_EXTENSIONS or suffix in AUDIO_EXTENSIONS


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, limits: ZipLimits) -> None:
        self.archive, self.limits, self.total = archive, limits, 0

    def read_member(self, info: zipfile.ZipInfo) -> bytes:
        """Member bytes; raises ``_LimitExceeded`` (member) or ``_TotalExceeded`` (archive) or zip errors."""
        lim = self.limits
        if info.file_size > lim.max_member_bytes:
            raise _LimitExceeded(
                f"member declares {info.file_size} bytes, over the {lim.max_member_bytes} limit"
            )
        ratio_cap = max(lim.ratio_floor_bytes, int(lim.max_ratio * max(info.compress_size, 1)))
        if info.file_size > ratio_cap:
            raise _LimitExceeded(f"compression ratio over {lim.max_ratio:g} (possible zip bomb)")
        cap = min(lim.max_member_bytes, ratio_cap)
        parts: list[bytes] = []
        size = 0
        with self.archive.open(info) as handle:
            while chunk := handle.read(_READ_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise _LimitExceeded(f"member decompresses past {cap} bytes (possible zip bomb)")
                if self.total + size > lim.max_total_bytes:
                    raise _TotalExceeded(
                        f"The archive decompresses past {lim.max_total_bytes} bytes in total"
                    )
                parts.append(chunk)
        self.total += size
        return b"".join(parts)


class _TotalExceeded(Exception):
    pass


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError)


def _open_archive(path: str, limits: ZipLimits) -> zipfile.ZipFile | FileError:
    """The zip at ``path``, or the ``FileError`` that ends its stream: unreadable, or too many members."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return FileError(0, None, "The file is not a readable zip archive (it is damaged or incomplete).")
    n_members = len(archive.infolist())
    if n_members > limits.max_members:
        archive.close()
        return FileError(
            0, None, f"The archive has {n_members} members, over the limit of {limits.max_members}."
        )
    return archive


class GoldFiles(Protocol):
    """Files beside the media that hold their gold answers, as a task kind reads them (``TaskKind.gold_files``):
    ``add`` and ``gold_for`` raise ValueError with the reason in words."""

    def wants(self, name: str) -> bool: ...

    def add(self, name: str, data: bytes) -> None: ...

    def gold_for(self, name: str, data: bytes) -> str | None: ...


def read_zip(
    path: str, *, limits: ZipLimits = ZipLimits(), gold_files: GoldFiles | None = None
) -> Iterator[RawRow | RowError]:
    """Yield a row per media member (or manifest row) of the zip at ``path``, a ``RowError`` per bad one.

    Unsafe names, symlinks (never followed), over-limit members and undecodable members are errors for
    that row; an unreadable archive, too many members, an over-limit total or a bad manifest end the stream
    with one ``FileError``. Raises nothing for content. Without a manifest, ``gold_files`` (the project's kind's)
    reads the members it wants first and gives each media row its gold label; a file it cannot read, or an
    image it cannot give boxes to, is that member's error.
    """
    archive = _open_archive(path, limits)
    if isinstance(archive, FileError):
        yield archive
        return
    with archive:
        infos = archive.infolist()
        reader = _Reader(archive, limits)
        manifest = next((i for i in infos if i.filename.lower() == MANIFEST_NAME), None)
        rows = (
            _manifest_rows(reader, manifest, infos) if manifest else _member_rows(reader, infos, gold_files)
        )
        seen = SeenIds()
        for row in rows:
            yield seen.check(row)


def _load(reader: _Reader, info: zipfile.ZipInfo, line: int, name: str) -> bytes | RowError:
    reason = unsafe_member_reason(info.filename)
    if reason:
        return RowError(line, "file", reason)
    if _is_symlink(info):
        return RowError(line, "file", f"{name!r} is a symbolic link; links are ignored")
    try:
        return reader.read_member(info)
    except _LimitExceeded as exc:
        return RowError(line, "file", f"{name!r}: {exc}")
    except _ZIP_ERRORS as exc:
        return RowError(line, "file", f"{name} {_unreadable_member(exc)}")


def _load_within_total(
    reader: _Reader, info: zipfile.ZipInfo, line: int, name: str, *, rest: str = "members"
) -> bytes | RowError:
    """The member's bytes, its ``RowError``, or the ``FileError`` that ends the archive when it would take the
    archive past its total-size limit (``rest`` names what is then left unread: members, rows)."""
    try:
        return _load(reader, info, line, name)
    except _TotalExceeded as exc:
        return FileError(line, "file", f"{exc}; {name} and the {rest} after it were not read.")


def _unreadable_member(exc: BaseException) -> str:
    """Why a member could not be read, without the zip module's internals."""
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return "is encrypted (password-protected); zip it again without a password."
    if isinstance(exc, NotImplementedError):
        return "uses a compression method that is not supported; zip it again with the standard (deflate) method."
    return "cannot be decompressed: the archive is damaged."


def _gold_members(reader: _Reader, infos: list[zipfile.ZipInfo], gold_files: GoldFiles) -> Iterator[RowError]:
    """Hand ``gold_files`` the members it wants; yields the errors (a ``FileError`` ends the archive)."""
    for line, info in enumerate(infos, start=1):
        name = info.filename
        if (
            info.is_dir()
            or _is_junk(name.replace("\\", "/"))
            or _is_media(name)
            or not gold_files.wants(name)
        ):
            continue
        data = _load_within_total(reader, info, line, name)
        if isinstance(data, RowError):
            yield data
            if isinstance(data, FileError):
                return
            continue
        try:
            gold_files.add(name, data)
        except ValueError as exc:
            yield RowError(line, "file", f"{name}: {exc}")


def _member_rows(
    reader: _Reader, infos: list[zipfile.ZipInfo], gold_files: GoldFiles | None = None
) -> Iterator[RawRow | RowError]:
    if gold_files is not None:
        for error in _gold_members(reader, infos, gold_files):
            yield error
            if isinstance(error, FileError):
                return
    for line, info in enumerate(infos, start=1):
        name = info.filename
        if info.is_dir() or _is_junk(name.replace("\\", "/")):
            continue
        if not unsafe_member_reason(name) and not _is_media(name):
            if gold_files is None or not gold_files.wants(name):
                yield RowError(line, "file", f"{name!r} is not a supported image or audio file")
            continue
        data = _load_within_total(reader, info, line, name)
        if isinstance(data, RowError):
            yield data
            if isinstance(data, FileError):
                return
            continue
        gold = None
        if gold_files is not None:
            try:
                gold = gold_files.gold_for(name, data)
            except ValueError as exc:
                yield RowError(line, "gold_label", f"Gold: {exc}")
                continue
        yield RawRow(line=line, external_id=name, file_name=name, file_bytes=data, gold_label=gold)


def _manifest_rows(
    reader: _Reader, manifest: zipfile.ZipInfo, infos: list[zipfile.ZipInfo]
) -> Iterator[RawRow | RowError]:
    by_name = {i.filename.replace("\\", "/"): i for i in infos if not i.is_dir()}
    try:
        with reader.archive.open(manifest) as raw:
            capped = _CappedStream(raw, reader.limits.max_manifest_bytes)
            for row in read_csv(capped, required_columns=("file",)):  # type: ignore[arg-type]
                if isinstance(row, FileError):
                    yield FileError(row.line, "manifest", f"manifest.csv: {row.message}")
                    return
                if isinstance(row, RowError):
                    yield row
                    continue
                name = (row.file_name or "").replace("\\", "/")
                info = by_name.get(name)
                if info is None:
                    yield RowError(
                        row.line, "file", f"manifest names {row.file_name!r}, which is not in the archive"
                    )
                    continue
                data = _load_within_total(reader, info, row.line, name, rest="rows")
                if isinstance(data, RowError):
                    yield data
                    if isinstance(data, FileError):
                        return
                    continue
                yield RawRow(
                    line=row.line,
                    external_id=row.external_id or name,
                    text=row.text,
                    file_name=name,
                    file_bytes=data,
                    metadata=row.metadata,
                    tags=row.tags,
                    gold_label=row.gold_label,
                )
    except _LimitExceeded as exc:
        yield FileError(0, "manifest", f"The {exc}.")
    except _ZIP_ERRORS as exc:
        yield FileError(0, "manifest", f"manifest.csv {_unreadable_member(exc)}")
