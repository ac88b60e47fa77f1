"""Streaming JSONL and JSON-array readers.

Both take the same keys as the CSV columns (``external_id``, ``text``, ``file_url``, ``tags`` as a list or a
``;``-separated string, ``gold_label``, ``metadata`` as an object); any other key becomes metadata.
JSONL survives a bad line (reported with its line number). A JSON array whose *syntax* breaks cannot be
resynchronised, so the error ends the stream; elements read before it are kept.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from ingress.readers.rows import FileError, RawRow, RowError, SeenIds, json_kind, row_from_record
from ingress.readers.textstream import CHUNK_BYTES, LineStream

DEFAULT_MAX_RECORD_CHARS = 8 * 1024 * 1024
_WS = " \t\r\n"


def _record_to_row(obj: Any, *, line: int) -> RawRow | RowError:
    if not isinstance(obj, dict):
        return RowError(line, None, f"expected a JSON object, got {json_kind(obj)}")
    record = dict(obj)
    if record.get("external_id") is None and record.get("id") is not None:
        record["external_id"] = record.pop("id")
    return row_from_record(record, line=line, parse_metadata_json=False)


def read_jsonl(
    stream: BinaryIO, *, max_record_chars: int = DEFAULT_MAX_RECORD_CHARS
) -> Iterator[RawRow | RowError]:
    """Yield a row or error per non-blank line of a JSON Lines stream (binary; encoding as in CSV).

    A line that is not valid JSON, not an object, longer than ``max_record_chars`` or repeats an external id
    gives a ``RowError`` with its line number; the next line is read normally. A file that is not text is one
    ``FileError``. Raises nothing for content.
    """
    seen = SeenIds()
    lines = LineStream(stream, max_line_chars=max_record_chars)
    if lines.not_text:
        yield FileError(1, None, lines.not_text)
        return
    for number, text, oversized in lines:
        if oversized:
            yield RowError(number, None, f"line is longer than {max_record_chars} characters")
            continue
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RowError(number, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        yield seen.check(_record_to_row(obj, line=number))


class JsonArraySyntaxError(ValueError):
    """The array's structure is broken at element ``index`` (1-based)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def iter_json_array(stream: BinaryIO, *, max_record_chars: int = DEFAULT_MAX_RECORD_CHARS) -> Iterator[Any]:
    """Yield the elements of a top-level JSON array one at a time, holding at most one element (plus a
    read chunk) in memory.

    Raises ``JsonArraySyntaxError`` when the top level is not an array, the syntax breaks, or one element
    exceeds ``max_record_chars``.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    parser = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False
    index = 0

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = stream.read(CHUNK_BYTES)
        eof = not chunk
        try:
            buf = buf[pos:] + decoder.decode(chunk, final=eof)
        except UnicodeDecodeError as exc:
            raise JsonArraySyntaxError(
                index + 1, "The file is not UTF-8 text; a JSON file must be UTF-8."
            ) from exc
        pos = 0
        return True

    def skip_ws() -> bool:
        """Advance past whitespace; False at end of input."""
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            if pos < len(buf):
                return True
            if not fill():
                return False

    if not skip_ws() or buf[pos] != "[":
        raise JsonArraySyntaxError(0, "The file is not a JSON array: it must start with '['.")
    pos += 1
    if skip_ws() and buf[pos] == "]":
        return
    while True:
        index += 1
        if not skip_ws():
            raise JsonArraySyntaxError(index, "unexpected end of input inside the array")
        while True:
            try:
                value, end = parser.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if len(buf) - pos > max_record_chars:
                    raise JsonArraySyntaxError(
                        index, f"element {index} exceeds {max_record_chars} characters"
                    ) from exc
                if fill():
                    continue
                raise JsonArraySyntaxError(index, f"invalid JSON in element {index}: {exc.msg}") from exc
            # A value that ends exactly at the buffer end may be a cut number or literal; read on to be sure.
            if end >= len(buf) and fill():
                continue
            break
        if end - pos > max_record_chars:
            raise JsonArraySyntaxError(index, f"element {index} exceeds {max_record_chars} characters")
        pos = end
        yield value
        if not skip_ws():
            raise JsonArraySyntaxError(index, "unexpected end of input: the array is not closed")
        if buf[pos] == "]":
            return
        if buf[pos] != ",":
            raise JsonArraySyntaxError(index, f"expected ',' or ']' after element {index}, got {buf[pos]!r}")
        pos += 1


def read_json_array(
    stream: BinaryIO, *, max_record_chars: int = DEFAULT_MAX_RECORD_CHARS
) -> Iterator[RawRow | RowError]:
    """Yield a row or error per element of a top-level JSON array of objects (``line`` = 1-based index).

    A non-object element or a repeated external id is a ``RowError`` for that element; a syntax error ends
    the stream with one ``FileError`` (elements before it were already yielded). Raises nothing for content.
    """
    seen = SeenIds()
    index = 0
    try:
        for index, obj in enumerate(iter_json_array(stream, max_record_chars=max_record_chars), start=1):
            yield seen.check(_record_to_row(obj, line=index))
    except JsonArraySyntaxError as exc:
        yield FileError(exc.index, None, str(exc))
