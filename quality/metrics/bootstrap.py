"""Item-level bootstrap confidence intervals.

Items (not annotations) are the resampling unit because annotations on one item are correlated; resampling
rows would understate the interval. A resample is represented as an integer multiplicity per item (how often
the item was drawn), so every metric only needs to accept per-item weights instead of being re-run on a
copied table — and ratio-type metrics for many slices come out of one matrix product per batch of resamples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ConfidenceInterval",
    "bootstrap_ci",
    "bootstrap_ratio_ci",
    "percentile_interval",
    "resample_weights",
    "weighted_sums",
]

_BATCH_CELLS = 4_000_000  # resamples × items per batch: bounds memory at ~32 MB of float64 weights


@dataclass(frozen=True)
class ConfidenceInterval:
    """Percentile interval; ``low``/``high`` are floats for scalar statistics, arrays for vector ones."""

    low: float | np.ndarray
    high: float | np.ndarray
    level: float
    n_boot: int


def resample_weights(
    *, n_items: int, units: np.ndarray | None = None, n_boot: int = 200, seed: int = 0
) -> Iterator[np.ndarray]:
    """Yield batches of bootstrap multiplicities, float64 ``(batch, n_items)``, ``n_boot`` rows in total.

    Each row draws ``len(units)`` items from ``units`` (default: all items) with replacement; items outside
    ``units`` always get weight 0. Deterministic for a given ``seed``.

    Raises:
        ValueError: if ``n_boot < 1`` or a unit index is out of range.
    """
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    units = np.arange(n_items) if units is None else np.asarray(units, dtype=np.int64)
    if units.size and (units.min() < 0 or units.max() >= n_items):
        raise ValueError("units must be item indices in [0, n_items)")
    rng = np.random.default_rng(seed)
    u = units.size
    batch = max(1, min(n_boot, _BATCH_CELLS // max(n_items, 1)))
    done = 0
    while done < n_boot:
        b = min(batch, n_boot - done)
        draws = units[rng.integers(0, u, size=(b, u))] if u else np.zeros((b, 0), dtype=np.int64)
        # Offsetting each resample's draws by row × n_items turns b bincounts into one.
        offsets = (np.arange(b, dtype=np.int64) * n_items)[:, None]
        flat = np.bincount((draws + offsets).ravel(), minlength=b * n_items)
        yield flat.reshape(b, n_items).astype(np.float64)
        done += b


def weighted_sums(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``weights (b, n) @ values (n, s)`` computed as ``(values.T @ weights.T).T``.

    Same result; the transposed form was ~100× faster with the bundled BLAS for these wide-short shapes
    (measured 4.9 s vs 0.05 s for b=20, n=200,000, s=22).
    """
    return (values.T @ weights.T).T


def percentile_interval(samples: np.ndarray, level: float, n_boot: int) -> ConfidenceInterval:
    tail = (1.0 - level) / 2.0 * 100.0
    # A resample can leave a slice empty (nan); such resamples carry no information about that slice.
    masked = np.where(np.isfinite(samples), samples, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanpercentile(masked, tail, axis=0)
        high = np.nanpercentile(masked, 100.0 - tail, axis=0)
    if samples.ndim == 1:
        return ConfidenceInterval(low=float(low), high=float(high), level=level, n_boot=n_boot)
    return ConfidenceInterval(low=low, high=high, level=level, n_boot=n_boot)


def bootstrap_ci(
    *,
    statistic: Callable[[np.ndarray], float | np.ndarray],
    n_items: int,
    units: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``statistic(weights)`` where ``weights`` is ``(n_items,)`` float.

    ``statistic`` must treat ``weights`` as item multiplicities (weight 2 = item counted twice) and may return
    a scalar or a fixed-length vector; nan results (empty resample) are ignored per component.

    Raises:
        ValueError: if ``level`` is not in (0, 1) or ``n_boot < 1``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    samples = [
        np.asarray(statistic(w), dtype=np.float64)
        for batch in resample_weights(n_items=n_items, units=units, n_boot=n_boot, seed=seed)
        for w in batch
    ]
    return percentile_interval(np.stack(samples), level, n_boot)


def bootstrap_ratio_ci(
    *,
    numerator: np.ndarray,
    denominator: np.ndarray,
    units: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> ConfidenceInterval:
    """Intervals for many ratio statistics ``Σ_i num[i, s] / Σ_i den[i, s]`` at once (one per column ``s``).

    ``numerator`` and ``denominator`` are per-item sums, float ``(n_items, n_stats)``; every column shares the
    same resamples, which keeps slices of one report mutually consistent.

    Raises:
        ValueError: on shape mismatch, ``level`` outside (0, 1) or ``n_boot < 1``.
    """
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    if numerator.ndim != 2 or numerator.shape != denominator.shape:
        raise ValueError("numerator and denominator must be 2-D arrays of the same shape")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    parts = []
    for weights in resample_weights(n_items=numerator.shape[0], units=units, n_boot=n_boot, seed=seed):
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append(weighted_sums(weights, numerator) / weighted_sums(weights, denominator))
    return percentile_interval(np.concatenate(parts, axis=0), level, n_boot)
