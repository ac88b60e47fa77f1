"""Adaptive overlap: how many more annotations each item needs, from its votes so far."""

from __future__ import annotations

import numpy as np


def additional_annotations(
    *,
    votes: np.ndarray,
    k: int,
    max_k: int,
    model_proba: np.ndarray | None = None,
    early_stop: bool = False,
    confidence: float = 0.9,
    required_share: float = 0.5,
) -> np.ndarray:
    """Annotations still wanted per item, shape (n,), int64.

    ``votes`` is (n, K) counts of each label per item (unsure/unusable votes excluded). Rules, in order:
    - an item with ``max_k`` or more votes needs 0 (the hard cap);
    - with ``early_stop``, an item with ≥ 2 votes that are unanimous, where the model's most likely label is
      that label with probability ≥ ``confidence``, needs 0 (saves the rest of k on easy items);
    - an item with fewer than ``k`` votes needs ``k`` − votes;
    - an item with ≥ k votes whose top label holds more than ``required_share`` of the votes (strict
      majority by default; 0.99 demands unanimity) needs 0, otherwise 1 more — one at a time, so each
      new vote is seen before asking for another.
    Preconditions: 1 ≤ k ≤ max_k; ``model_proba`` (n, K) if given; NaN model rows count as not confident.
    Raises ValueError on bad shapes or counts.
    """
    votes = np.asarray(votes)
    if votes.ndim != 2 or (votes < 0).any():
        raise ValueError("votes must be an (n, K) matrix of non-negative counts")
    if not 1 <= k <= max_k:
        raise ValueError("need 1 <= k <= max_k")
    total = votes.sum(axis=1)
    top = votes.max(axis=1, initial=0)
    settled = top > required_share * total
    needed = np.where(total < k, k - total, np.where(settled, 0, 1))
    if early_stop and model_proba is not None:
        proba = np.asarray(model_proba, dtype=np.float64)
        if proba.shape != votes.shape:
            raise ValueError("model_proba must have the same shape as votes")
        with np.errstate(invalid="ignore"):
            confident = np.nan_to_num(proba.max(axis=1), nan=0.0) >= confidence
        model_agrees = confident & (np.nan_to_num(proba, nan=-1.0).argmax(axis=1) == votes.argmax(axis=1))
        unanimous = (total >= 2) & (top == total)
        needed = np.where(unanimous & model_agrees, 0, needed)
    needed = np.minimum(needed, np.maximum(max_k - total, 0))
    return needed.astype(np.int64)
