"""Per-annotator quality: volume, agreement with the others, gold accuracy, speed, confusion vs consensus.

Every statistic is an array indexed by annotator (bincounts over annotations); an annotator without the
relevant data gets nan (rates) or 0 (counts), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.pairwise import PairwiseKappa, pairwise_cohen_kappa
from quality.metrics.reference import leave_one_out_majority
from quality.metrics.table import AnnotationTable

__all__ = ["AnnotatorQuality", "annotator_quality"]


@dataclass(frozen=True)
class AnnotatorQuality:
    """Arrays of length n_annotators (``confusion``: n_annotators × K × K, rows = consensus class,
    columns = the annotator's class, over items with a consensus label).

    ``loo_agreement``: share of the annotator's labels equal to the majority of the *other* annotators of the
    item (ties excluded; ``n_loo`` judgements). ``mean_kappa``: mean Cohen's κ over the annotator's pairs with
    a defined κ (``n_pairs``). ``consensus_agreement``: agreement with the given consensus (which may include
    the annotator's own vote, hence optimistic for small k).
    """

    n_annotations: np.ndarray
    loo_agreement: np.ndarray
    n_loo: np.ndarray
    mean_kappa: np.ndarray
    n_pairs: np.ndarray
    gold_accuracy: np.ndarray
    n_gold: np.ndarray
    median_lead_time: np.ndarray
    consensus_agreement: np.ndarray
    confusion: np.ndarray


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _group_median(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group without a loop: sort by (group, value), pick the middle of each run."""
    finite = np.isfinite(values)
    groups, values = groups[finite], values[finite]
    order = np.lexsort((values, groups))
    sorted_values = values[order]
    size = np.bincount(groups, minlength=n_groups)
    start = np.cumsum(size) - size
    has = size > 0
    lower = np.where(has, start + (size - 1) // 2, 0)
    upper = np.where(has, start + size // 2, 0)
    if sorted_values.size == 0:
        return np.full(n_groups, np.nan)
    return np.where(has, (sorted_values[lower] + sorted_values[upper]) / 2.0, np.nan)


def annotator_quality(
    *,
    table: AnnotationTable,
    consensus: np.ndarray,
    gold: np.ndarray | None = None,
    lead_time: np.ndarray | None = None,
    pairwise: PairwiseKappa | None = None,
    min_overlap: int = 5,
) -> AnnotatorQuality:
    """Quality statistics for every annotator.

    Preconditions: single-label ``table``; ``consensus`` and ``gold`` int ``(n_items,)`` with -1 for none;
    ``lead_time`` float ``(n_annotations,)`` seconds (nan = unknown); ``pairwise`` as returned by
    ``pairwise_cohen_kappa`` (computed here with ``min_overlap`` when omitted).

    Raises:
        ValueError: for multi-label tables or arrays of the wrong shape or range.
    """
    if table.multi_label:
        raise ValueError("annotator_quality needs a single-label table")
    a, k, n_ann = table.annotator, table.n_classes, table.n_annotators
    for name, values in (("consensus", consensus), ("gold", gold)):
        if values is None:
            continue
        values = np.asarray(values)
        if values.shape != (table.n_items,) or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{name} must be an integer array of shape ({table.n_items},)")
        if values.size and (values.min() < -1 or values.max() >= k):
            raise ValueError(f"{name} values must be -1 or a class in [0, {k - 1}]")
    if lead_time is not None and np.shape(lead_time) != (table.n_annotations,):
        raise ValueError(f"lead_time must have shape ({table.n_annotations},)")

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(a, weights=mask.astype(np.float64), minlength=n_ann)

    loo = leave_one_out_majority(table=table).label
    n_loo = count(loo >= 0)
    loo_agreement = _ratio(count(table.label == loo), n_loo)

    pairwise = pairwise_cohen_kappa(table=table, min_overlap=min_overlap) if pairwise is None else pairwise
    defined = np.isfinite(pairwise.kappa)
    sides = np.concatenate([pairwise.annotator_a[defined], pairwise.annotator_b[defined]])
    kappas = np.tile(pairwise.kappa[defined], 2)
    n_pairs = np.bincount(sides, minlength=n_ann)
    mean_kappa = _ratio(np.bincount(sides, weights=kappas, minlength=n_ann), n_pairs)

    n_gold = np.zeros(n_ann)
    gold_accuracy = np.full(n_ann, np.nan)
    if gold is not None:
        gold_row = np.asarray(gold)[table.item]
        n_gold = count(gold_row >= 0)
        gold_accuracy = _ratio(count(table.label == gold_row), n_gold)

    median_lead_time = np.full(n_ann, np.nan)
    if lead_time is not None:
        median_lead_time = _group_median(a, np.asarray(lead_time, dtype=np.float64), n_ann)

    consensus_row = np.asarray(consensus)[table.item]
    has_consensus = consensus_row >= 0
    cells = (a[has_consensus] * k + consensus_row[has_consensus]) * k + table.label[has_consensus]
    confusion = np.bincount(cells, minlength=n_ann * k * k).reshape(n_ann, k, k)
    return AnnotatorQuality(
        n_annotations=np.bincount(a, minlength=n_ann),
        loo_agreement=loo_agreement,
        n_loo=n_loo.astype(np.int64),
        mean_kappa=mean_kappa,
        n_pairs=n_pairs,
        gold_accuracy=gold_accuracy,
        n_gold=n_gold.astype(np.int64),
        median_lead_time=median_lead_time,
        consensus_agreement=_ratio(np.trace(confusion, axis1=1, axis2=2), confusion.sum(axis=(1, 2))),
        confusion=confusion,
    )
