"""Image/audio rows → new items: content from ``file_b64``, a local ``file_url`` or archive bytes.

The file is attached as an unsaved ``ContentFile``; ``annotation.services.item_create`` writes it to the
default storage with its item, so only rows that are really inserted get a file (a duplicate or rejected row
never leaves one behind). Files that cannot be decoded as the project's media
type (corrupt, empty, decompression bombs, a text file named ``.wav``) are rejected with the decoder's reason.
"""

import base64
import binascii
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.text import get_valid_filename

from annotation.models import ItemStatus, Project
from annotation.services.item_create import NewItem
from core.errors import ValidationFailed
from ingress.profiling_hooks import media_check, routed_to_review
from kinds.registry import item_media, kind_for

MAX_MEDIA_BYTES = 256 * 1024 * 1024
_READ_BLOCK = 1024 * 1024


class MediaRowError(ValueError):
    """A row (media or, in file imports, text) that cannot be stored; ``field`` names the offending input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def import_roots() -> list[Path]:
    return [Path(os.path.realpath(root)) for root in settings.LABELGATE_IMPORT_ROOTS]


def resolve_import_path(file_url: str) -> Path:
    """The real path of a ``file_url`` that lies inside one of ``LABELGATE_IMPORT_ROOTS``.

    Accepts ``file:///abs``, ``/abs`` and paths relative to a root. Symlinks are resolved before the check, so
    a link pointing outside the roots is refused like the outside path itself. Raises MediaRowError
    (field ``file_url``) for remote URLs, paths outside the roots and missing or non-regular files.
    """
    parsed = urlparse(file_url)
    if parsed.scheme in ("http", "https", "ftp", "s3", "gs"):
        raise MediaRowError(
            "file_url",
            "Remote URLs are not fetched; send the bytes as file_b64 or upload a zip to /imports/.",
        )
    if parsed.scheme not in ("", "file") or (
        parsed.scheme == "file" and parsed.netloc not in ("", "localhost")
    ):
        raise MediaRowError("file_url", f"Unsupported file_url scheme '{parsed.scheme}'.")
    raw = unquote(parsed.path) if parsed.scheme == "file" else file_url
    if "\x00" in raw:
        raise MediaRowError("file_url", "file_url contains a NUL byte.")
    roots = import_roots()

    def inside(real: Path) -> bool:
        return any(real == root or real.is_relative_to(root) for root in roots)

    candidates = [Path(raw)] if os.path.isabs(raw) else [root / raw for root in roots]
    resolved = [Path(os.path.realpath(candidate)) for candidate in candidates]
    for real in resolved:
        if inside(real) and real.is_file():
            return real
    # Checked before existence, so a refused path never tells whether something exists there.
    if not any(inside(real) for real in resolved):
        raise MediaRowError(
            "file_url", "file_url points outside the allowed import roots (LABELGATE_IMPORT_ROOTS); refused."
        )
    raise MediaRowError("file_url", f"No file at {file_url!r} inside the allowed import roots.")


def read_import_file(file_url: str, *, max_bytes: int = MAX_MEDIA_BYTES) -> tuple[bytes, str]:
    """(content, base name) of an allowed local file; raises MediaRowError when it is refused or too big."""
    path = resolve_import_path(file_url)
    parts: list[bytes] = []
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_READ_BLOCK):
            size += len(block)
            if size > max_bytes:
                raise MediaRowError("file_url", f"The file is larger than {max_bytes} bytes.")
            parts.append(block)
    return b"".join(parts), path.name


def decode_b64(value: object, *, max_bytes: int = MAX_MEDIA_BYTES) -> bytes:
    if not isinstance(value, str):
        raise MediaRowError("file_b64", "file_b64 must be a base64 string.")
    if len(value) > max_bytes * 4 // 3 + 4:
        raise MediaRowError("file_b64", f"The decoded file would be larger than {max_bytes} bytes.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaRowError("file_b64", f"file_b64 is not valid base64: {exc}") from exc


def storage_file_name(name: str | None, fallback: str) -> str:
    base = PurePosixPath((name or "").replace("\\", "/")).name or fallback
    try:
        cleaned = get_valid_filename(base)
    except Exception:  # noqa: BLE001 - SuspiciousFileOperation for names like '..'
        cleaned = fallback
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(cleaned) > 100:
        cleaned = f"{stem[: 95 - len(suffix)]}.{suffix}"
    return cleaned[:100]


def _gold_fitted(*, project: Project, gold: object, text: str, profile: dict) -> object:
    """The gold answer checked against the media it is about (boxes inside the image), for kinds whose answers
    point into the item (``ValueSchema.fit_to_item``). Raises MediaRowError (field ``gold_label``)."""
    fit_to_item = getattr(kind_for(project).value_schema, "fit_to_item", None)
    if gold is None or fit_to_item is None or not isinstance(gold, list):
        return gold
    try:
        return fit_to_item(value=gold, text=text or "", profile=profile)
    except ValidationFailed as exc:
        raise MediaRowError("gold_label", f"Gold: {exc.message}") from exc


def media_item(
    *,
    project: Project,
    external_id: str,
    data: bytes,
    file_name: str | None,
    metadata: dict,
    tags: list[str],
    gold: object,
    text: str = "",
) -> NewItem:
    """A new item for media bytes. Raises MediaRowError (field ``file``) when they cannot be decoded."""
    from ingress.dedup import sha256_bytes  # lazy: scipy (keeps web/worker startup free of the ML stack)

    media = item_media(project)
    if media == "text":
        raise MediaRowError("file", "This is a text project: rows need text, not files.")
    check = media_check(project=project, data=data, file_name=file_name or "", kind=media)
    if check.error:
        raise MediaRowError("file", check.error)
    gold = _gold_fitted(project=project, gold=gold, text=text, profile=check.profile)
    sha = sha256_bytes(data)
    name = storage_file_name(file_name, f"{sha[:16]}{check.extension}")
    return NewItem(
        project_id=project.pk,
        external_id=external_id,
        text=text or "",
        file=ContentFile(data, name=name),
        file_name=name,
        content_type=check.content_type,
        sha256=sha,
        near_dup_key=check.near_key,
        metadata=metadata,
        tags=tags,
        gold_label=gold,
        is_gold=gold is not None,
        profile=check.profile,
        flags=check.flags,
        status=ItemStatus.NEEDS_REVIEW
        if routed_to_review(project=project, flags=check.flags)
        else ItemStatus.NEW,
        target_annotations=project.annotations_per_item,
    )


def media_item_from_row(
    *,
    project: Project,
    index: int,
    row: dict,
    external_id: str,
    metadata: dict,
    tags: list[str],
    gold: object,
    fail: Callable[[str, str], None],
) -> NewItem | None:
    """Bulk-API row (``file_b64`` or ``file_url``) → a new item, or None after ``fail(field, message)``."""
    try:
        has_b64 = row.get("file_b64") is not None
        has_url = row.get("file_url") not in (None, "")
        if has_b64 and has_url:
            raise MediaRowError("file_b64", "Send either file_b64 or file_url, not both.")
        if has_b64:
            data = decode_b64(row["file_b64"])
            file_name = row.get("file_name") if isinstance(row.get("file_name"), str) else None
        elif isinstance(row.get("file_url"), str) and row["file_url"].strip():
            data, file_name = read_import_file(row["file_url"].strip())
        elif has_url:
            raise MediaRowError("file_url", "file_url must be a string.")
        else:
            raise MediaRowError("file_b64", "An image/audio row needs file_b64 or file_url.")
        given_text = row.get("text")
        text = given_text if isinstance(given_text, str) else ""
        return media_item(
            project=project,
            external_id=external_id,
            data=data,
            file_name=file_name,
            metadata=metadata,
            tags=tags,
            gold=gold,
            text=text,
        )
    except MediaRowError as exc:
        fail(exc.field, exc.message)
        return None
