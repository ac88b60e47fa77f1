"""Error analysis by tag: where the model falls short of humans, and how much fixing it could buy overall.

Built on an ``HlpResult`` with model slices, so model accuracy and HLP in a tag are measured on the same
judgements against the same reference. "Share of data" is the tag's share of the evaluated items; the
potential gain ``max(HLP − model, 0) × share`` bounds how many overall accuracy points closing the gap in this
tag could add (HLP is taken as the ceiling; tags may overlap, so gains do not add up across rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.hlp import HlpResult, human_level_performance
from quality.metrics.table import AnnotationTable

__all__ = ["TagErrorRow", "error_analysis", "error_analysis_for_table"]


@dataclass(frozen=True)
class TagErrorRow:
    """Shares and rates are fractions (0–1); ``gap`` and ``potential_gain`` are accuracy points (0–100)."""

    tag: str
    n_items: int
    share_of_data: float
    share_of_errors: float
    model_error_rate: float
    model_accuracy: float
    hlp: float
    gap: float
    potential_gain: float
    reading: str


def _reading(row: dict[str, float], tag: str) -> str:
    if not np.isfinite(row["gap"]):
        return f"`{tag}`: {100 * row['share_of_data']:.0f} % of data, no comparable judgements"
    if row["gap"] <= 0:
        return (
            f"`{tag}`: {100 * row['share_of_data']:.0f} % of data, model at or above HLP "
            f"(gap {row['gap']:.1f} points) → little to gain here"
        )
    return (
        f"`{tag}`: {100 * row['share_of_data']:.0f} % of data, gap {row['gap']:.1f} points "
        f"→ at most {row['potential_gain']:.2f} points overall"
    )


def error_analysis(*, hlp: HlpResult) -> list[TagErrorRow]:
    """One row per tag in ``hlp``, sorted by potential gain (largest first; undefined gains last).

    Raises:
        ValueError: if ``hlp`` was computed without model predictions.
    """
    if hlp.model is None:
        raise ValueError("error analysis needs an HLP result computed with model predictions (pred=...)")
    overall = hlp.model.overall
    total_errors = overall.n * (1.0 - overall.value) if overall.n else 0.0
    rows = []
    for tag, human in hlp.human.per_tag.items():
        model = hlp.model.per_tag[tag]
        errors = model.n * (1.0 - model.value) if model.n else 0.0
        values = {
            "share_of_data": human.n_items / hlp.human.overall.n_items
            if hlp.human.overall.n_items
            else float("nan"),
            "share_of_errors": errors / total_errors if total_errors > 0 else float("nan"),
            "model_error_rate": 1.0 - model.value,
            "model_accuracy": model.value,
            "hlp": human.value,
            "gap": 100.0 * (human.value - model.value),
        }
        values["potential_gain"] = max(values["gap"], 0.0) * values["share_of_data"]
        rows.append(TagErrorRow(tag=tag, n_items=human.n_items, **values, reading=_reading(values, tag)))
    return sorted(rows, key=lambda r: (not np.isfinite(r.potential_gain), -np.nan_to_num(r.potential_gain)))


def error_analysis_for_table(
    *,
    table: AnnotationTable,
    pred: np.ndarray,
    tags: dict[str, np.ndarray],
    gold: np.ndarray | None = None,
    n_boot: int = 0,
    seed: int = 0,
) -> list[TagErrorRow]:
    """Convenience: compute HLP with ``pred`` and ``tags`` (against gold when given, else consensus) and
    analyse it. Preconditions and errors as :func:`human_level_performance`."""
    report = human_level_performance(table=table, gold=gold, pred=pred, tags=tags, n_boot=n_boot, seed=seed)
    return error_analysis(hlp=report.gold if report.gold is not None else report.consensus)
