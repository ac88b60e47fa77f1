"""Consensus for classification: one class per item (Dawid–Skene, CROWDLAB, majority vote) or, multi-label, one
binary decision per class, for a whole run and for one item's votes (the per-item update). The numeric work is
``quality.metrics``'; this module chooses and combines it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from quality.adapters import ItemVotes, ProjectData
from quality.metrics.consensus import (
    consensus_single_item,
    crowdlab,
    dawid_skene,
    iterative_crowdlab,
    majority_vote,
)
from quality.metrics.consensus_votes import voted_consensus
from quality.services.kind_steps import MAX_PARAMS, Consensus, ItemConsensus
from quality.services.quality_model import QUALITY_MODEL_ROUNDS, QualityModel


def _vote_tie(counts: np.ndarray) -> np.ndarray:
    top = counts.max(axis=1, keepdims=True)
    return (counts.sum(axis=1) > 0) & ((counts == top).sum(axis=1) > 1)


def _filled_probs(data: ProjectData) -> np.ndarray:
    """``pred_probs`` with a uniform row where an item has no probabilities."""
    k = data.table.n_classes
    return np.where(data.has_probs[:, None], np.nan_to_num(data.pred_probs, nan=1.0 / k), 1.0 / k)


def single_consensus(data: ProjectData, method: str, quality_model: QualityModel | None = None) -> Consensus:
    table = data.table
    counts = table.counts()
    params: dict = {}
    model_probs = None
    model_prior = False
    scores = None
    if method == "majority_vote":
        result = majority_vote(table=table)
        fit = None
    elif method == "crowdlab":
        has = data.has_probs if quality_model is None else quality_model.covered
        fallback = (table.annotations_per_item() > 0) & ~has
        # CROWDLAB sees only the items with model probabilities (a made-up uniform row would count as a
        # maximally unsure model vote); the uniform rows left in ``probs`` belong to items without annotations
        # in that table, which cleanlab never reads.
        scored = table.restrict(has[table.item]) if fallback.any() else table
        if quality_model is None:
            probs = _filled_probs(data)
            result = crowdlab(table=scored, pred_probs=probs)
        else:
            refined = iterative_crowdlab(
                table=scored, fit_predict_oos=quality_model.fit, rounds=QUALITY_MODEL_ROUNDS
            )
            result, probs = refined.consensus, refined.pred_probs
            model_probs = quality_model.masked(probs)
        # One posterior decides both the label and its confidence: Dawid–Skene with CROWDLAB's final model
        # probabilities as each item's prior (the same fit the per-item update continues). CROWDLAB's own label
        # is the argmax of a weighted average and its quality score a ranking score, not a probability; pairing
        # that label with this posterior's confidence showed labels at confidence 0.00 wherever the two disagreed. CROWDLAB still supplies the
        # model probabilities (and the quality model's training labels) and the annotator quality.
        fit = dawid_skene(table=table, item_prior=probs)
        model_prior = True
        scores = fit.consensus.posteriors.copy()
        quality = result.annotator_quality
        if fallback.any():
            # The documented fallback: plain Dawid–Skene (no model prior) for labelled items without
            # probabilities. Annotators seen only there get its quality (expected accuracy, also in [0, 1]).
            # Its parameters are the ones kept for the per-item update, which sees such items too.
            fit = dawid_skene(table=table)
            model_prior = False
            scores[fallback] = fit.consensus.posteriors[fallback]
            quality = np.where(np.isfinite(quality), quality, fit.consensus.annotator_quality)
        result = replace(result, annotator_quality=quality)
    else:
        fit = dawid_skene(table=table)
        result = fit.consensus
        scores = fit.consensus.posteriors
    if scores is None:
        label, confidence = result.label, result.confidence
        suggestion = np.full(table.n_items, -1, dtype=np.int64)
        overrides = np.zeros(table.n_items, dtype=bool)
    else:
        voted = voted_consensus(scores=scores, counts=counts, tie_rank=fit.priors)
        label, confidence, suggestion, overrides = (
            voted.label,
            voted.confidence,
            voted.suggestion,
            voted.overrides,
        )
    if fit is not None and fit.confusion.size <= MAX_PARAMS:
        params = {
            "method": "dawid_skene",
            "user_ids": data.user_ids.tolist(),
            "label_values": list(data.label_values),
            "confusion": np.round(fit.confusion, 6).tolist(),
            "priors": np.round(fit.priors, 9).tolist(),
        }
        if model_prior:
            # The fit used model probabilities as item priors: the per-item update does the same with the
            # item's stored model probabilities when it has them.
            params["item_prior"] = "model"
    return Consensus(
        label=label,
        confidence=confidence,
        is_tie=_vote_tie(counts),
        annotator_quality=result.annotator_quality,
        params=params,
        model_probs=model_probs,
        suggestion=suggestion,
        overrides=overrides,
    )


def multi_consensus(data: ProjectData, method: str) -> Consensus:
    """Per label one-vs-rest: a label is in the consensus set when its posterior (or vote share) exceeds ½."""
    table = data.table
    annotated = table.annotations_per_item() > 0
    probability = np.zeros((table.n_items, table.n_classes))
    quality = np.zeros((table.n_annotators, table.n_classes))
    for c in range(table.n_classes):
        binary = table.one_vs_rest(c)
        result = (
            majority_vote(table=binary) if method == "majority_vote" else dawid_skene(table=binary).consensus
        )
        if result.posteriors is not None:
            probability[:, c] = result.posteriors[:, 1]
        else:
            votes = binary.counts()
            probability[:, c] = votes[:, 1] / np.maximum(votes.sum(axis=1), 1)
        quality[:, c] = result.annotator_quality
    bits = probability > 0.5
    code = (bits.astype(np.int64) << np.arange(table.n_classes)).sum(axis=1)
    code[~annotated] = -1
    confidence = np.where(annotated, np.maximum(probability, 1.0 - probability).min(axis=1), np.nan)
    flagged = table.counts()
    n_votes = table.annotations_per_item()
    tie = annotated & (2 * flagged == n_votes[:, None]).any(axis=1)
    with np.errstate(invalid="ignore"):
        mean_quality = np.nanmean(np.where(np.isfinite(quality), quality, np.nan), axis=1)
    return Consensus(label=code, confidence=confidence, is_tie=tie, annotator_quality=mean_quality, params={})


# Model probabilities are floored before they act as a prior, as in the Dawid–Skene fit: a class the model rules
# out stays reachable when the votes insist on it.
PRIOR_FLOOR = 1e-6


def _model_prior(probs: object, label_values: list[str], *, fallback: np.ndarray | None) -> np.ndarray | None:
    """The item's stored model probabilities as a prior in ``label_values`` order; ``fallback`` when it has none."""
    if not isinstance(probs, dict) or not probs:
        return fallback
    row = np.array([probs.get(value, 0.0) for value in label_values], dtype=np.float64)
    if not np.isfinite(row).all() or (row < 0).any() or row.sum() <= 0:
        return fallback
    row = np.maximum(row / row.sum(), PRIOR_FLOOR)
    return row / row.sum()


