"""Consensus labels: one entry point for the quality job, and a cheap one-item update for the annotation flow.

Methods live in ``consensus_majority`` (majority vote), ``consensus_dawid_skene`` (Dawid–Skene EM),
``consensus_crowdlab`` (cleanlab CROWDLAB / ActiveLab) and ``consensus_iterative`` (CROWDLAB with retraining);
this module re-exports their public names so callers import from one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.consensus_crowdlab import active_learning_scores, crowdlab
from quality.metrics.consensus_dawid_skene import DawidSkeneResult, dawid_skene
from quality.metrics.consensus_iterative import IterativeConsensus, iterative_crowdlab
from quality.metrics.consensus_majority import majority_vote
from quality.metrics.consensus_result import ConsensusResult, require_single_label
from quality.metrics.consensus_votes import VotedConsensus, voted_consensus
from quality.metrics.table import AnnotationTable

__all__ = [
    "METHODS",
    "ConsensusResult",
    "DawidSkeneResult",
    "IterativeConsensus",
    "SingleItemConsensus",
    "VotedConsensus",
    "active_learning_scores",
    "consensus",
    "consensus_single_item",
    "crowdlab",
    "dawid_skene",
    "iterative_crowdlab",
    "majority_vote",
    "voted_consensus",
]

METHODS = ("majority_vote", "dawid_skene", "crowdlab")


def consensus(
    *, table: AnnotationTable, method: str | None = None, pred_probs: np.ndarray | None = None
) -> ConsensusResult:
    """Consensus label per item by the chosen method.

    With ``method=None``: ``"crowdlab"`` when ``pred_probs`` is given and some item has two or more
    annotations, otherwise ``"dawid_skene"``; ``result.method`` says which ran.

    Raises:
        ValueError: on an unknown method, ``"crowdlab"`` without ``pred_probs``, ``pred_probs`` given to a
            method that does not use it (so it is never silently ignored), or the method's own input errors.
    """
    require_single_label(table)
    if method is None:
        multi = bool((table.annotations_per_item() >= 2).any())
        method = "crowdlab" if pred_probs is not None and multi else "dawid_skene"
        if method == "dawid_skene":
            pred_probs = None
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "crowdlab":
        if pred_probs is None:
            raise ValueError("crowdlab needs pred_probs")
        return crowdlab(table=table, pred_probs=pred_probs)
    if pred_probs is not None:
        raise ValueError(f"{method} does not use pred_probs")
    if method == "majority_vote":
        return majority_vote(table=table)
    return dawid_skene(table=table).consensus


@dataclass(frozen=True)
class SingleItemConsensus:
    """Consensus for one item.

    Attributes:
        label: the consensus, always a class somebody voted for (:mod:`~quality.metrics.consensus_votes`);
            ``-1`` when there are no votes.
        confidence: the vote share (no confusion matrices) or the posterior of ``label``; NaN without votes.
        is_tie: whether the top score was shared and the tie-break decided.
        posterior: float ``(n_classes,)``: vote shares, or the Dawid–Skene posterior; all NaN without votes.
        suggestion: the posterior's top class when nobody voted for it, else ``-1``.
        overrides: the posterior's top class has fewer votes than the most-voted class.
    """

    label: int
    confidence: float
    is_tie: bool
    posterior: np.ndarray
    suggestion: int = -1
    overrides: bool = False


def consensus_single_item(
    *,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    confusion: np.ndarray | None = None,
    priors: np.ndarray | None = None,
) -> SingleItemConsensus:
    """Consensus of one item's votes, optionally weighted by the last Dawid–Skene fit.

    Cost is O(votes × n_classes), cheap enough to run when an item receives its k-th annotation. Without
    ``confusion`` it is a majority vote; with it, the Dawid–Skene posterior
    ``∝ priors · Π_votes confusion[a, :, label]`` under the stored parameters. Annotators beyond
    ``confusion.shape[0]`` (joined after the fit) get the mean confusion matrix. Ties go to the class with the
    higher prior (when ``priors`` is given), then to the lower class index. The label is chosen among the
    voted classes (see :func:`~quality.metrics.consensus_votes.voted_consensus`): a strong prior can make an
    unvoted class the posterior's top, which is reported as ``suggestion``, never as the label.

    Args:
        annotators: int ``(n_votes,)`` annotator indices (only used with ``confusion``).
        labels: int ``(n_votes,)`` class indices.
        n_classes: number of classes.
        confusion: ``DawidSkeneResult.confusion`` ``(n_annotators, n_classes, n_classes)``.
        priors: ``DawidSkeneResult.priors`` ``(n_classes,)``; uniform when omitted.

    Raises:
        ValueError: on mismatched lengths, out-of-range labels or annotators, or malformed ``confusion`` or
            ``priors``.
    """
    annotators = np.asarray(annotators, dtype=np.int64).ravel()
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if annotators.shape != labels.shape:
        raise ValueError("annotators and labels must have the same length")
    if n_classes < 2:
        raise ValueError("n_classes must be at least 2")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}]")
    if annotators.size and annotators.min() < 0:
        raise ValueError("annotator indices must be non-negative")
    prior = np.full(n_classes, 1.0 / n_classes) if priors is None else np.asarray(priors, dtype=np.float64)
    if prior.shape != (n_classes,) or (prior < 0).any() or not np.isclose(prior.sum(), 1.0):
        raise ValueError(f"priors must be a probability vector of length {n_classes}")
    if labels.size == 0:
        return SingleItemConsensus(
            label=-1, confidence=float("nan"), is_tie=False, posterior=np.full(n_classes, np.nan)
        )

    if confusion is None:
        score = np.bincount(labels, minlength=n_classes).astype(np.float64)
    else:
        confusion = np.asarray(confusion, dtype=np.float64)
        if confusion.ndim != 3 or confusion.shape[1:] != (n_classes, n_classes) or confusion.shape[0] == 0:
            raise ValueError(f"confusion must have shape (n_annotators, {n_classes}, {n_classes})")
        known = annotators < confusion.shape[0]
        per_vote = np.where(
            known[:, None],
            confusion[np.minimum(annotators, confusion.shape[0] - 1), :, labels],
            confusion.mean(axis=0)[:, labels].T,
        )
        log_score = np.log(np.maximum(prior, 1e-300)) + np.log(np.maximum(per_vote, 1e-300)).sum(axis=0)
        score = np.exp(log_score - log_score.max())
    posterior = score / score.sum()
    counts = np.bincount(labels, minlength=n_classes)
    # Among tied classes: highest prior first, then the lowest index.
    voted = voted_consensus(scores=posterior[None, :], counts=counts[None, :], tie_rank=prior)
    label = int(voted.label[0])
    at_top = np.isclose(score, score[label], rtol=1e-12, atol=0.0) & (counts > 0)
    return SingleItemConsensus(
        label=label,
        confidence=float(posterior[label]),
        is_tie=bool(at_top.sum() > 1),
        posterior=posterior,
        suggestion=int(voted.suggestion[0]),
        overrides=bool(voted.overrides[0]),
    )
