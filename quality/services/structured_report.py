"""The figures every structured kind's report adds through the same code (``quality.metrics.structured_figures``):
item-bootstrap intervals of the kind's pairwise figures, HLP as a judgement F1 against the others' consensus and
gold, and the error analysis by tag — shaped as JSON for ``QualityReport.kind_figures``.

Imported by the kinds' quality runs (task side only: it loads scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.hlp import Estimate, HlpSlices
from quality.metrics.structured_figures import (
    FigureInterval,
    Judgements,
    PairRatios,
    f1_hlp,
    pair_ratio_figures,
    tag_error_rows,
)

#: What the kind's HLP counts, for pages and the API.
HLP_MEANING = (
    "mean F1 of each annotator's answer against the others' consensus (the units more than half of the other "
    "annotators of the item drew; units they split evenly on are left out) or against gold; an answer and a "
    "reference both empty count as F1 = 1"
)
NO_MODEL = "no model yet"


@dataclass(frozen=True)
class PairFigure:
    """A pairwise figure of the kind: its report key, its per-label key, and its per-item sums."""

    key: str
    label_key: str | None
    ratios: PairRatios
    pooled: bool = False


def _estimate(e: Estimate) -> dict:
    return {"f1": e.value, "ci": [e.ci_low, e.ci_high], "n_judgements": e.n, "n_items": e.n_items}


def _slices(slices: HlpSlices, label_values: list[str], versions: list[int]) -> dict:
    return {
        **_estimate(slices.overall),
        "per_label": {label_values[c]: _estimate(e) for c, e in slices.per_label.items() if e.n},
        "per_tag": {tag: _estimate(e) for tag, e in slices.per_tag.items()},
        "per_guideline_version": {str(versions[g]): _estimate(e) for g, e in slices.per_group.items() if e.n},
    }


def version_groups(answer_version: np.ndarray | None, n_answers: int) -> tuple[np.ndarray, list[int]]:
    """Each answer's guideline-version index and the versions in index order."""
    if answer_version is None or answer_version.size != n_answers:
        return np.zeros(n_answers, dtype=np.int64), [0]
    versions, group = np.unique(answer_version, return_inverse=True)
    return group.ravel().astype(np.int64), versions.tolist()


def structured_figures(
    *,
    pair_figures: list[PairFigure],
    headline: PairFigure,
    consensus: Judgements,
    gold: Judgements | None,
    versions: list[int],
    tags: dict[str, np.ndarray],
    route: np.ndarray,
    label_values: list[str],
    per_label: dict,
    model_f1: float | None = None,
    n_boot: int = 200,
    seed: int = 0,
) -> dict:
    """The kind-figure keys every structured kind adds, and the ``*_ci`` entries of ``per_label`` rows (filled in
    place). ``headline`` is the pairwise figure the error analysis reads per tag."""
    n_items = int(route.size)
    figures: dict = {"n_boot": n_boot}
    for figure in pair_figures:
        overall, labels = pair_ratio_figures(figure.ratios, pooled=figure.pooled, n_boot=n_boot, seed=seed)
        figures[f"{figure.key}_ci"] = [overall.low, overall.high]
        if figure.label_key is not None:
            for c, value in enumerate(label_values):
                if value in per_label:
                    per_label[value][f"{figure.label_key}_ci"] = [labels[c].low, labels[c].high]
    hlp = f1_hlp(
        consensus=consensus,
        gold=gold,
        n_items=n_items,
        n_groups=len(versions),
        tags=tags,
        n_boot=n_boot,
        seed=seed,
    )
    figures["hlp_f1"] = {
        "meaning": HLP_MEANING,
        "consensus": _slices(hlp.consensus, label_values, versions),
        "gold": None
        if hlp.gold is None or not hlp.gold.overall.n
        else _slices(hlp.gold, label_values, versions),
        "model_f1": model_f1,
        "model_note": None if model_f1 is not None else NO_MODEL,
    }
    by_tag: dict[str, FigureInterval] = {}
    for tag, items in tags.items():
        by_tag[tag], _ = pair_ratio_figures(
            headline.ratios,
            pooled=headline.pooled,
            units=np.asarray(items, dtype=np.int64),
            n_boot=n_boot,
            seed=seed,
        )
    figures["tag_error_analysis"] = tag_error_rows(
        tags=tags, figure=by_tag, hlp=hlp.consensus, route=route, n_items=n_items
    )
    figures["tag_error_analysis_figure"] = headline.key
    return figures
