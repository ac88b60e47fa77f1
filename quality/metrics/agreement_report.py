"""The agreement report a quality job stores: overall, per label (one-vs-rest) and per annotator pair."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from quality.metrics.agreement import CountMetrics, count_metrics, item_features, metrics_from_sums
from quality.metrics.bootstrap import percentile_interval, resample_weights, weighted_sums
from quality.metrics.pairwise import (
    PairJoin,
    PairwiseKappa,
    binary_kappas,
    join_pairs,
    overall_kappas,
    pair_stats,
    pairwise_cohen_kappa,
)
from quality.metrics.table import AnnotationTable

__all__ = ["AgreementReport", "AgreementSummary", "agreement_report"]

METRICS = (
    "percent_agreement",
    "fleiss_kappa",
    "krippendorff_alpha",
    "cohen_kappa_mean",
    "cohen_kappa_weighted",
)


@dataclass(frozen=True)
class AgreementSummary:
    """Agreement over one scope. ``n_items``: items with ≥ 2 annotations; ``n_pairs``: annotator pairs with
    overlap ≥ min_overlap. ``ci`` maps each metric name in ``METRICS`` to a (low, high) bootstrap interval
    (empty when the report was built with ``n_boot=0``)."""

    percent_agreement: float
    fleiss_kappa: float
    krippendorff_alpha: float
    cohen_kappa_mean: float
    cohen_kappa_weighted: float
    n_items: int
    n_pairs: int
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class AgreementReport:
    """``per_label`` is keyed by class index; for multi-label tables ``overall`` is the mean over labels."""

    overall: AgreementSummary
    per_label: dict[int, AgreementSummary]
    pairwise: PairwiseKappa
    n_annotations: int
    multi_label: bool
    n_boot: int
    level: float


def _kappa_means(kappa: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and n-weighted mean of κ over pairs (axis 0), ignoring undefined κ; both (…,)."""
    finite = np.isfinite(kappa) & (n > 0)
    k0 = np.where(finite, kappa, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = k0.sum(axis=0) / finite.sum(axis=0)
        weighted = (k0 * n * finite).sum(axis=0) / (n * finite).sum(axis=0)
    return mean, weighted


def _kappa_block(
    table: AnnotationTable, join: PairJoin, keep: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """(K + 1, 2) array: row 0 overall (mean, weighted mean) κ, rows 1.. per label."""
    stats = pair_stats(table=table, join=join, weights=weights)
    n = stats.n[keep]
    _, kappa = overall_kappas(stats, multi_label=table.multi_label)
    _, label_kappa = binary_kappas(stats)
    out = np.empty((table.n_classes + 1, 2))
    out[0] = _kappa_means(kappa[keep], n)
    mean, weighted = _kappa_means(label_kappa[keep], n[:, None])
    out[1:, 0], out[1:, 1] = mean, weighted
    return out


def _metric_block(counts: CountMetrics, kappas: np.ndarray) -> np.ndarray:
    """(…, K + 1, 5) array of all metrics in ``METRICS`` order; row 0 overall, then per label."""
    overall = np.stack([counts.percent_agreement, counts.fleiss_kappa, counts.krippendorff_alpha], axis=-1)
    labels = np.stack(
        [
            counts.per_label_percent_agreement,
            counts.per_label_fleiss_kappa,
            counts.per_label_krippendorff_alpha,
        ],
        axis=-1,
    )
    counted = np.concatenate([overall[..., None, :], labels], axis=-2)
    return np.concatenate([counted, kappas], axis=-1)


def agreement_report(
    *,
    table: AnnotationTable,
    min_overlap: int = 5,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> AgreementReport:
    """Percent agreement, Fleiss' κ, Krippendorff's α and pairwise Cohen's κ (mean and overlap-weighted mean),
    overall and one-vs-rest per label, with item-bootstrap intervals when ``n_boot > 0``.

    Bootstrap resamples items that have ≥ 2 annotations; the set of reported pairs is fixed by the full data
    (pairs with overlap ≥ ``min_overlap``), a resample that leaves a pair without shared items skips it.

    Raises:
        ValueError: if ``min_overlap < 1``, ``n_boot < 0`` or ``level`` is not in (0, 1).
    """
    if n_boot < 0:
        raise ValueError("n_boot must be non-negative")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    join = join_pairs(table=table)
    pairwise = pairwise_cohen_kappa(table=table, min_overlap=min_overlap, join=join)
    keep = np.bincount(join.pair, minlength=join.annotator_a.size) >= min_overlap
    point = _metric_block(count_metrics(table=table), _kappa_block(table, join, keep, None))
    eligible_items = np.flatnonzero(table.annotations_per_item() >= 2)
    low = high = None
    if n_boot > 0 and eligible_items.size:
        features = item_features(table=table)
        samples = []
        for batch in resample_weights(n_items=table.n_items, units=eligible_items, n_boot=n_boot, seed=seed):
            sums = weighted_sums(batch, features)
            counts = metrics_from_sums(sums, n_classes=table.n_classes, multi_label=table.multi_label)
            kappas = np.stack([_kappa_block(table, join, keep, w) for w in batch])
            samples.append(_metric_block(counts, kappas))
        interval = percentile_interval(np.concatenate(samples), level, n_boot)
        low, high = np.asarray(interval.low), np.asarray(interval.high)
    n_pairs = int(keep.sum())

    def summary(row: int) -> AgreementSummary:
        values = {name: float(point[row, j]) for j, name in enumerate(METRICS)}
        ci = (
            {}
            if low is None or high is None
            else {name: (float(low[row, j]), float(high[row, j])) for j, name in enumerate(METRICS)}
        )
        return AgreementSummary(**values, n_items=int(eligible_items.size), n_pairs=n_pairs, ci=ci)

    per_label = {c: summary(c + 1) for c in range(table.n_classes)}
    return AgreementReport(
        overall=summary(0),
        per_label=per_label,
        pairwise=pairwise,
        n_annotations=table.n_annotations,
        multi_label=table.multi_label,
        n_boot=n_boot,
        level=level,
    )
