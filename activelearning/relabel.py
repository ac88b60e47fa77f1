"""Votes as arrays, and ActiveLab relabel scores (cleanlab) for items that already have annotations."""

from __future__ import annotations

import warnings

import numpy as np


def vote_counts(*, item_index: np.ndarray, labels: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    """(n_items, n_classes) counts from one row per vote: ``item_index`` in [0, n_items), ``labels`` in
    [0, n_classes); votes with a label < 0 (unsure, unusable, unknown label) are not counted."""
    item_index = np.asarray(item_index, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    flat = np.bincount(item_index[keep] * n_classes + labels[keep], minlength=n_items * n_classes)
    return flat.reshape(n_items, n_classes)


def votes_matrix(*, item_index: np.ndarray, annotator_index: np.ndarray, labels: np.ndarray, n_items: int,
                 n_annotators: int) -> np.ndarray:
    """(n_items, n_annotators) float matrix of class indices, NaN where an annotator gave no usable label."""
    matrix = np.full((n_items, n_annotators), np.nan)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    matrix[np.asarray(item_index)[keep], np.asarray(annotator_index)[keep]] = labels[keep]
    return matrix


def activelab_scores(*, votes: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """ActiveLab scores in [0, 1] for items with at least one vote (lower = another label is worth more).

    ``votes`` is the (n, m) matrix from :func:`votes_matrix`, ``pred_probs`` (n, K) out-of-sample probabilities.
    Rows without any vote or with non-finite probabilities get NaN. Annotators without a vote are dropped.
    """
    votes = np.asarray(votes, dtype=np.float64)
    proba = np.asarray(pred_probs, dtype=np.float64)
    result = np.full(len(votes), np.nan)
    rows = np.flatnonzero(~np.isnan(votes).all(axis=1) & np.isfinite(proba).all(axis=1))
    if not len(rows):
        return result
    matrix = votes[rows]
    matrix = matrix[:, ~np.isnan(matrix).all(axis=0)]
    probabilities = proba[rows]
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    from cleanlab.multiannotator import get_active_learning_scores  # heavy import, only when scoring

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cleanlab warns about annotators with few labels; that is expected here
        scores, _ = get_active_learning_scores(labels_multiannotator=matrix, pred_probs=probabilities)
    result[rows] = scores
    return result
