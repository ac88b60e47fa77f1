"""Cohen's κ for every pair of annotators that labelled the same items, without a loop over pairs.

Annotations are self-joined on item by sorting on (item, annotator): inside an item's block every row is paired
with the rows after it, so annotator ``a < b`` in each pair row. Per-pair sufficient statistics (overlap,
per-class marginals of each side, per-class joint "both chose c") then come from bincounts over pair rows, and
κ follows from them — one pass serves the multi-class κ and every one-vs-rest κ.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from quality.metrics.table import AnnotationTable

__all__ = [
    "PairJoin",
    "PairStats",
    "PairwiseKappa",
    "binary_kappas",
    "join_pairs",
    "overall_kappas",
    "pair_stats",
    "pairwise_cohen_kappa",
]

_DENSE_PAIR_KEYS = 1 << 24  # above this many possible (a, b) keys, np.unique replaces a dense bincount


@dataclass(frozen=True)
class PairJoin:
    """Rows ``left[j]``/``right[j]`` of the table are two annotations of one item; ``pair[j]`` indexes
    ``annotator_a``/``annotator_b`` (with ``annotator_a < annotator_b``)."""

    left: np.ndarray
    right: np.ndarray
    pair: np.ndarray
    annotator_a: np.ndarray
    annotator_b: np.ndarray


@dataclass(frozen=True)
class PairStats:
    """Per-pair, per-class weighted counts over shared items: ``n`` (P,), ``a_pos``/``b_pos``/``both`` (P, K):
    how often annotator a / annotator b / both chose (or flagged) class k."""

    n: np.ndarray
    a_pos: np.ndarray
    b_pos: np.ndarray
    both: np.ndarray


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's κ per annotator pair with ``n_overlap >= min_overlap``; κ is nan when both annotators used one
    and the same class throughout (chance agreement 1, κ undefined — as scikit-learn)."""

    annotator_a: np.ndarray
    annotator_b: np.ndarray
    n_overlap: np.ndarray
    observed_agreement: np.ndarray
    kappa: np.ndarray

    def mean(self) -> float:
        """Unweighted mean κ over pairs with a defined κ (nan if none)."""
        finite = np.isfinite(self.kappa)
        return float(self.kappa[finite].mean()) if finite.any() else float("nan")

    def weighted_mean(self) -> float:
        """Mean κ weighted by overlap, so pairs sharing many items count more (nan if none defined)."""
        finite = np.isfinite(self.kappa)
        if not finite.any():
            return float("nan")
        return float(np.average(self.kappa[finite], weights=self.n_overlap[finite]))

    def as_rows(self) -> list[dict[str, float | int | None]]:
        """One JSON-ready dict per pair (nan κ becomes ``None``)."""
        return [
            {
                "annotator_a": int(a),
                "annotator_b": int(b),
                "n_overlap": int(n),
                "observed_agreement": float(po),
                "kappa": None if not np.isfinite(k) else float(k),
            }
            for a, b, n, po, k in zip(
                self.annotator_a,
                self.annotator_b,
                self.n_overlap,
                self.observed_agreement,
                self.kappa,
                strict=True,
            )
        ]


