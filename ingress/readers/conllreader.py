"""CoNLL / BIO files → rows of a span project, each document with its spans as gold (pure: no Django).

A file holds one ``token tag`` line per token (columns split on tabs or spaces; the token is the first column,
the tag the last, any columns between, such as CoNLL-2003's part-of-speech and chunk tags, are ignored) and a
blank line after each document. ``-DOCSTART-`` lines are skipped. Comment lines start with ``#``; ``#
external_id = …`` names the document (Labelgate's own CoNLL export writes it), others are ignored. A document
without one gets the text-derived id every import gives a row without an id.

The text is rebuilt by joining the tokens with single spaces (the original spacing is not in the file), and
the spans are at the offsets of that text: a span runs from the start of its first token to the end of its
last. Tags are BIO (IOB2): ``O``, ``B-<label>`` starts a span, ``I-<label>`` continues the span of that label
before it. An ``I-<label>`` that follows ``O``, another label or nothing starts a span, as ``B-`` would
(IOB1 files write a span's first tag so; seqeval's default reading does the same). Any other tag (``E-``,
``S-``, a bare label) is the document's error, as is a line with a single column.

``line`` of a row is the line of its first token; every document is one row (read = imported + duplicates +
errors in the import's report). Label names are checked by the import, like any gold spans.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from ingress.readers.jsonreader import DEFAULT_MAX_RECORD_CHARS
from ingress.readers.rows import FileError, RawRow, RowError, SeenIds
from ingress.readers.textstream import LineStream

DOCSTART = "-DOCSTART-"
_TAG = re.compile(r"^(?:O|(B|I)-(.+))$")
_EXTERNAL_ID = re.compile(r"^#\s*external_id\s*=\s*(.*?)\s*$")
#: tokens per document: a file without blank lines must not become one document the size of the file
MAX_TOKENS = 100_000


class _Document:
    def __init__(self) -> None:
        self.line = 0
        self.external_id: str | None = None
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.error: RowError | None = None

    def add(self, number: int, columns: list[str]) -> None:
        if self.error is not None:
            return
        if not self.tokens:
            self.line = number
        if len(columns) < 2:
            self.error = RowError(
                number, "tag", f"line {number}: expected a token and its tag, found {columns[0]!r} alone."
            )
            return
        tag = columns[-1]
        if not _TAG.match(tag):
            self.error = RowError(
                number, "tag", f"line {number}: tag {tag!r} is not BIO (O, B-<label> or I-<label>)."
            )
            return
        if len(self.tokens) >= MAX_TOKENS:
            self.error = RowError(
                self.line, "text", f"the document has more than {MAX_TOKENS} tokens (a blank line ends one)."
            )
            return
        self.tokens.append(columns[0])
        self.tags.append(tag)

    def row(self) -> RawRow | RowError:
        if self.error is not None:
            return RowError(self.line or self.error.line, self.error.field, self.error.message)
        text, spans = text_and_spans(self.tokens, self.tags)
        return RawRow(line=self.line, external_id=self.external_id, text=text, gold_label=json.dumps(spans))


def text_and_spans(tokens: list[str], tags: list[str]) -> tuple[str, list[dict]]:
    """The tokens joined with single spaces, and the spans their BIO tags mark at that text's offsets."""
    spans: list[dict] = []
    offset = 0
    current: dict | None = None
    for token, tag in zip(tokens, tags, strict=True):
        start, end = offset, offset + len(token)
        offset = end + 1
        match = _TAG.match(tag)
        prefix, label = (match.group(1), match.group(2)) if match else (None, None)
        if prefix == "I" and current is not None and current["label"] == label:
            current["end"] = end
            continue
        current = None
        if prefix is not None:
            current = {"start": start, "end": end, "label": label}
            spans.append(current)
    return " ".join(tokens), spans


def read_conll(
    stream: BinaryIO, *, max_line_chars: int = DEFAULT_MAX_RECORD_CHARS
) -> Iterator[RawRow | RowError]:
    """Yield a row (or the error that refuses it) per document of a CoNLL/BIO stream; a file that is not text is
    one ``FileError``."""
    lines = LineStream(stream, max_line_chars=max_line_chars)
    if lines.not_text:
        yield FileError(1, None, lines.not_text)
        return
    seen = SeenIds()
    document = _Document()

    def finish() -> Iterator[RawRow | RowError]:
        nonlocal document
        if document.tokens or document.error is not None:
            yield seen.check(document.row())
        document = _Document()

    for number, text, oversized in lines:
        if oversized:
            document.error = document.error or RowError(
                number, None, f"line {number} is longer than {max_line_chars} characters."
            )
            continue
        stripped = text.strip()
        if not stripped:
            yield from finish()
            continue
        if stripped.startswith("#"):
            match = _EXTERNAL_ID.match(stripped)
            if match and not document.tokens:
                document.external_id = match.group(1)
            continue
        columns = stripped.split()
        if columns[0] == DOCSTART:
            yield from finish()
            continue
        document.add(number, columns)
    yield from finish()
