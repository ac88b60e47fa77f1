"""Boxes as stored: ``{"x", "y", "w", "h", "label"}`` in pixels of the stored image, ``x, y`` its top-left corner.

Pure checks shared by the annotation API, gold labels and imports; no Django here, so importers and the quality
engine can use them on plain data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: more boxes than this in one answer is refused as a whole (a dense shelf has a few hundred)
MAX_BOXES = 1000
#: how far (in pixels) a box may reach past the image's edge and still be taken, clamped to the edge: a drawing
#: tool's float rounding at the border, never a real overshoot
EDGE_TOLERANCE = 0.01
#: decimals a stored answer's coordinate keeps: 1e-6 px, below any image's resolution and within what imports and
#: exports promise to carry, yet enough to drop float noise (a w of 59.51000000000002)
PRECISION = 6
#: decimals of a fused consensus box: an average of drawn edges means nothing below 0.01 px
CONSENSUS_PRECISION = 2
COORDINATES = ("x", "y", "w", "h")
FIELDS = (*COORDINATES, "label")


class BoxError(ValueError):
    """A box (or the list of them) that cannot be stored; the message names the box by its 1-based position."""


def _number(raw: dict, name: str, number: int) -> float:
    value = raw.get(name)
    # bool is an int to Python, never a coordinate to a client
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BoxError(f"Box {number}: {name} must be a number, not {_kind(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise BoxError(f"Box {number}: {name} must be a finite number.")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "missing"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def box_from_raw(raw: object, number: int) -> dict:
    """One box checked for shape and size (not against an image or a label set). Raises BoxError."""
    if not isinstance(raw, dict):
        raise BoxError(f"Box {number}: must be an object with x, y, w, h and label.")
    extra = sorted(str(key) for key in raw if key not in FIELDS)
    if extra:
        raise BoxError(
            f"Box {number}: unknown field {', '.join(map(repr, extra))}; a box has x, y, w, h and label."
        )
    x, y, w, h = (_number(raw, name, number) for name in COORDINATES)
    if w <= 0:
        raise BoxError(f"Box {number}: w must be greater than 0.")
    if h <= 0:
        raise BoxError(f"Box {number}: h must be greater than 0.")
    label = raw.get("label")
    if not isinstance(label, str) or not label:
        raise BoxError(f"Box {number}: label must be a label value (a non-empty string).")
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def boxes_from_raw(raw: object) -> list[dict]:
    """A list of boxes checked for shape and size, in the order given. Raises BoxError."""
    if not isinstance(raw, list):
        raise BoxError("boxes must be a list of boxes ([] when there is nothing to box).")
    if len(raw) > MAX_BOXES:
        raise BoxError(f"At most {MAX_BOXES} boxes per annotation; got {len(raw)}.")
    return [box_from_raw(box, number) for number, box in enumerate(raw, start=1)]


def check_labels(boxes: Iterable[dict], known: set[str] | frozenset[str]) -> None:
    """Raises BoxError for the first box whose label is not in ``known``."""
    for number, box in enumerate(boxes, start=1):
        if box["label"] not in known:
            raise BoxError(
                f"Box {number}: unknown label {box['label']!r}; this project's labels are "
                f"{', '.join(sorted(known))}."
            )


def fit_to_image(boxes: list[dict], *, width: float, height: float) -> list[dict]:
    """The boxes checked to lie inside a ``width`` × ``height`` image; an edge within ``EDGE_TOLERANCE`` outside
    is moved onto the border. Raises BoxError naming the first box outside."""
    out = []
    for number, box in enumerate(boxes, start=1):
        fitted = dict(box)
        for start, size, limit, axis in (("x", "w", width, "width"), ("y", "h", height, "height")):
            lo, hi = box[start], box[start] + box[size]
            if lo < -EDGE_TOLERANCE or hi > limit + EDGE_TOLERANCE:
                raise BoxError(
                    f"Box {number}: outside the image ({start} {lo:g} to {lo + box[size]:g}; the image's {axis} "
                    f"is {limit:g} px, so 0 <= {start} and {start} + {size} <= {limit:g})."
                )
            # An edge clipped to the border (an accepted consensus box reaching it, a box drawn at a zoom) would
            # otherwise keep float noise in the stored value.
            lo, hi = round(max(lo, 0.0), PRECISION), round(min(hi, float(limit)), PRECISION)
            if hi <= lo:
                raise BoxError(f"Box {number}: {size} must be greater than 0 inside the image.")
            fitted[start], fitted[size] = lo, round(hi - lo, PRECISION)
        out.append(fitted)
    return out


def sorted_boxes(boxes: Iterable[dict]) -> list[dict]:
    """The stored order: by label, then x, y, w, h."""
    return sorted(boxes, key=lambda b: (b["label"], b["x"], b["y"], b["w"], b["h"]))