def join_pairs(*, table: AnnotationTable) -> PairJoin:
    """All (annotation, annotation) pairs sharing an item, each unordered pair once."""
    n_ann = max(table.n_annotators, 1)
    order = np.argsort(table.item * n_ann + table.annotator, kind="stable")
    item_sorted = table.item[order]
    per_item = np.bincount(table.item, minlength=table.n_items)
    start = np.cumsum(per_item) - per_item
    position = np.arange(order.size) - start[item_sorted]
    partners = per_item[item_sorted] - position - 1
    left_sorted = np.repeat(np.arange(order.size), partners)
    first = np.cumsum(partners) - partners
    right_sorted = left_sorted + (np.arange(left_sorted.size) - np.repeat(first, partners) + 1)
    left, right = order[left_sorted], order[right_sorted]
    key = table.annotator[left] * n_ann + table.annotator[right]
    if n_ann * n_ann <= _DENSE_PAIR_KEYS:
        present = np.bincount(key, minlength=n_ann * n_ann) > 0
        dense = np.cumsum(present) - 1
        keys, pair = np.flatnonzero(present), dense[key]
    else:
        unique = np.unique(key, return_inverse=True)
        keys, pair = unique[0], unique[1]
    return PairJoin(left=left, right=right, pair=pair, annotator_a=keys // n_ann, annotator_b=keys % n_ann)


def pair_stats(*, table: AnnotationTable, join: PairJoin, weights: np.ndarray | None = None) -> PairStats:
    """Sufficient statistics per pair; ``weights`` (n_items,) are bootstrap item multiplicities (default 1)."""
    n_pairs, k = join.annotator_a.size, table.n_classes
    w = np.ones(join.left.size) if weights is None else weights[table.item[join.left]]
    n = np.bincount(join.pair, weights=w, minlength=n_pairs)
    a_pos: np.ndarray
    b_pos: np.ndarray
    both: np.ndarray
    if table.multi_label:
        a_flags, b_flags = table.label[join.left], table.label[join.right]
        a_pos, b_pos, both = (np.empty((n_pairs, k)) for _ in range(3))
        for c in range(k):
            a_c, b_c = a_flags[:, c] * w, b_flags[:, c]
            a_pos[:, c] = np.bincount(join.pair, weights=a_c, minlength=n_pairs)
            b_pos[:, c] = np.bincount(join.pair, weights=b_c * w, minlength=n_pairs)
            both[:, c] = np.bincount(join.pair, weights=a_c * b_c, minlength=n_pairs)
        return PairStats(n=n, a_pos=a_pos, b_pos=b_pos, both=both)
    la, lb = table.label[join.left], table.label[join.right]
    size = n_pairs * k
    a_pos = np.bincount(join.pair * k + la, weights=w, minlength=size).reshape(n_pairs, k)
    b_pos = np.bincount(join.pair * k + lb, weights=w, minlength=size).reshape(n_pairs, k)
    both = np.bincount(join.pair * k + la, weights=w * (la == lb), minlength=size).reshape(n_pairs, k)
    return PairStats(n=n, a_pos=a_pos, b_pos=b_pos, both=both)


def _kappa(observed: np.ndarray, chance: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        # Chance agreement of exactly 1 leaves κ undefined; tolerance absorbs float round-off in the sums.
        return np.where(
            np.isclose(chance, 1.0, rtol=0, atol=1e-12), np.nan, (observed - chance) / (1.0 - chance)
        )


def binary_kappas(stats: PairStats) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest observed agreement and κ per pair and class, each (P, K)."""
    n = stats.n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = (n - stats.a_pos - stats.b_pos + 2.0 * stats.both) / n
        chance = (stats.a_pos * stats.b_pos + (n - stats.a_pos) * (n - stats.b_pos)) / (n * n)
    return observed, _kappa(observed, chance)


def overall_kappas(stats: PairStats, *, multi_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """Observed agreement and κ per pair: multi-class κ, or for multi-label the mean of per-label binary κ."""
    if multi_label:
        observed, kappa = binary_kappas(stats)
        with warnings.catch_warnings():
            # An all-nan row (every label undefined for the pair) legitimately yields nan.
            warnings.simplefilter("ignore", RuntimeWarning)
            return observed.mean(axis=1), np.nanmean(kappa, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = stats.both.sum(axis=1) / stats.n
        chance = (stats.a_pos * stats.b_pos).sum(axis=1) / (stats.n * stats.n)
    return observed, _kappa(observed, chance)


def pairwise_cohen_kappa(
    *, table: AnnotationTable, min_overlap: int = 5, join: PairJoin | None = None
) -> PairwiseKappa:
    """Cohen's κ for every annotator pair sharing at least ``min_overlap`` items.

    Multi-label tables give, per pair, the mean over labels of binary (flag / no flag) κ.

    Raises:
        ValueError: if ``min_overlap < 1``.
    """
    if min_overlap < 1:
        raise ValueError("min_overlap must be at least 1")
    join = join_pairs(table=table) if join is None else join
    stats = pair_stats(table=table, join=join)
    observed, kappa = overall_kappas(stats, multi_label=table.multi_label)
    keep = stats.n >= min_overlap
    return PairwiseKappa(
        annotator_a=join.annotator_a[keep],
        annotator_b=join.annotator_b[keep],
        n_overlap=stats.n[keep].astype(np.int64),
        observed_agreement=observed[keep],
        kappa=kappa[keep],
    )
