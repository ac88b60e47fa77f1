"""A box project's quality run on arrays: agreement, consensus boxes, annotator figures against the consensus
and gold, and per-item issue reasons. Pure numpy/scipy: arrays in, a dataclass out.

Item reasons, each against the item's consensus (or, for ``gold_mismatch``, its gold boxes):

- ``missing_box``: an annotator who answered the item did not draw one of its consensus boxes;
- ``extra_box``: an annotator drew a box that overlaps no consensus box (IoU < 0.5 with every one, any label);
- ``class_confusion``: an annotator's box overlaps a consensus box of another label at IoU ≥ 0.5 and matches
  none of its own label;
- ``loose_boundary``: a box matched to a consensus box at IoU < ``LOOSE_IOU``;
- ``gold_mismatch``: the consensus boxes and the gold boxes do not match one-to-one;
- ``low_consensus_confidence``, ``unsure_or_unusable``, ``profile_flag``: as in
  ``quality.metrics.review_routing``.

An item's confidence is the lowest confidence of its consensus boxes and of 1 − the support of its nearest
miss (the strongest cluster that was not kept), 1.0 when everyone agreed on nothing to box. Only the routing
reasons (``quality.metrics.review_routing``: gold mismatch, confidence under the project's review threshold,
unsure/unusable, a routed profile flag) route an item to review, and only the first two make it a label
issue; the first four reasons describe where annotators differ and route nothing by themselves. Severity is
1 − confidence (1.0 on a gold mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinds.boxes.consensus import BoxConsensus, consensus_boxes, fuse_boxes
from kinds.boxes.metrics import (
    IOU_MATCH,
    BoxAgreement,
    BoxTable,
    Matches,
    ReferenceMatch,
    box_agreement,
    iou,
    match_edges,
    match_to_reference,
    pairs_within,
    pairwise_matches,
)
from quality.metrics.review_routing import label_issue, routed, routing_reasons

LOOSE_IOU = 0.75
REASONS = (
    "missing_box",
    "extra_box",
    "class_confusion",
    "loose_boundary",
    "gold_mismatch",
    "low_consensus_confidence",
    "unsure_or_unusable",
    "profile_flag",
)


@dataclass(frozen=True)
class Reference:
    """Reference boxes (``item``, ``label``, ``xywh``) and the items that have a reference answer (``scope``)."""

    item: np.ndarray
    label: np.ndarray
    xywh: np.ndarray
    scope: np.ndarray


@dataclass(frozen=True)
class AnnotatorBoxFigures:
    """Per annotator: boxes drawn, precision, recall and mean matched IoU against a reference (NaN where there is
    nothing to score)."""

    n_boxes: np.ndarray
    n_reference: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    mean_iou: np.ndarray


@dataclass(frozen=True)
class BoxRun:
    agreement: BoxAgreement
    consensus: BoxConsensus
    vs_consensus: AnnotatorBoxFigures
    vs_gold: AnnotatorBoxFigures | None
    item_confidence: np.ndarray
    item_reasons: np.ndarray  # (n_items, len(REASONS)) bool
    is_issue: np.ndarray  # the consensus may be wrong (``quality.metrics.review_routing.label_issue``)
    route: np.ndarray  # routed to review (``quality.metrics.review_routing.routed``)
    severity: np.ndarray
    n_answers: np.ndarray  # per annotator
    #: the pairwise matches every figure above was built on
    matches: Matches | None = None


def _figures(match: ReferenceMatch) -> AnnotatorBoxFigures:
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(match.n_boxes > 0, match.n_matches / match.n_boxes, np.nan)
        recall = np.where(match.n_reference > 0, match.n_matches / match.n_reference, np.nan)
        total = match.n_boxes + match.n_reference
        f1 = np.where(total > 0, 2.0 * match.n_matches / total, np.nan)
        mean_iou = np.where(match.n_matches > 0, match.iou_sum / match.n_matches, np.nan)
    return AnnotatorBoxFigures(match.n_boxes, match.n_reference, precision, recall, f1, mean_iou)


def _reference_match(table: BoxTable, ref: Reference) -> ReferenceMatch:
    return match_to_reference(
        table, ref_item=ref.item, ref_label=ref.label, ref_xywh=ref.xywh, scope=ref.scope
    )


def _gold_mismatch(consensus: BoxConsensus, gold: Reference, n_labels: int) -> np.ndarray:
    """Per item: gold boxes exist (scope) and the consensus and gold boxes do not match one-to-one."""
    n_items = gold.scope.size
    n_labels = max(n_labels, 1)
    keys = np.r_[consensus.item * n_labels + consensus.label, gold.item * n_labels + gold.label]
    boxes = np.r_[consensus.xywh.reshape(-1, 4), gold.xywh.reshape(-1, 4)]
    n_cons = consensus.item.size
    side = np.r_[np.zeros(n_cons, dtype=bool), np.ones(gold.item.size, dtype=bool)]
    # Candidate edges: consensus × gold boxes sharing item and label.
    left, right = pairs_within(keys)
    cross = side[left] != side[right]
    left, right = left[cross], right[cross]
    swap = side[left]
    left, right = np.where(swap, right, left), np.where(swap, left, right)
    matches = match_edges(left, right, iou(boxes[left], boxes[right]), keys[left])
    matched = np.zeros(keys.size, dtype=bool)
    matched[matches.left] = True
    matched[matches.right] = True
    item_of = np.r_[consensus.item, gold.item]
    unmatched = np.bincount(item_of[~matched], minlength=n_items) > 0
    return gold.scope & unmatched


def box_run(
    table: BoxTable,
    *,
    gold: Reference | None = None,
    min_overlap: int = 5,
    review_threshold: float = 0.6,
    weights: np.ndarray | None = None,
    unsure_count: np.ndarray | None = None,
    unusable_count: np.ndarray | None = None,
    profile_flag: np.ndarray | None = None,
    route_profile_flags: bool = True,
) -> BoxRun:
    """Every figure of a box project's quality run. ``weights``: fixed annotator weights (one fusion pass,
    e.g. the last run's for the per-item update); None: ``consensus_boxes`` finds them. ``unsure_count``,
    ``unusable_count``, ``profile_flag``: per item, None for none."""
    matches = pairwise_matches(table)
    agreement = box_agreement(table, min_overlap=min_overlap, matches=matches)
    consensus = (
        consensus_boxes(table, matches=matches)
        if weights is None
        else fuse_boxes(table, weights=weights, matches=matches)
    )
    answered = np.zeros(table.n_items, dtype=bool)
    answered[table.answer_item] = True
    cons_ref = Reference(consensus.item, consensus.label, consensus.xywh, answered)
    vs_cons = _reference_match(table, cons_ref)
    vs_gold = None
    gold_bad = np.zeros(table.n_items, dtype=bool)
    if gold is not None and gold.scope.any():
        vs_gold = _figures(_reference_match(table, gold))
        gold_bad = _gold_mismatch(consensus, gold, table.n_labels)

    reasons = np.zeros((table.n_items, len(REASONS)), dtype=bool)
    # missing: per item, consensus boxes × answering annotators exceed the matches found on it
    n_cons_item = np.bincount(consensus.item, minlength=table.n_items)
    n_answers_item = np.bincount(table.answer_item, minlength=table.n_items)
    matched_item = np.bincount(table.item[vs_cons.box_matched], minlength=table.n_items)
    reasons[:, 0] = matched_item < n_cons_item * n_answers_item
    unmatched = ~vs_cons.box_matched
    confused = unmatched & (vs_cons.box_best_other_label >= 0)
    extra = unmatched & ~confused & (vs_cons.box_best_iou < IOU_MATCH)
    reasons[:, 1] = np.bincount(table.item[extra], minlength=table.n_items) > 0
    reasons[:, 2] = np.bincount(table.item[confused], minlength=table.n_items) > 0
    loose = vs_cons.box_matched & (vs_cons.box_best_iou < LOOSE_IOU)
    reasons[:, 3] = np.bincount(table.item[loose], minlength=table.n_items) > 0

    confidence = np.ones(table.n_items)
    np.minimum.at(confidence, consensus.item, consensus.confidence)
    # The nearest miss: boxes whose cluster was dropped; their share is the dropped cluster's support.
    dropped = consensus.box_cluster < 0
    if dropped.any():
        w = consensus.weights[table.annotator]
        item_weight = np.bincount(
            table.answer_item, weights=consensus.weights[table.answer_annotator], minlength=table.n_items
        )
        # Each dropped box on its own is a lower bound of its cluster's support; the strongest dropped box
        # per item is what the reviewer should look at.
        share = w[dropped] / np.maximum(item_weight[table.item[dropped]], 1e-300)
        np.minimum.at(confidence, table.item[dropped], 1.0 - share)
    confidence = np.where(answered, confidence, np.nan)
    routing = routing_reasons(
        confidence=confidence,
        threshold=review_threshold,
        gold_mismatch=gold_bad,
        unsure_count=unsure_count,
        unusable_count=unusable_count,
        profile_flag=profile_flag,
    )
    for name, applies in routing.items():
        reasons[:, REASONS.index(name)] = applies
    route = routed(routing, route_profile_flags=route_profile_flags)
    severity = np.where(gold_bad, 1.0, np.where(answered, 1.0 - np.nan_to_num(confidence, nan=1.0), 0.0))
    return BoxRun(
        agreement=agreement,
        consensus=consensus,
        vs_consensus=_figures(vs_cons),
        vs_gold=vs_gold,
        item_confidence=confidence,
        item_reasons=reasons,
        is_issue=label_issue(routing),
        route=route,
        severity=severity,
        n_answers=np.bincount(table.answer_annotator, minlength=table.n_annotators),
        matches=matches,
    )
