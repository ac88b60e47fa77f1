"""Geometry for the dashboard's server-rendered SVG charts (pure: no Django).

Every function takes numbers and labels and returns a dict of rounded coordinates that a template draws with
plain ``<rect>``, ``<polyline>``, ``<path>`` and ``<text>`` elements; nothing here knows about models or URLs
(links arrive as ready-made strings). Values that are ``None`` are missing: bars are left out, lines break and
intervals are not drawn, so a chart never shows a made-up zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PALETTE = ("#2f6fed", "#f0a202", "#1f9d55", "#d64545", "#7b61ff", "#0fa3b1", "#8a8f98")
HEAT_LOW = (238, 242, 251)
HEAT_HIGH = (47, 111, 237)


def _r(value: float) -> float:
    return round(value, 1)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ ``value`` (axis maxima with round tick labels)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exponent + 1))


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _ticks(lo: float, hi: float, n: int = 4, percent: bool = False) -> list[tuple[float, str]]:
    out = []
    for i in range(n + 1):
        value = lo + (hi - lo) * i / n
        out.append((value, f"{100 * value:.0f} %" if percent else _number(round(value, 6))))
    return out


def bar_chart(
    *,
    bars: Sequence[tuple[str, float | None, str]],
    width: int = 540,
    row: int = 22,
    label_width: int = 170,
    scale: float | None = None,
    digits: int | None = None,
) -> dict:
    """Horizontal bars, one row per ``(label, value, href)``, scaled to ``scale`` (a fixed axis maximum, e.g. 1
    for figures in [0, 1]) or else to the largest value; values written with ``digits`` decimals when given."""
    top = 6
    value_width = 70
    inner = width - label_width - value_width
    largest = scale or max((v for _, v, _ in bars if v is not None), default=0) or 1
    rows = []
    for i, (label, value, href) in enumerate(bars):
        y = top + i * row
        length = 0.0 if value is None else inner * value / largest
        rows.append(
            {
                "label": label,
                "value": value,
                "text": "—" if value is None else _number(value) if digits is None else f"{value:.{digits}f}",
                "href": href,
                "x": label_width,
                "y": _r(y + 3),
                "w": _r(max(length, 1.0 if value else 0.0)),
                "h": row - 6,
                "text_y": _r(y + row / 2),
                "label_x": label_width - 6,
                "value_x": _r(label_width + length + 4),
            }
        )
    return {"width": width, "height": top * 2 + row * len(bars), "bars": rows}


def column_chart(
    *,
    columns: Sequence[tuple[str, float]],
    width: int = 560,
    height: int = 180,
    max_labels: int = 8,
    hrefs: Sequence[str] | None = None,
) -> dict:
    """Vertical bars in order (e.g. one per day) on a zero-based axis, each linking to ``hrefs[i]`` if given;
    x labels thinned to ``max_labels``."""
    left, right, top, bottom = 44, 8, 10, 24
    inner_w, inner_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max((v for _, v in columns), default=0))
    slot = inner_w / max(len(columns), 1)
    every = max(1, math.ceil(len(columns) / max_labels))
    bars, labels = [], []
    for i, (label, value) in enumerate(columns):
        h = inner_h * value / peak
        bars.append(
            {
                "label": label,
                "value": value,
                "x": _r(left + i * slot + slot * 0.1),
                "w": _r(max(slot * 0.8, 0.5)),
                "y": _r(top + inner_h - h),
                "h": _r(h),
                "href": hrefs[i] if hrefs else "",
            }
        )
        if i % every == 0:
            labels.append({"x": _r(left + (i + 0.5) * slot), "text": label})
    y_ticks = [{"y": _r(top + inner_h * (1 - v / peak)), "text": t} for v, t in _ticks(0, peak)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + inner_h,
        "label_y": height - 6,
        "bars": bars,
        "x_labels": labels,
        "y_ticks": y_ticks,
    }


@dataclass(frozen=True)
class Series:
    """One line; its point ``i`` links to ``hrefs[i]`` when that is not empty, ``link_note`` saying to what."""

    name: str
    values: Sequence[float | None]
    low: Sequence[float | None] | None = None
    high: Sequence[float | None] | None = None
    hrefs: Sequence[str] | None = None
    link_note: str = ""
    # What the legend and tooltips say, when the name is a code (e.g. a status); the name stays in data attributes.
    title: str = ""


def _segments(points: list[tuple[float, float] | None]) -> list[str]:
    """Polyline point strings, broken wherever a value is missing."""
    out: list[str] = []
    current: list[str] = []
    for point in points:
        if point is None:
            if current:
                out.append(" ".join(current))
            current = []
        else:
            current.append(f"{point[0]},{point[1]}")
    if current:
        out.append(" ".join(current))
    return out


def _band(xs: list[float], low, high, y_of) -> list[str]:
    """Closed polygon paths between ``low`` and ``high`` over each run of points where both are known."""
    paths, run = [], []
    for i, x in enumerate(xs + [None]):
        known = x is not None and low[i] is not None and high[i] is not None
        if known:
            run.append(i)
            continue
        if run:
            upper = [f"{xs[j]},{y_of(high[j])}" for j in run]
            lower = [f"{xs[j]},{y_of(low[j])}" for j in reversed(run)]
            if len(run) == 1:  # a lone interval: a thin vertical bar rather than nothing
                j = run[0]
                upper = [f"{xs[j] - 2},{y_of(high[j])}", f"{xs[j] + 2},{y_of(high[j])}"]
                lower = [f"{xs[j] + 2},{y_of(low[j])}", f"{xs[j] - 2},{y_of(low[j])}"]
            paths.append("M" + " L".join(upper + lower) + " Z")
            run = []
    return paths


def line_chart(
    *,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_range: tuple[float, float] | None = None,
    percent: bool = False,
    width: int = 560,
    height: int = 200,
    max_labels: int = 6,
) -> dict:
    """Lines over equally spaced x positions, each with an optional confidence band (``low``/``high``).

    ``y_range`` fixes the axis (e.g. (0, 1) for agreement); otherwise it spans zero to a round maximum. Point
    markers, and with them the points' links, are drawn for at most 120 x positions.
    """
    left, right, top, bottom = 48, 12, 10, 26
    inner_w, inner_h = width - left - right, height - top - bottom
    known = [v for s in series for seq in (s.values, s.low or (), s.high or ()) for v in seq if v is not None]
    if y_range is None:
        lo, hi = min(0.0, min(known, default=0.0)), nice_ceiling(max(known, default=0.0))
    else:
        lo, hi = y_range
        lo = min(lo, min(known, default=lo))
    span = (hi - lo) or 1.0
    n = len(x_labels)

    def x_of(i: int) -> float:
        return _r(left + (inner_w / 2 if n == 1 else inner_w * i / (n - 1)))

    def y_of(v: float) -> float:
        return _r(top + inner_h * (1 - (v - lo) / span))

    xs = [x_of(i) for i in range(n)]
    drawn = []
    for k, s in enumerate(series):
        points = [None if v is None else (xs[i], y_of(v)) for i, v in enumerate(s.values)]
        dots = [
            {
                "x": p[0],
                "y": p[1],
                "label": x_labels[i],
                "value": v,
                "text": f"{100 * v:.1f} %" if percent else _number(round(v, 3)),
                "low": None if not s.low else s.low[i],
                "high": None if not s.high else s.high[i],
                "href": s.hrefs[i] if s.hrefs else "",
            }
            for i, (p, v) in enumerate(zip(points, s.values, strict=True))
            if p is not None and v is not None
        ]
        bands = _band(xs, s.low, s.high, y_of) if s.low is not None and s.high is not None else []
        drawn.append(
            {
                "name": s.name,
                "title": s.title or s.name,
                "color": PALETTE[k % len(PALETTE)],
                "paths": _segments(points),
                "bands": bands,
                "dots": dots if n <= 120 else [],
                "link_note": s.link_note,
            }
        )
    every = max(1, math.ceil(n / max_labels))
    labels = [{"x": xs[i], "text": x_labels[i]} for i in range(0, n, every)]
    y_ticks = [{"y": y_of(v), "text": t} for v, t in _ticks(lo, hi, percent=percent)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + inner_h,
        "label_y": height - 8,
        "series": drawn,
        "x_labels": labels,
        "y_ticks": y_ticks,
    }


def interval_chart(
    *,
    rows: Sequence[tuple[str, str]],
    series: Sequence[Series],
    x_range: tuple[float, float] = (0.0, 1.0),
    percent: bool = True,
    width: int = 560,
    row: int = 26,
    label_width: int = 130,
) -> dict:
    """Dots with whiskers, one row per ``(label, href)``, one dot per series side by side (e.g. HLP vs model)."""
    right, top, axis = 16, 8, 22
    inner = width - label_width - right
    known = [v for s in series for seq in (s.values, s.low or (), s.high or ()) for v in seq if v is not None]
    lo, hi = min(x_range[0], min(known, default=x_range[0])), max(x_range[1], max(known, default=x_range[1]))
    span = (hi - lo) or 1.0

    def x_of(v: float) -> float:
        return _r(label_width + inner * (v - lo) / span)

    out_rows = []
    for i, (label, href) in enumerate(rows):
        y = top + i * row
        marks = []
        for k, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            dy = _r(y + row / 2 + (k - (len(series) - 1) / 2) * 6)
            low = s.low[i] if s.low else None
            high = s.high[i] if s.high else None
            marks.append(
                {
                    "name": s.name,
                    "color": PALETTE[k % len(PALETTE)],
                    "x": x_of(value),
                    "y": dy,
                    "x1": None if low is None or high is None else x_of(low),
                    "x2": None if low is None or high is None else x_of(high),
                    "text": (f"{100 * value:.1f} %" if percent else f"{value:.3f}")
                    + (
                        ""
                        if low is None or high is None
                        else (
                            f" [{100 * low:.1f}, {100 * high:.1f}]"
                            if percent
                            else f" [{low:.3f}, {high:.3f}]"
                        )
                    ),
                }
            )
        out_rows.append(
            {"label": label, "href": href, "text_y": _r(y + row / 2), "marks": marks, "line_y": _r(y + row)}
        )
    bottom = top + row * len(rows)
    ticks = [{"x": x_of(v), "text": t} for v, t in _ticks(lo, hi, percent=percent)]
    return {
        "width": width,
        "height": bottom + axis,
        "label_x": label_width - 6,
        "left": label_width,
        "right": width - right,
        "top": top,
        "bottom": bottom,
        "tick_y": bottom + 14,
        "rows": out_rows,
        "ticks": ticks,
        "legend": [{"name": s.name, "color": PALETTE[k % len(PALETTE)]} for k, s in enumerate(series)],
    }


def heat_colour(share: float) -> str:
    """Interpolated fill between a pale and a strong blue for a share in [0, 1]."""
    t = min(max(share, 0.0), 1.0)
    rgb = [round(a + (b - a) * t) for a, b in zip(HEAT_LOW, HEAT_HIGH, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    row_hrefs: Sequence[str] | None = None,
    cell_hrefs: Sequence[Sequence[str]] | None = None,
    cell: int = 44,
    label_width: int = 110,
    header: int = 60,
) -> dict:
    """Cells coloured by their share of the row total (a confusion matrix reads row by row). A cell links to
    ``cell_hrefs[r][c]`` if given, else to its row's ``row_hrefs[r]``; row labels link to ``row_hrefs``."""
    cells = []
    for r, values_row in enumerate(values):
        total = sum(values_row) or 0
        for c, value in enumerate(values_row):
            share = value / total if total else 0.0
            cells.append(
                {
                    "x": label_width + c * cell,
                    "y": header + r * cell,
                    "size": cell - 2,
                    "value": value,
                    "text": _number(value),
                    "share": round(share, 4),
                    "fill": heat_colour(share),
                    "ink": "#ffffff" if share > 0.55 else "#1d2330",
                    "row": row_labels[r],
                    "col": col_labels[c],
                    "href": cell_hrefs[r][c] if cell_hrefs else (row_hrefs[r] if row_hrefs else ""),
                    "cx": label_width + c * cell + (cell - 2) / 2,
                    "cy": header + r * cell + (cell - 2) / 2,
                    "diagonal": r == c,
                }
            )
    return {
        "width": label_width + cell * len(col_labels) + 4,
        "height": header + cell * len(row_labels) + 4,
        "cells": cells,
        "rows": [
            {
                "text": t,
                "y": header + r * cell + (cell - 2) / 2,
                "x": label_width - 6,
                "href": row_hrefs[r] if row_hrefs else "",
            }
            for r, t in enumerate(row_labels)
        ],
        "cols": [
            {"text": t, "x": label_width + c * cell + (cell - 2) / 2, "y": header - 8}
            for c, t in enumerate(col_labels)
        ],
    }
