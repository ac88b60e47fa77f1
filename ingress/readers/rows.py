"""Row types every ingress reader yields, and the record → row mapping they share.

A reader yields ``RawRow`` for a row that can be stored and ``RowError`` for one that cannot; a file-level
problem (missing required column, broken archive, binary content) is a ``FileError`` (a ``RowError``), followed
by the end of the stream, so the caller has a single thing to report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Column / key names with a meaning; everything else is metadata (see ``row_from_record``).
KNOWN_KEYS: frozenset[str] = frozenset(
    {"external_id", "text", "file", "file_url", "tags", "gold_label", "metadata"}
)
TAG_SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One importable row. ``line`` is the 1-based physical line (CSV/JSONL), element index (JSON) or member
    ordinal / manifest line (zip). ``external_id`` is None when the source had none; the caller picks one."""

    line: int
    external_id: str | None
    text: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    file_url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    gold_label: str | None = None
    # A Label Studio task's annotations and predictions (``ingress.readers.labelstudio_parts.LsTask``), or None.
    labelstudio: Any = None


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read or stored, with the reason in the file author's words."""

    line: int
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class FileError(RowError):
    """The file, or the rest of it, cannot be read: the reader yields this last and stops. ``line`` is where
    reading stopped; ``message`` is written for the person who made the file."""


class UnknownFormatError(ValueError):
    """Raised by ``detect_format`` when neither the name nor the first bytes identify a supported format."""


def split_tags(value: Any) -> list[str]:
    """Tags from a ``;``-separated string or a list of strings; blanks dropped, order and case kept."""
    if value is None:
        return []
    parts = value if isinstance(value, list) else str(value).split(TAG_SEPARATOR)
    return [str(p).strip() for p in parts if str(p).strip()]


def contains_nul(value: Any) -> bool:
    """True when ``value`` is a string holding U+0000, or a dict/list with such a key or item at any depth.

    PostgreSQL stores neither a NUL in text columns nor ``\\u0000`` in jsonb: a row holding one would fail the
    whole insert (a bulk call, an import chunk) instead of only itself.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (not Python's type names)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return "a string" if isinstance(value, str) else "another value"


def nul_message(field_name: str) -> str:
    return f"{field_name} contains a NUL character."


def without_nul(row: RawRow) -> RawRow | RowError:
    """``row``, or a ``RowError`` on its first field holding a NUL character (see ``contains_nul``)."""
    # One probe over every string field and tag: this runs for each row of an import, and almost none has a NUL.
    if not row.metadata:
        try:
            probe = "".join(
                s
                for s in (row.external_id, row.text, row.file_name, row.file_url, row.gold_label, *row.tags)
                if s is not None
            )
        except TypeError:  # a field that is not a string: check field by field below
            probe = "\x00"
        if "\x00" not in probe:
            return row
    for name, value in (
        ("external_id", row.external_id),
        ("text", row.text),
        ("file", row.file_name),
        ("file_url", row.file_url),
        ("metadata", row.metadata),
        ("tags", row.tags),
        ("gold_label", row.gold_label),
    ):
        if contains_nul(value):
            return RowError(row.line, name, nul_message(name))
    return row


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def row_from_record(record: Mapping[str, Any], *, line: int, parse_metadata_json: bool) -> RawRow | RowError:
    """Map a flat record (CSV row, JSONL object, manifest row) onto a ``RawRow``.

    Metadata is every key outside ``KNOWN_KEYS``, then the ``metadata`` key merged over it: a JSON object
    string when ``parse_metadata_json`` (CSV), a dict otherwise (JSON). A ``metadata`` value that is not an
    object gives a ``RowError`` for that row, and so does a NUL character in any field (``without_nul``).
    ``text`` is kept verbatim, even when empty: emptiness is a profiling flag, not an import error.
    """
    metadata: dict[str, Any] = {k: v for k, v in record.items() if k not in KNOWN_KEYS and k is not None}
    raw_meta = record.get("metadata")
    if raw_meta not in (None, ""):
        if parse_metadata_json and isinstance(raw_meta, str):
            try:
                raw_meta = json.loads(raw_meta)
            except json.JSONDecodeError as exc:
                return RowError(line, "metadata", f"metadata is not valid JSON: {exc.msg} at char {exc.pos}")
        if not isinstance(raw_meta, dict):
            return RowError(line, "metadata", "metadata must be a JSON object")
        metadata.update(raw_meta)
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        return RowError(line, "text", f"text must be a string, got {json_kind(text)}")
    tags = record.get("tags")
    if tags is not None and not isinstance(tags, str | list):
        return RowError(line, "tags", "tags must be a ';'-separated string or a list of strings")
    return without_nul(
        RawRow(
            line=line,
            external_id=_optional_str(record.get("external_id")),
            text=text,
            file_name=_optional_str(record.get("file")),
            file_url=_optional_str(record.get("file_url")),
            metadata=metadata,
            tags=split_tags(tags),
            gold_label=_optional_str(record.get("gold_label")),
        )
    )


class SeenIds:
    """Remembers external ids of one file in bounded memory (8-byte digests), so a later duplicate is
    reported. A digest collision would need ~4e9 ids to be likely; files are far smaller."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def check(self, row: RawRow | RowError) -> RawRow | RowError:
        """Return ``row`` unchanged, or a ``RowError`` when its external id already appeared in the file."""
        if isinstance(row, RowError) or row.external_id is None:
            return row
        key = hashlib.blake2b(row.external_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        if key in self._seen:
            return RowError(
                row.line, "external_id", f"duplicate external_id {row.external_id!r} in this file"
            )
        self._seen.add(key)
        return row
