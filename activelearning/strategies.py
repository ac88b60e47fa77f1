"""Sampling strategies: informativeness scores (higher = label it sooner), batch diversity, cold start.

Score functions take probabilities (n, K) — or MC-dropout samples (S, n, K) for BALD — and return (n,)
float64 scores. Rows of NaN probabilities (items whose features failed) score NaN and are never selected.
``score_chunks`` + ``top_candidates`` score a pool of any size in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import entr

from activelearning.strategy_names import STRATEGIES


def _floating(array: np.ndarray) -> np.ndarray:
    """float32 input stays float32 (scores need no more, and a 1M-row pool's MC samples halve in size)."""
    array = np.asarray(array)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


def _entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats along the last axis, with 0·log 0 = 0; NaN rows stay NaN."""
    return entr(_floating(proba)).sum(axis=-1)


def least_confidence(*, proba: np.ndarray) -> np.ndarray:
    """1 − max_k p_k."""
    return 1.0 - np.asarray(proba, dtype=np.float64).max(axis=1)


def margin(*, proba: np.ndarray) -> np.ndarray:
    """1 − (p_(1) − p_(2)): the gap between the two most likely classes, inverted. Needs K ≥ 2."""
    p = np.asarray(proba, dtype=np.float64)
    if p.shape[1] < 2:
        raise ValueError("margin needs at least 2 classes")
    top_two = -np.partition(-p, 1, axis=1)[:, :2]
    return 1.0 - (top_two[:, 0] - top_two[:, 1])


def entropy(*, proba: np.ndarray) -> np.ndarray:
    """−Σ_k p_k log p_k (nats)."""
    return _entropy(proba).astype(np.float64)


def bald(*, samples: np.ndarray) -> np.ndarray:
    """Mutual information between the label and the weights: H(mean_s p_s) − mean_s H(p_s), from
    MC-dropout samples (S, n, K). Always ≥ 0; exactly 0 when all samples are identical (no dropout)."""
    s = _floating(samples)
    if s.ndim != 3:
        raise ValueError("BALD needs MC-dropout samples of shape (S, n, K)")
    # Averages are taken as sample 0 plus the mean deviation from it, so identical samples give exactly
    # sample 0, and both entropies go through one call on one array, so they round identically.
    mean_proba = s[0] + (s - s[0]).mean(axis=0)
    entropies = _entropy(np.concatenate([s, mean_proba[None]], axis=0))
    sample_entropy, mean_entropy = entropies[:-1], entropies[-1]
    expected_entropy = sample_entropy[0] + (sample_entropy - sample_entropy[0]).mean(axis=0)
    return np.maximum(mean_entropy - expected_entropy, 0.0).astype(np.float64)


def random_scores(*, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform [0, 1) scores: random sampling expressed as a strategy."""
    return rng.random(n)


def score(
    *,
    strategy: str,
    proba: np.ndarray | None = None,
    samples: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Dispatch by name. BALD needs ``samples``; random needs ``rng`` and the row count from either array;
    the others need ``proba`` (the mean of ``samples`` is used when only samples are given).
    Raises ValueError for an unknown strategy or a missing input."""
    if strategy == "bald":
        if samples is None:
            raise ValueError("bald needs MC-dropout samples")
        return bald(samples=samples)
    if proba is None and samples is not None:
        proba = np.asarray(samples).mean(axis=0)
    if proba is None:
        raise ValueError(f"{strategy} needs probabilities")
    if strategy == "random":
        return random_scores(n=len(proba), rng=rng or np.random.default_rng())
    functions: dict[str, Callable[..., np.ndarray]] = {
        "least_confidence": least_confidence,
        "margin": margin,
        "entropy": entropy,
    }
    if strategy not in functions:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    return functions[strategy](proba=proba)


def score_chunks(
    *,
    features: np.ndarray,
    strategy: str,
    predict: Callable[[np.ndarray], np.ndarray],
    chunk_size: int = 65_536,
    seed: int = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yields ``(start_row, scores)`` for consecutive chunks of ``features``.

    ``predict`` maps a feature chunk to probabilities (m, K), or to MC-dropout samples (S, m, K) when the
    strategy is BALD (e.g. ``lambda X: model.mc_dropout_proba(X, n_samples=10)``). Peak memory is one
    chunk's worth of predictions, whatever the pool size.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, features.shape[0], chunk_size):
        chunk = features[start : start + chunk_size]
        if strategy == "random":
            yield start, random_scores(n=len(chunk), rng=rng)
            continue
        output = predict(chunk)
        if strategy == "bald":
            yield start, score(strategy=strategy, samples=output)
        else:
            yield start, score(strategy=strategy, proba=output)


@dataclass(frozen=True)
class Candidates:
    indices: np.ndarray  # (m,) pool rows, best first
    scores: np.ndarray  # (m,) their scores


def top_candidates(
    *, chunks: Iterator[tuple[int, np.ndarray]], m: int, exclude: np.ndarray | None = None
) -> Candidates:
    """The ``m`` highest-scoring rows over all chunks, keeping only 2m rows between chunks. NaN scores and
    rows in ``exclude`` (e.g. already labelled) are skipped. Ties keep the lower row index."""
    kept_index = np.empty(0, dtype=np.int64)
    kept_score = np.empty(0)
    excluded = None if exclude is None else np.unique(np.asarray(exclude, dtype=np.int64))
    for start, chunk_scores in chunks:
        index = np.arange(start, start + len(chunk_scores))
        valid = ~np.isnan(chunk_scores)
        if excluded is not None:
            valid &= ~np.isin(index, excluded, assume_unique=True)
        kept_index = np.concatenate([kept_index, index[valid]])
        kept_score = np.concatenate([kept_score, chunk_scores[valid]])
        if len(kept_index) > 2 * m:
            keep = np.argpartition(-kept_score, m - 1)[:m]
            kept_index, kept_score = kept_index[keep], kept_score[keep]
    order = np.lexsort((kept_index, -kept_score))[:m]
    return Candidates(indices=kept_index[order], scores=kept_score[order])


def _squared_distances(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    difference = points - centre
    return np.einsum("ij,ij->i", difference, difference)


def _min_squared_distance(points: np.ndarray, centres: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Distance from each point to its nearest centre, with centres processed in chunks (bounded memory)."""
    best = np.full(len(points), np.inf)
    point_norms = np.einsum("ij,ij->i", points, points)
    for start in range(0, len(centres), chunk):
        block = centres[start : start + chunk]
        squared = point_norms[:, None] - 2.0 * points @ block.T + np.einsum("ij,ij->i", block, block)[None, :]
        best = np.minimum(best, np.maximum(squared, 0.0).min(axis=1))
    return best


def _kmeanspp_pick(points: np.ndarray, k: int, first: int, rng: np.random.Generator) -> np.ndarray:
    chosen = [first]
    distance = _squared_distances(points, points[first])
    distance[first] = 0.0
    available = np.ones(len(points), dtype=bool)
    available[first] = False
    while len(chosen) < k:
        weights = np.where(available, distance, 0.0)
        total = weights.sum()
        # Exact duplicates of chosen points have weight 0; once only those remain, draw uniformly among
        # the unchosen so a batch is still filled, never with a repeated row.
        probabilities = weights / total if total > 0 else available / available.sum()
        pick = int(rng.choice(len(points), p=probabilities))
        chosen.append(pick)
        available[pick] = False
        distance = np.minimum(distance, _squared_distances(points, points[pick]))
    return np.asarray(chosen, dtype=np.int64)


def _coreset_pick(points: np.ndarray, k: int, first: int, labelled: np.ndarray | None) -> np.ndarray:
    distance = (
        np.full(len(points), np.inf)
        if labelled is None or not len(labelled)
        else _min_squared_distance(points, labelled)
    )
    available = np.ones(len(points), dtype=bool)
    chosen: list[int] = []
    pick = first if labelled is None or not len(labelled) else int(np.argmax(distance))
    while True:
        chosen.append(pick)
        available[pick] = False
        if len(chosen) == k:
            break
        distance = np.minimum(distance, _squared_distances(points, points[pick]))
        pick = int(np.argmax(np.where(available, distance, -1.0)))
    return np.asarray(chosen, dtype=np.int64)


def diverse_batch(
    *,
    features: np.ndarray,
    candidates: np.ndarray,
    batch_size: int,
    method: str = "kmeans++",
    labelled_features: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Pick ``batch_size`` distinct rows from ``candidates`` (pool row indices, best first) that spread
    over feature space.

    ``kmeans++``: the best candidate first, then D²-weighted draws (k-means++ seeding). ``coreset``: greedy
    k-centre — each pick is the candidate farthest from the labelled set and the picks so far. Candidates
    whose features are not finite are dropped; fewer than ``batch_size`` usable candidates returns them
    all. Returns pool row indices without duplicates. Raises ValueError for an unknown method.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    candidates = candidates[np.sort(np.unique(candidates, return_index=True)[1])]  # de-duplicate, keep order
    points = np.asarray(features[candidates], dtype=np.float64)
    finite = np.isfinite(points).all(axis=1)
    candidates, points = candidates[finite], points[finite]
    if batch_size <= 0 or not len(candidates):
        return np.empty(0, dtype=np.int64)
    if len(candidates) <= batch_size:
        return candidates
    if method == "kmeans++":
        picked = _kmeanspp_pick(points, batch_size, 0, np.random.default_rng(seed))
    elif method == "coreset":
        labelled = None if labelled_features is None else np.asarray(labelled_features, dtype=np.float64)
        picked = _coreset_pick(points, batch_size, 0, labelled)
    else:
        raise ValueError(f"unknown diversity method {method!r}")
    return candidates[picked]


def cold_start(*, features: np.ndarray, batch_size: int, seed: int = 0, max_pool: int = 20_000) -> np.ndarray:
    """A first batch before any model exists: k-means++ seeding over (a random subsample of at most
    ``max_pool``) finite feature rows, first pick at random — diverse and still random, so it covers the
    modes of the pool roughly in proportion. Returns distinct pool row indices."""
    rng = np.random.default_rng(seed)
    usable = np.flatnonzero(np.isfinite(features).all(axis=1))
    if len(usable) > max_pool:
        usable = np.sort(rng.choice(usable, size=max_pool, replace=False))
    if len(usable) <= batch_size:
        return usable
    points = np.asarray(features[usable], dtype=np.float64)
    return usable[_kmeanspp_pick(points, batch_size, int(rng.integers(len(usable))), rng)]
