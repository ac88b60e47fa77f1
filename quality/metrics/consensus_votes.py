"""The rule that turns a consensus method's scores into the label stored and shown as "Consensus".

A reviewer reads "Consensus" as "what the annotators settled on". A model-aware method (Dawid–Skene weighing
annotators by reliability, or with model probabilities as a prior) can rank above every voted label a label no
annotator chose, or a minority label above the most-voted one. Both can be right, but neither is the
annotators' answer, so:

* the stored consensus is always a label at least one annotator chose: the method's top label when it has a
  vote, else the voted label the method scores highest;
* a top label without a vote is kept apart as a *suggestion*, never the consensus;
* ``overrides`` marks items where the method's top label has fewer votes than the most-voted label (no vote at
  all, or a minority beating a majority), so they carry the ``model_overrides_annotators`` reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VotedConsensus", "gold_settled_confidence", "voted_consensus"]


@dataclass(frozen=True)
class VotedConsensus:
    """Attributes:
    label: int64 ``(n_items,)``, a voted class, ``-1`` for items without votes.
    confidence: float ``(n_items,)``, the method's score of ``label``; NaN without votes.
    suggestion: int64 ``(n_items,)``, the method's top class where nobody voted for it, else ``-1``.
    overrides: bool ``(n_items,)``, the method's top class has fewer votes than the item's most-voted class.
    """

    label: np.ndarray
    confidence: np.ndarray
    suggestion: np.ndarray
    overrides: np.ndarray


def _top(scores: np.ndarray, allowed: np.ndarray, tie_rank: np.ndarray) -> np.ndarray:
    """Per row, the allowed class with the highest score; equal scores go to the higher ``tie_rank``."""
    masked = np.where(allowed, scores, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    at_top = allowed & np.isclose(masked, best, rtol=1e-12, atol=0.0)
    return np.argmax(np.where(at_top, tie_rank[None, :], -np.inf), axis=1).astype(np.int64)


def voted_consensus(
    *, scores: np.ndarray, counts: np.ndarray, tie_rank: np.ndarray | None = None
) -> VotedConsensus:
    """Apply the rule of the module docstring.

    Args:
        scores: float ``(n_items, n_classes)``, the method's posterior (or vote shares); rows of items without
            votes are ignored.
        counts: int ``(n_items, n_classes)`` votes per class (``AnnotationTable.counts()``).
        tie_rank: float ``(n_classes,)``; among classes with equal scores the higher rank wins (e.g. class
            priors). Default: the lower class index wins.

    Raises:
        ValueError: on shapes that do not match, or NaN scores on an item with votes.
    """
    scores = np.asarray(scores, dtype=np.float64)
    counts = np.asarray(counts)
    if scores.ndim != 2 or scores.shape != counts.shape:
        raise ValueError(
            f"scores and counts must have the same 2-D shape, got {scores.shape} and {counts.shape}"
        )
    n_items, n_classes = scores.shape
    rank = (
        -np.arange(n_classes, dtype=np.float64)
        if tie_rank is None
        else np.asarray(tie_rank, dtype=np.float64)
    )
    if rank.shape != (n_classes,):
        raise ValueError(f"tie_rank must have shape ({n_classes},)")
    voted = counts > 0
    annotated = voted.any(axis=1)
    if np.isnan(scores[annotated]).any():
        raise ValueError("scores must be finite on items with votes")
    everything = np.ones_like(voted)
    top = _top(scores, everything, rank)
    label = _top(scores, voted, rank)
    rows = np.arange(n_items)
    top_votes = counts[rows, top]
    label[~annotated] = -1
    suggestion = np.where(annotated & (top_votes == 0), top, -1).astype(np.int64)
    overrides = annotated & (top_votes < counts.max(axis=1, initial=0))
    confidence = np.full(n_items, np.nan)
    confidence[annotated] = scores[rows[annotated], label[annotated]]
    return VotedConsensus(label=label, confidence=confidence, suggestion=suggestion, overrides=overrides)


def gold_settled_confidence(*, label: np.ndarray, confidence: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """The consensus confidence with gold items settled: 1 where the consensus equals the gold label, 0 where it
    differs, the method's value elsewhere.

    Confidence is shown as the probability that the consensus is right. On a gold item that is known, not
    estimated: a posterior of 1.00 beside a gold mismatch would contradict the page it sits on.

    Args:
        label, gold: int ``(n_items,)`` class index or label-set bitmask, ``-1`` for none.
        confidence: float ``(n_items,)``.

    Raises:
        ValueError: when the three arrays do not share one 1-D shape.
    """
    label, gold = np.asarray(label), np.asarray(gold)
    out = np.asarray(confidence, dtype=np.float64).copy()
    if label.ndim != 1 or label.shape != gold.shape or label.shape != out.shape:
        raise ValueError("label, confidence and gold must share one 1-D shape")
    known = (gold >= 0) & (label >= 0)
    out[known] = (label[known] == gold[known]).astype(np.float64)
    return out
