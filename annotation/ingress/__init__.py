"""Streaming import readers (pure: no Django). Each reader yields ``RawRow`` or ``RowError`` items."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Literal

from annotation.ingress.csvreader import read_csv
from annotation.ingress.jsonreader import read_json_array, read_jsonl
from annotation.ingress.labelstudio import read_labelstudio
from annotation.ingress.rows import FileError, RawRow, RowError, UnknownFormatError
from annotation.ingress.zipreader import ZipLimits, read_zip

Format = Literal["csv", "jsonl", "json", "labelstudio", "zip"]
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_LS_DATA = re.compile(r'^\s*\[\s*\{.*?"data"\s*:\s*\{', re.S)

__all__ = [
    "FileError",
    "Format",
    "RawRow",
    "RowError",
    "UnknownFormatError",
    "ZipLimits",
    "detect_format",
    "read_csv",
    "read_json_array",
    "read_jsonl",
    "read_labelstudio",
    "read_zip",
]


def _looks_like_labelstudio(head: str) -> bool:
    """True when the first array element is an object with a ``data`` object (a Label Studio task)."""
    start = head.find("{")
    if start < 0:
        return False
    try:
        first, _ = json.JSONDecoder().raw_decode(head, start)
    except json.JSONDecodeError:
        # The first element did not fit in the sniffed bytes: fall back to its opening keys.
        return bool(_LS_DATA.match(head))
    return isinstance(first, dict) and isinstance(first.get("data"), dict)


_BY_SUFFIX: dict[str, Format] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".zip": "zip",
}


def detect_format(name: str, first_bytes: bytes) -> Format:
    """Format of an upload from its file name and first bytes (a few KiB is enough).

    Content wins over the extension for zip archives and JSON arrays; ``.json`` arrays whose first element
    has a ``data`` object are Label Studio exports. An empty file gets the format its name says, so that the
    import reports it as empty. Raises ``UnknownFormatError`` when nothing matches.
    """
    suffix = PurePosixPath(name.lower()).suffix
    if not first_bytes and suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    if first_bytes.startswith(_ZIP_MAGIC):
        return "zip"
    head = first_bytes.decode("utf-8-sig", errors="ignore").lstrip()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if head.startswith("["):
        return "labelstudio" if _looks_like_labelstudio(head) else "json"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    if head.startswith("{"):
        return "jsonl"
    if suffix == ".zip":
        raise UnknownFormatError(f"{name!r} has a .zip name but is not a zip archive")
    raise UnknownFormatError(
        f"cannot tell the format of {name!r}: expected .csv, .jsonl, .json (array or Label Studio export) or .zip"
    )
