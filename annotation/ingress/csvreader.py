"""Streaming CSV reader: header check, encoding fallback, per-row errors, bounded memory.

Columns: ``external_id``, ``text``, ``file_url``, ``tags`` (``;``-separated), ``gold_label`` and an optional
``metadata`` column holding a JSON object; every other column becomes a metadata key (the JSON column is
merged over them). Header names are stripped and matched case-insensitively for those known names.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from annotation.ingress.rows import KNOWN_KEYS, RawRow, RowError, SeenIds, row_from_record
from annotation.ingress.textstream import LineStream

DEFAULT_MAX_FIELD_CHARS = 1_000_000
DEFAULT_MAX_ROW_CHARS = 8 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")


def _ensure_csv_field_limit(limit: int) -> None:
    # csv.field_size_limit is process-wide (default 131072). It is only ever raised here, to the row cap,
    # so the csv module never raises on a field this reader would accept; the real per-field limit is
    # checked below, per row, with the column named.
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _guess_delimiter(header_line: str) -> str:
    counts = [header_line.count(d) for d in _DELIMITERS]
    best = max(range(len(_DELIMITERS)), key=counts.__getitem__)
    return _DELIMITERS[best] if counts[best] else ","


def read_csv(
    stream: BinaryIO,
    *,
    required_columns: Sequence[str] = ("text",),
    delimiter: str | None = None,
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
    max_row_chars: int = DEFAULT_MAX_ROW_CHARS,
) -> Iterator[RawRow | RowError]:
    """Yield one ``RawRow`` or ``RowError`` per data row of a CSV file read from a binary stream.

    Preconditions: ``stream`` is opened in binary mode; ``max_field_chars <= max_row_chars``.
    ``delimiter`` None guesses among ``, ; TAB |`` from the header line. A missing required column or an
    unreadable header yields one ``RowError`` (line 1) and ends the stream; a field over
    ``max_field_chars``, a physical line over ``max_row_chars``, a wrong field count, bad metadata JSON or a
    repeated ``external_id`` yields a ``RowError`` for that row and reading goes on. Nothing is raised for
    bad content; I/O errors from ``stream`` propagate.
    """
    _ensure_csv_field_limit(max_row_chars)
    lines = LineStream(stream, max_line_chars=max_row_chars)
    line_iter = iter(lines)
    first = next(line_iter, None)
    if first is None:
        yield RowError(1, None, "the file is empty: a header row is required")
        return
    _, header_text, oversized = first
    if oversized:
        yield RowError(1, None, f"the header row is longer than {max_row_chars} characters")
        return
    sep = delimiter or _guess_delimiter(header_text)
    try:
        raw_header = next(csv.reader([header_text], delimiter=sep))
    except csv.Error as exc:
        yield RowError(1, None, f"unreadable header row: {exc}")
        return
    header = [h.strip().lstrip("\ufeff") for h in raw_header]
    header = [h.lower() if h.lower() in KNOWN_KEYS else h for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        yield RowError(1, None, f"duplicate column names in header: {', '.join(duplicated)}")
        return
    missing = [c for c in required_columns if c not in header]
    if missing:
        yield RowError(
            1, missing[0], f"missing required column(s): {', '.join(missing)}; found: {', '.join(header)}"
        )
        return

    pending: list[RowError] = []
    row_start: list[int] = [0]

    def feed() -> Iterator[str]:
        for number, text, too_long in line_iter:
            if too_long:
                pending.append(_oversized_error(number, text, header, sep, max_row_chars))
                continue
            if row_start[0] == 0:
                row_start[0] = number
            yield text

    reader = csv.reader(feed(), delimiter=sep)
    seen = SeenIds()
    width = len(header)
    while True:
        row_start[0] = 0
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from _drain(pending)
            yield RowError(row_start[0] or lines.lines_read, None, f"malformed CSV row: {exc}")
            continue
        yield from _drain(pending)
        line = row_start[0]
        if not fields or (len(fields) == 1 and not fields[0].strip() and width > 1):
            continue  # blank line
        if len(fields) != width:
            yield RowError(line, None, f"expected {width} fields, got {len(fields)}")
            continue
        big = next((i for i, v in enumerate(fields) if len(v) > max_field_chars), None)
        if big is not None:
            yield RowError(
                line, header[big], f"field is {len(fields[big])} characters, over the {max_field_chars} limit"
            )
            continue
        yield seen.check(
            row_from_record(dict(zip(header, fields, strict=True)), line=line, parse_metadata_json=True)
        )
    yield from _drain(pending)


def _drain(pending: list[RowError]) -> Iterator[RowError]:
    yield from pending
    pending.clear()


def _oversized_error(line: int, prefix: str, header: list[str], sep: str, limit: int) -> RowError:
    # Parsing the kept prefix tells which column the over-long value started in.
    try:
        index = len(next(csv.reader([prefix], delimiter=sep))) - 1
    except (csv.Error, StopIteration):
        index = -1
    column = header[index] if 0 <= index < len(header) else None
    return RowError(line, column, f"row is longer than {limit} characters (a field is too large)")
