"""Streaming CSV reader: header check, encoding fallback, per-row errors, bounded memory.

Columns: ``external_id``, ``text``, ``file_url``, ``tags`` (``;``-separated), ``gold_label`` and an optional
``metadata`` column holding a JSON object; every other column becomes a metadata key (the JSON column is
merged over them). Header names are stripped and matched case-insensitively for those known names.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from ingress.readers.rows import KNOWN_KEYS, FileError, RawRow, RowError, SeenIds, row_from_record
from ingress.readers.textstream import LineStream

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
    ``delimiter`` None guesses among ``, ; TAB |`` from the header line (the first non-blank line). A file
    that is not text, has no header, or lacks a required column yields one ``FileError`` and ends the stream.
    Parsing is strict: a quote that is never closed, or a closing quote followed by more characters, is a
    ``RowError`` at the line where the row starts, and the lines it swallowed are read again as rows of their
    own (a quoted field may still span lines). A field over ``max_field_chars``, a physical line over
    ``max_row_chars``, a wrong field count, bad metadata JSON or a repeated ``external_id`` also yield a
    ``RowError`` for that row, and reading goes on. Nothing is raised for bad content; I/O errors from
    ``stream`` propagate.
    """
    _ensure_csv_field_limit(max_row_chars)
    lines = LineStream(stream, max_line_chars=max_row_chars)
    if lines.not_text:
        yield FileError(1, None, lines.not_text)
        return
    line_iter = iter(lines)
    first = next(line_iter, None)
    while first is not None and not first[2] and not first[1].strip():
        first = next(line_iter, None)  # blank lines before the header
    if first is None:
        yield FileError(
            1, None, "The file is empty: a CSV needs a header row naming its columns (such as text)."
        )
        return
    header_line, header_text, oversized = first
    if oversized:
        yield FileError(header_line, None, f"The header row is longer than {max_row_chars} characters.")
        return
    sep = delimiter or _guess_delimiter(header_text)
    try:
        raw_header = next(csv.reader([header_text], delimiter=sep, strict=True))
    except csv.Error as exc:
        yield FileError(
            header_line, None, f"The header row is not valid CSV: {_csv_problem(exc, max_row_chars)}."
        )
        return
    header = [h.strip().lstrip("\ufeff") for h in raw_header]
    header = [h.lower() if h.lower() in KNOWN_KEYS else h for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        yield FileError(
            header_line, None, f"The header row names a column more than once: {', '.join(duplicated)}."
        )
        return
    missing = [c for c in required_columns if c not in header]
    if missing:
        names = " or ".join(f"'{c}'" for c in missing)
        found = ", ".join(h or "(blank)" for h in header)
        yield FileError(header_line, missing[0], f"The CSV has no {names} column. Columns found: {found}.")
        return

    pending: list[RowError] = []
    source = _RecordLines(
        line_iter,
        lambda number, text: pending.append(_oversized_error(number, text, header, sep, max_row_chars)),
    )
    reader = csv.reader(source, delimiter=sep, strict=True)
    seen = SeenIds()
    width = len(header)
    while True:
        source.start_record()
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from _drain(pending)
            # A record that ran over several lines and then broke was opened by a quote on its first line
            # that was not closed there: that is the mistake to name, whatever the parser tripped on later.
            multiline_quote = len(source.record) > 1 and "expected after" in str(exc)
            problem = _UNTERMINATED if multiline_quote else _csv_problem(exc, max_row_chars)
            yield RowError(source.first_line(default=lines.lines_read), None, problem)
            source.replay_after_first()
            continue
        yield from _drain(pending)
        line = source.first_line(default=lines.lines_read)
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


class _RecordLines:
    """The physical lines ``csv.reader`` parses, remembering those of the record in progress: when a record
    turns out malformed (a quote never closed swallows the lines after it), its lines after the first are
    handed out again, so each is read as a row of its own rather than lost inside the bad one."""

    def __init__(self, lines: Iterator[tuple[int, str, bool]], on_oversized) -> None:
        self.lines = lines
        self.on_oversized = on_oversized
        self.replay: deque[tuple[int, str]] = deque()
        self.record: list[tuple[int, str]] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        while True:
            if self.replay:
                number, text = self.replay.popleft()
            else:
                number, text, oversized = next(self.lines)
                if oversized:
                    self.on_oversized(number, text)
                    continue
            self.record.append((number, text))
            return text

    def start_record(self) -> None:
        self.record = []

    def first_line(self, *, default: int) -> int:
        return self.record[0][0] if self.record else default

    def replay_after_first(self) -> None:
        self.replay.extendleft(reversed(self.record[1:]))
        self.record = []


_UNTERMINATED = "unterminated quote: a quoted field starts on this line and is never closed"


def _csv_problem(exc: csv.Error, max_row_chars: int) -> str:
    """The csv module's complaint in the words of someone who edits CSV files."""
    text = str(exc)
    if "unexpected end of data" in text:
        return _UNTERMINATED
    if "expected after" in text:
        return (
            "a closing quote is followed by more characters; inside a quoted field, write a quote as two "
            'quotes ("")'
        )
    if "field larger than field limit" in text:
        return f"row is longer than {max_row_chars} characters (a field is too large)"
    if "new-line character seen in unquoted field" in text:
        return "a line break (carriage return) inside a field that is not quoted"
    if "NUL" in text:
        return "the row contains a NUL character"
    return "this row is not valid CSV"


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