def single_item_consensus(votes: ItemVotes) -> ItemConsensus:
    """One item's class from its votes (at least one): Dawid–Skene with the last run's weights when it stored
    some (the item's model probabilities as its prior when that run was model-aware), else majority vote."""
    k = len(votes.label_values)
    params = votes.params
    priors = np.asarray(params["priors"]) if params.get("priors") else None
    if params.get("confusion") and params.get("item_prior") == "model":
        priors = _model_prior(votes.item.predicted_probs, votes.label_values, fallback=priors)
    single = consensus_single_item(
        annotators=votes.annotators,
        labels=votes.labels,
        n_classes=k,
        confusion=np.asarray(params["confusion"]) if params.get("confusion") else None,
        priors=priors,
    )
    return ItemConsensus(
        code=single.label,
        confidence=single.confidence,
        is_tie=single.is_tie,
        suggestion=single.suggestion,
        overrides=single.overrides,
        vote_counts=np.bincount(votes.labels, minlength=k)[None, :],
    )


def multi_item_consensus(votes: ItemVotes) -> ItemConsensus:
    """Per-label majority over one item's label-set bitmasks (at least one): the bitmask, the weakest per-label
    share as its confidence, and whether any label split exactly."""
    n_classes = len(votes.label_values)
    bits = (votes.labels[:, None] >> np.arange(n_classes)) & 1
    share = bits.mean(axis=0)
    code = int((share > 0.5).astype(np.int64) @ (1 << np.arange(n_classes)))
    return ItemConsensus(
        code=code, confidence=float(np.maximum(share, 1.0 - share).min()), is_tie=bool((share == 0.5).any())
    )
