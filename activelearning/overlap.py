"""Adaptive overlap: how many more annotations each item needs, from its votes so far."""

from __future__ import annotations

import numpy as np


def settled(*, votes: np.ndarray, required_share: float = 0.5) -> np.ndarray:
    """(n,) bool: the item's top label holds more than ``required_share`` of its sure votes (an item without
    votes is not settled). ``votes`` is (n, K) counts."""
    votes = np.asarray(votes)
    return votes.max(axis=1, initial=0) > required_share * votes.sum(axis=1)


def capped_targets(
    *, wanted: np.ndarray, annotation_count: np.ndarray, annotators_left: np.ndarray
) -> np.ndarray:
    """(n,) int64: ``wanted`` targets lowered to what the annotators the queue can still serve each item to
    can give (the item's annotation count plus that number). A target no annotator can reach keeps an item in
    the queue forever."""
    reachable = np.asarray(annotation_count, dtype=np.int64) + np.maximum(np.asarray(annotators_left), 0)
    return np.minimum(np.asarray(wanted, dtype=np.int64), reachable)


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
    needed = np.where(
        total < k, k - total, np.where(settled(votes=votes, required_share=required_share), 0, 1)
    )
    if early_stop and model_proba is not None:
        proba = np.asarray(model_proba, dtype=np.float64)
        if proba.shape != votes.shape:
            raise ValueError("model_proba must have the same shape as votes")
        with np.errstate(invalid="ignore"):
            confident = np.nan_to_num(proba.max(axis=1), nan=0.0) >= confidence
        model_agrees = confident & (np.nan_to_num(proba, nan=-1.0).argmax(axis=1) == votes.argmax(axis=1))
        unanimous = (total >= 2) & (votes.max(axis=1, initial=0) == total)
        needed = np.where(unanimous & model_agrees, 0, needed)
    needed = np.minimum(needed, np.maximum(max_k - total, 0))
    return needed.astype(np.int64)
