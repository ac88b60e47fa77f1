"""Informativeness of a document from its tokens' probabilities (higher = label it sooner), for the token model.

A document is as uncertain as its tokens say: ``mean_entropy`` averages the tokens' entropies (documents that are
unsure throughout), ``max_entropy`` takes the least sure token (one doubtful entity in a long text), ``margin`` is
``1 − (p(1) − p(2))`` of the token with the smallest gap between its two likeliest classes, and ``bald`` the largest
token mutual information between the class and the weights from MC-dropout samples. A document without tokens
scores NaN (never selected).

How a project's sampling strategy reads for documents (``STRATEGY_MEASURE``): ``entropy`` → mean token entropy,
``least_confidence`` → max token entropy (the least confident token), ``margin`` → smallest token margin,
``bald`` → max token BALD.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

MEASURES = ("mean_entropy", "max_entropy", "margin", "bald")
STRATEGY_MEASURE = {
    "entropy": "mean_entropy",
    "least_confidence": "max_entropy",
    "margin": "margin",
    "bald": "bald",
}


def _per_doc(values: np.ndarray, ptr: np.ndarray, how: str) -> np.ndarray:
    lengths = np.diff(ptr)
    out = np.full(lengths.size, np.nan)
    full = lengths > 0
    if values.size and full.any():
        starts = ptr[:-1][full]
        if how == "max":
            out[full] = np.maximum.reduceat(values, starts)
        else:
            out[full] = np.add.reduceat(values, starts) / lengths[full]
    return out


def token_entropy(proba: np.ndarray) -> np.ndarray:
    return entr(np.asarray(proba, dtype=np.float64)).sum(axis=-1)


def doc_scores(
    *, proba: np.ndarray, ptr: np.ndarray, samples: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Per document: every measure of :data:`MEASURES` (``bald`` only with ``samples``, (S, n_tokens, K)).

    ``proba`` is (n_tokens, K) with documents concatenated, document ``d`` at ``ptr[d]:ptr[d + 1]``; K ≥ 2."""
    p = np.asarray(proba, dtype=np.float64)
    entropy = token_entropy(p)
    top_two = -np.partition(-p, 1, axis=1)[:, :2] if len(p) else np.zeros((0, 2))
    out = {
        "mean_entropy": _per_doc(entropy, ptr, "mean"),
        "max_entropy": _per_doc(entropy, ptr, "max"),
        "margin": _per_doc(1.0 - (top_two[:, 0] - top_two[:, 1]), ptr, "max"),
    }
    if samples is not None:
        s = np.asarray(samples, dtype=np.float64)
        mutual = token_entropy(s.mean(axis=0)) - token_entropy(s).mean(axis=0)
        out["bald"] = _per_doc(np.maximum(mutual, 0.0), ptr, "max")
    return out


def score_range(*, measure: str, n_classes: int) -> float:
    """The largest value a measure can take for K classes (all start at 0)."""
    return 1.0 if measure == "margin" else float(np.log(max(n_classes, 2)))
