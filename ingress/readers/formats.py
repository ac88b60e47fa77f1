"""Telling an upload's format from its name and first bytes (pure: no Django)."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Literal

from ingress.readers.rows import UnknownFormatError

Format = Literal[
    "csv",
    "jsonl",
    "json",
    "labelstudio",
    "labelstudio_min",
    "labelstudio_csv",
    "labelstudio_zip",
    "zip",
    "conll",
]
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_LS_DATA = re.compile(r'^\s*\[\s*\{.*?"data"\s*:\s*\{', re.S)


# Keys every record of a Label Studio JSON_MIN / CSV export carries (one record per annotation).
_LS_MIN_KEYS = frozenset({"id", "annotator", "annotation_id"})
_LS_MIN_HEAD = re.compile(r'^\s*\[\s*\{(?=.*"annotation_id"\s*:)(?=.*"annotator"\s*:)', re.S)


def _labelstudio_kind(head: str) -> Format | None:
    """``labelstudio`` when the first array element is an object with a ``data`` object (a Label Studio task),
    ``labelstudio_min`` when it is a JSON_MIN record (``id``, ``annotator``, ``annotation_id``), else None."""
    start = head.find("{")
    if start < 0:
        return None
    try:
        first, _ = json.JSONDecoder().raw_decode(head, start)
    except json.JSONDecodeError:
        # The first element did not fit in the sniffed bytes: fall back to its opening keys.
        if _LS_DATA.match(head):
            return "labelstudio"
        return "labelstudio_min" if _LS_MIN_HEAD.match(head) else None
    if not isinstance(first, dict):
        return None
    if isinstance(first.get("data"), dict):
        return "labelstudio"
    return "labelstudio_min" if _LS_MIN_KEYS <= first.keys() else None


_BIO_TAG = re.compile(r"^(?:O|[BI]-\S+)$")


def _looks_like_conll(head: str) -> bool:
    """True when the first lines that are not blank or comments are ``token … tag`` lines with BIO tags (or
    ``-DOCSTART-``): a ``.txt`` CoNLL file rather than a one-column CSV."""
    lines = [
        line.split() for line in head.splitlines()[:50] if line.strip() and not line.lstrip().startswith("#")
    ]
    lines = lines[:-1] if len(lines) > 1 else lines  # the last sniffed line may be cut short
    tokens = [cols for cols in lines if cols[0] != "-DOCSTART-"]
    return bool(tokens) and all(len(cols) >= 2 and _BIO_TAG.match(cols[-1]) for cols in tokens)


def _looks_like_labelstudio_csv(head: str) -> bool:
    header = head.splitlines()[0] if head else ""
    columns = {c.strip().strip('"') for c in header.split(",")}
    return _LS_MIN_KEYS <= columns


_BY_SUFFIX: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".zip": "zip",
    ".conll": "conll",
    ".bio": "conll",
    ".iob": "conll",
}


def detect_format(name: str, first_bytes: bytes) -> Format:
    """Format of an upload from its file name and first bytes (a few KiB is enough).

    Content wins over the extension for zip archives and JSON arrays; ``.json`` arrays whose first element
    has a ``data`` object are Label Studio exports, those whose first element has ``id``, ``annotator`` and
    ``annotation_id`` are Label Studio JSON_MIN exports, and so is a CSV whose header names those three.
    ``.conll``, ``.bio`` and ``.iob`` files are CoNLL/BIO, and so is a ``.txt`` whose first lines are ``token …
    tag`` lines with BIO tags. An empty file gets the format its name says, so that the
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
    if suffix in {".conll", ".bio", ".iob"}:
        return "conll"
    if head.startswith("["):
        return _labelstudio_kind(head) or "json"
    if suffix == ".txt" and _looks_like_conll(head):
        return "conll"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "labelstudio_csv" if _looks_like_labelstudio_csv(head) else "csv"
    if head.startswith("{"):
        return "jsonl"
    if suffix == ".zip":
        raise UnknownFormatError(f"{name!r} has a .zip name but is not a zip archive")
    raise UnknownFormatError(
        f"cannot tell the format of {name!r}: expected .csv, .jsonl, .json (array or Label Studio export), "
        ".conll/.bio (token and BIO tag per line) or .zip"
    )
