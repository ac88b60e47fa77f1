"""Existing spans from other tools' formats, as ``{start, end, label}`` character offsets into the item's text
(pure: no Django). What comes out is judged by the gold checks of any import (``value.gold_value``,
``value.gold_text_problem``), which report offsets past the text, unknown labels and overlapping spans of one
label as that row's error, in the same words as the annotation API.

- Label Studio ``labels`` results: ``value: {start, end, text, labels: [one label]}``. Label Studio counts
  offsets in JavaScript string positions (UTF-16 code units), Python in characters (code points); they differ
  only in texts with characters outside the Basic Multilingual Plane (most emoji). Offsets are read as characters
  when the region's ``text`` is what they cut out (or the region has none), else as UTF-16 positions when those
  cut out its ``text``; neither is the region's error.
- CoNLL / BIO files: see ``ingress.readers.conllreader`` (tokens joined with single spaces, spans at those
  offsets).
"""

from __future__ import annotations


class SpanImportError(ValueError):
    """A region or line that cannot become a span, with the reason in words."""


def _has_astral(text: str) -> bool:
    return any(ord(char) > 0xFFFF for char in text)


def utf16_offset(text: str, offset: int) -> int:
    """The UTF-16 position (Label Studio's) of character ``offset`` of ``text``."""
    if not _has_astral(text):
        return offset
    return offset + sum(1 for char in text[:offset] if ord(char) > 0xFFFF)


def char_offset(text: str, position: int) -> int | None:
    """The character offset of UTF-16 ``position`` of ``text``; None when it falls inside a surrogate pair or
    past the end."""
    units = 0
    for index, char in enumerate(text):
        if units == position:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > position:
            return None
    return len(text) if units == position else None


def from_labelstudio(results: list, text: str) -> list[dict]:
    """The spans of one Label Studio annotation's ``result`` list (its ``labels`` regions; other controls are
    ignored), offsets in characters of ``text``. Raises SpanImportError for a region without whole-number
    ``start``/``end`` or with other than one label."""
    spans = []
    for number, region in enumerate(results or [], start=1):
        if not isinstance(region, dict) or region.get("type") != "labels":
            continue
        value = region.get("value") or {}
        where = f"Label Studio region {number}"
        start, end = value.get("start"), value.get("end")
        if (
            not (isinstance(start, int) and isinstance(end, int))
            or isinstance(start, bool)
            or isinstance(end, bool)
        ):
            raise SpanImportError(f"{where}: start and end must be whole numbers (character offsets).")
        labels = value.get("labels") or []
        if len(labels) != 1:
            raise SpanImportError(f"{where}: needs exactly one label, has {len(labels)}.")
        quoted = value.get("text")
        if isinstance(quoted, str) and text[start:end] != quoted and _has_astral(text):
            first, last = char_offset(text, start), char_offset(text, end)
            if first is not None and last is not None and text[first:last] == quoted:
                start, end = first, last
        spans.append({"start": start, "end": end, "label": str(labels[0])})
    return spans
