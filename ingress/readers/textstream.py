"""Decode a binary upload into capped text lines without reading it whole.

Encoding: a UTF-8 BOM means UTF-8 and a UTF-16 BOM UTF-16 (what spreadsheets write as "Unicode text");
otherwise the first ``SNIFF_BYTES`` are tried as strict UTF-8, and when that fails the file is read as cp1252
(a superset of Latin-1's printable range, which is what spreadsheet exports in Western locales produce).
Bytes that do not decode later in a file are read as cp1252 one by one (bytes cp1252 leaves undefined map to
the Latin-1 code point), so a stray byte never stops an import; the text profiler flags the resulting
mojibake. NUL bytes in those first bytes of a file that is not UTF-16 (more than a few stray ones, which stay
errors of their rows) mean it is not text at all (an image, a word-processor file, UTF-16 without its BOM):
``LineStream.not_text`` then says why.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
NOT_TEXT = (
    "The file is not text: it holds NUL bytes (it is a binary file such as an image or a spreadsheet, or text "
    "saved as UTF-16/UTF-32 without a byte-order mark). Save it as CSV or JSON Lines in UTF-8."
)
_FALLBACK_ERRORS = "labelgate-cp1252"
_CP1252 = tuple(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256))


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_CP1252[b] for b in bad), exc.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def sniff_encoding(sample: bytes) -> str:
    """``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"`` or ``"cp1252"`` for the first bytes of a file (see module
    docstring)."""
    if sample.startswith(_BOM):
        return "utf-8-sig"
    if sample.startswith(_UTF16_BOMS) and not sample.startswith(_UTF32_BOMS):
        return "utf-16"
    try:
        # final=False: a multi-byte character cut by the sample boundary is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


class LineStream:
    """Iterates ``(line_number, line)`` over a binary stream, lines keeping their ``\\n``.

    A physical line longer than ``max_line_chars`` is not kept in memory: its first ``max_line_chars``
    characters are yielded with ``oversized=True`` semantics through ``self.oversized`` (the 1-based line
    numbers of such lines, with their prefixes) and the rest is skipped up to the next newline.
    """

    def __init__(self, stream: BinaryIO, *, max_line_chars: int) -> None:
        self._stream = stream
        self.max_line_chars = max_line_chars
        sample = stream.read(SNIFF_BYTES)
        self.encoding = sniff_encoding(sample)
        nuls = sample.count(b"\x00") if self.encoding != "utf-16" else 0
        self.not_text = NOT_TEXT if nuls > 8 or nuls * 20 > len(sample) else None
        self._first = sample
        self.lines_read = 0

    def __iter__(self) -> Iterator[tuple[int, str, bool]]:
        """Yield ``(line_number, text, oversized)``; ``text`` is the (truncated) line when oversized."""
        decoder = codecs.getincrementaldecoder(self.encoding)(errors=_FALLBACK_ERRORS)
        carry = ""
        skipping = False
        chunk = self._first
        while True:
            final = not chunk
            text = carry + decoder.decode(chunk, final=final)
            pieces = text.split("\n")
            carry = pieces.pop()
            for piece in pieces:
                self.lines_read += 1
                if skipping:
                    skipping = False
                    continue
                if len(piece) >= self.max_line_chars:
                    yield self.lines_read, piece[: self.max_line_chars], True
                else:
                    yield self.lines_read, piece + "\n", False
            if len(carry) > self.max_line_chars:
                if not skipping:
                    yield self.lines_read + 1, carry[: self.max_line_chars], True
                skipping = True
                carry = ""
            if final:
                break
            chunk = self._stream.read(CHUNK_BYTES)
        if carry and not skipping:
            self.lines_read += 1
            yield self.lines_read, carry, False
        elif skipping:
            self.lines_read += 1
