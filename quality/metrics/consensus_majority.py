"""Majority vote with a deterministic, reported tie-break."""

from __future__ import annotations

import numpy as np

from quality.metrics.consensus_result import ConsensusResult, require_single_label
from quality.metrics.table import AnnotationTable

__all__ = ["agreement_with_consensus", "majority_vote", "tie_break_rank"]


def tie_break_rank(counts: np.ndarray) -> np.ndarray:
    """Rank of each class for breaking ties: higher wins.

    Classes chosen more often over the whole table rank higher; equal prevalence falls back to the lower class
    index. Prevalence is used first because, absent any other evidence, the more common class is the likelier
    truth; the index fallback keeps the result a pure function of the input.

    Args:
        counts: int ``(n_items, n_classes)`` vote counts.

    Returns:
        int64 ``(n_classes,)`` with distinct values ``0..n_classes-1``.
    """
    prevalence = counts.sum(axis=0)
    n_classes = prevalence.shape[0]
    # lexsort sorts by the last key first: ascending prevalence, then descending index.
    order = np.lexsort((-np.arange(n_classes), prevalence))
    rank = np.empty(n_classes, dtype=np.int64)
    rank[order] = np.arange(n_classes)
    return rank


def majority_vote(*, table: AnnotationTable) -> ConsensusResult:
    """Plurality label per item.

    Ties are broken by :func:`tie_break_rank` (overall prevalence, then lowest index) and flagged in
    ``is_tie``. Items with no annotation get label ``-1`` and confidence NaN. Annotator quality is the share of
    an annotator's labels that match the consensus on items with at least two annotations (agreement with a
    consensus made from one's own single vote says nothing), NaN when there are none.

    Raises:
        ValueError: see :func:`require_single_label`.
    """
    require_single_label(table)
    counts = table.counts()
    total = counts.sum(axis=1)
    top = counts.max(axis=1)
    at_top = counts == top[:, None]
    rank = tie_break_rank(counts)
    label = np.argmax(np.where(at_top, rank[None, :], -1), axis=1).astype(np.int64)
    annotated = total > 0
    label[~annotated] = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(annotated, top / np.maximum(total, 1), np.nan)
    is_tie = (at_top.sum(axis=1) > 1) & annotated
    return ConsensusResult(
        label=label,
        confidence=confidence.astype(np.float64),
        is_tie=is_tie,
        posteriors=None,
        annotator_quality=agreement_with_consensus(table=table, consensus_label=label),
        method="majority_vote",
    )


def agreement_with_consensus(*, table: AnnotationTable, consensus_label: np.ndarray) -> np.ndarray:
    """Share of each annotator's labels equal to ``consensus_label`` on items with ≥ 2 annotations.

    Returns:
        float ``(n_annotators,)``; NaN for annotators with no such annotation.
    """
    shared = table.annotations_per_item()[table.item] >= 2
    agree = (table.label == consensus_label[table.item]) & shared
    n_shared = np.bincount(table.annotator, weights=shared, minlength=table.n_annotators)
    n_agree = np.bincount(table.annotator, weights=agree, minlength=table.n_annotators)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_shared > 0, n_agree / n_shared, np.nan)
