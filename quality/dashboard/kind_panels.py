"""A task kind's own dashboard panels (spans, boxes), in place of the class-label panels whose figures (consensus
classes, annotators' confusion matrices) such a kind does not have.

The kind names a module in ``TaskKind.dashboard_panels``; its ``panels(source)`` returns ``KindPanel``s built
from a ``DashboardSource``. Each panel is one ``Table`` (its ``?csv=`` download) and the figures drawn from its
columns, each saying what one value counts; the page and ``GET /api/projects/{pid}/dashboard/kind-panels/``
read the same objects, so they cannot disagree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.utils import timezone

from kinds.registry import kind_for
from quality.dashboard import selectors
from quality.dashboard.figures import Table

if TYPE_CHECKING:
    from quality.dashboard.tables.source import DashboardSource


@dataclass(frozen=True)
class KindFigure:
    """One column of a panel's table drawn as bars, one bar per row: ``name`` and what one value ``counts``.
    ``fraction``: a figure in [0, 1] (bars on a 0–1 axis, three decimals); else a count."""

    column: str
    name: str
    counts: str
    fraction: bool = False


@dataclass(frozen=True)
class KindPanel:
    """A panel: its ``table`` (first column names the row; an optional ``link`` column leads to the row's
    items), the ``figures`` drawn from it, a ``note`` under it and what it says when it has no rows."""

    table: Table
    figures: tuple[KindFigure, ...]
    note: str = ""
    empty: str = "No figures yet."

    @property
    def name(self) -> str:
        return self.table.name


def kind_panels(src: DashboardSource) -> tuple[list[KindPanel], datetime | None]:
    """The project's kind's panels (``[]`` for a kind without its own, classes) and when they were computed:
    None when now. They read every live answer and stored consensus, so a project of ``LARGE_COUNT`` items or
    more reuses them for ``SERIES_TTL`` seconds (a new quality run computes them afresh)."""
    kind = kind_for(src.project)
    if not kind.dashboard_panels:
        return [], None
    module = kind.part("dashboard_panels")
    if src.counts.get("total", 0) < selectors.LARGE_COUNT:
        return list(module.panels(src)), None
    key = f"dashboard:kind-panels:v1:{src.project.pk}:{src.report.pk if src.report else 0}"
    cached = cache.get(key)
    if cached is None:
        cached = (list(module.panels(src)), timezone.now())
        cache.set(key, cached, selectors.SERIES_TTL)
    return cached


def part_label_counts(values: Iterable[object]) -> Counter:
    """Parts (spans, boxes) per label over stored lists of parts (``[{…, "label"}]``); anything else is none."""
    counts: Counter = Counter()
    for value in values:
        if isinstance(value, list):
            counts.update(
                p["label"] for p in value if isinstance(p, dict) and isinstance(p.get("label"), str)
            )
    return counts


def labels_in_order(known: list[str], *counted: Mapping[str, int]) -> list[str]:
    """The project's label classes, then any other label a count has (a label merged away after the run)."""
    extra = sorted({label for c in counted for label in c} - set(known))
    return [*known, *extra]


def number(value: object) -> float | None:
    """A stored figure as a number, None when it is missing or not finite (an interval's ``[low, high]`` is not
    the figure)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def panel_data(panel: KindPanel) -> dict:
    """A panel as the API serves it: rows as objects keyed by column, with the figures' readings."""
    return {
        "name": panel.table.name,
        "title": panel.table.title,
        "note": panel.note,
        "columns": [c for c in panel.table.columns if c != "link"],
        "figures": [
            {"column": f.column, "name": f.name, "counts": f.counts, "fraction": f.fraction}
            for f in panel.figures
        ],
        "rows": [
            {c: v for c, v in zip(panel.table.columns, row, strict=True) if c != "link"}
            for row in panel.table.rows
        ],
    }
