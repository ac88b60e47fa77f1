"""Chance-corrected agreement from per-item vote counts: percent agreement, Fleiss' κ, Krippendorff's α.

Only items with at least two annotations carry agreement information; the rest are ignored by every metric.

All three metrics are ratios of *sums over items* of a few per-item features (see ``item_features``), so the
same code computes a point estimate (all weights 1) and a whole batch of bootstrap resamples (a weight matrix
times the feature matrix) — no metric is re-run per resample.

Definitions (``n_ic`` votes for class c on item i, ``m_i = Σ_c n_ic``, sums over items with ``m_i ≥ 2``):

* percent agreement: mean over items of the share of agreeing annotator pairs,
  ``P_i = Σ_c n_ic (n_ic − 1) / (m_i (m_i − 1))`` — every item weighs the same whatever its ``m_i``.
* Fleiss' κ with unequal counts: ``(P̄ − P_e) / (1 − P_e)`` with ``P̄`` the mean ``P_i`` above and
  ``P_e = Σ_c p_c²``, ``p_c = Σ_i n_ic / Σ_i m_i`` (pooled class shares). With equal ``m_i`` this is exactly
  Fleiss (1971); with unequal ``m_i`` it is the usual direct generalisation (per-item ``P_i`` with its own
  denominator, pooled marginals), not the Fleiss–Levin–Paik binary formula.
* Krippendorff's α (nominal): coincidence matrix ``o_ck = Σ_i (n_ic n_ik − [c=k] n_ic) / (m_i − 1)``,
  ``α = 1 − (n − 1)(n − Σ_c o_cc) / (n² − Σ_c n_c²)``
  with ``n_c = Σ_k o_ck = Σ_i n_ic`` and ``n = Σ_c n_c``.
  Nominal α only needs the diagonal and the marginals, which the features hold.

Undefined values (one class used by everyone, or no item with two annotations) are nan, never an exception.
Multi-label tables: each label is a binary (flagged / not) variable; overall values are the unweighted mean over
labels of the per-label binary metrics (labels with an undefined metric are skipped).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from quality.metrics.table import AnnotationTable

__all__ = [
    "CountMetrics",
    "coincidence_matrix",
    "count_metrics",
    "fleiss_kappa",
    "item_features",
    "krippendorff_alpha",
    "metrics_from_sums",
    "percent_agreement",
]


@dataclass(frozen=True)
class CountMetrics:
    """Overall and per-label (one-vs-rest, arrays of length n_classes) count-based agreement."""

    percent_agreement: float | np.ndarray
    fleiss_kappa: float | np.ndarray
    krippendorff_alpha: float | np.ndarray
    per_label_percent_agreement: np.ndarray
    per_label_fleiss_kappa: np.ndarray
    per_label_krippendorff_alpha: np.ndarray
    n_items: float | np.ndarray


def item_features(*, table: AnnotationTable) -> np.ndarray:
    """Per-item features, float64 ``(n_items, 4 + 3K)``; rows of items with < 2 annotations are zero.

    Columns: [eligible, m, P_i, D_i, n_i· (K), P_i^c (K), D_i^c (K)] where ``D_i = Σ_c n_ic(n_ic−1)/(m_i−1)``
    (the item's contribution to the coincidence diagonal) and ``^c`` marks the one-vs-rest binary version.
    """
    votes = table.counts().astype(np.float64)
    m = table.annotations_per_item().astype(np.float64)
    eligible = m >= 2
    denom_pairs = np.where(eligible, m * (m - 1), 1.0)
    denom_values = np.where(eligible, m - 1, 1.0)
    neg = m[:, None] - votes
    same = votes * (votes - 1)
    binary_same = same + neg * (neg - 1)
    k = table.n_classes
    features = np.empty((table.n_items, 4 + 3 * k))
    features[:, 0] = 1.0
    features[:, 1] = m
    features[:, 2] = same.sum(axis=1) / denom_pairs
    features[:, 3] = same.sum(axis=1) / denom_values
    features[:, 4 : 4 + k] = votes
    features[:, 4 + k : 4 + 2 * k] = binary_same / denom_pairs[:, None]
    features[:, 4 + 2 * k :] = binary_same / denom_values[:, None]
    features[~eligible] = 0.0
    return features


def metrics_from_sums(sums: np.ndarray, *, n_classes: int, multi_label: bool) -> CountMetrics:
    """Metrics from weighted feature sums ``(..., 4 + 3K)``; leading axes (e.g. resamples) are kept."""
    k = n_classes
    items, n, p_sum, d_sum = sums[..., 0], sums[..., 1], sums[..., 2], sums[..., 3]
    class_n = sums[..., 4 : 4 + k]
    p_bin, d_bin = sums[..., 4 + k : 4 + 2 * k], sums[..., 4 + 2 * k :]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = class_n / n[..., None]
        label_percent = p_bin / items[..., None]
        label_chance = share**2 + (1 - share) ** 2
        label_fleiss = _chance_corrected(label_percent, label_chance)
        label_disagree_exp = n[..., None] ** 2 - class_n**2 - (n[..., None] - class_n) ** 2
        label_alpha = _alpha(n[..., None], d_bin, label_disagree_exp)
        if multi_label:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all labels undefined → nan is the answer
                percent = np.nanmean(label_percent, axis=-1)
                fleiss = np.nanmean(label_fleiss, axis=-1)
                alpha = np.nanmean(label_alpha, axis=-1)
        else:
            percent = p_sum / items
            fleiss = _chance_corrected(percent, (share**2).sum(axis=-1))
            alpha = _alpha(n, d_sum, n**2 - (class_n**2).sum(axis=-1))
    scalar = sums.ndim == 1
    return CountMetrics(
        percent_agreement=float(percent) if scalar else percent,
        fleiss_kappa=float(fleiss) if scalar else fleiss,
        krippendorff_alpha=float(alpha) if scalar else alpha,
        per_label_percent_agreement=label_percent,
        per_label_fleiss_kappa=label_fleiss,
        per_label_krippendorff_alpha=label_alpha,
        n_items=float(items) if scalar else items,
    )


def _chance_corrected(observed: np.ndarray, chance: np.ndarray) -> np.ndarray:
    # Chance agreement 1 (a single class in use) leaves κ undefined rather than 0/0 noise.
    undefined = np.isclose(chance, 1.0, rtol=0, atol=1e-12) | ~np.isfinite(chance)
    return np.where(undefined, np.nan, (observed - chance) / np.where(undefined, 2.0, 1.0 - chance))


def _alpha(n: np.ndarray, diagonal: np.ndarray, expected_pairs: np.ndarray) -> np.ndarray:
    undefined = ~(expected_pairs > 1e-9 * np.maximum(n, 1) ** 2)
    safe = np.where(undefined, 1.0, expected_pairs)
    return np.where(undefined, np.nan, 1.0 - (n - 1) * (n - diagonal) / safe)


def count_metrics(*, table: AnnotationTable, weights: np.ndarray | None = None) -> CountMetrics:
    """All count-based metrics, overall and per label; ``weights`` are per-item multiplicities (default 1)."""
    features = item_features(table=table)
    sums = features.sum(axis=0) if weights is None else np.asarray(weights, dtype=np.float64) @ features
    return metrics_from_sums(sums, n_classes=table.n_classes, multi_label=table.multi_label)


def percent_agreement(*, table: AnnotationTable) -> float:
    """Mean over items (≥ 2 annotations) of the share of agreeing annotator pairs; nan if no such item."""
    return float(count_metrics(table=table).percent_agreement)


def fleiss_kappa(*, table: AnnotationTable) -> float:
    """Fleiss' κ over items with ≥ 2 annotations (generalisation for unequal counts: see module docstring)."""
    return float(count_metrics(table=table).fleiss_kappa)


def krippendorff_alpha(*, table: AnnotationTable) -> float:
    """Krippendorff's α, nominal metric, missing data allowed (items with < 2 values are not pairable)."""
    return float(count_metrics(table=table).krippendorff_alpha)


def coincidence_matrix(*, table: AnnotationTable) -> np.ndarray:
    """Krippendorff's coincidence matrix ``(K, K)`` of a single-label table, built from value counts.

    Raises:
        ValueError: for multi-label tables (use ``table.one_vs_rest(c)``).
    """
    if table.multi_label:
        raise ValueError("coincidence_matrix needs a single-label table")
    votes = table.counts().astype(np.float64)
    m = votes.sum(axis=1)
    eligible = m >= 2
    votes, m = votes[eligible], m[eligible]
    scaled = votes / (m - 1)[:, None]
    return scaled.T @ votes - np.diag(scaled.sum(axis=0))
