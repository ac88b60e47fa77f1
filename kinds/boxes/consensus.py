"""Consensus boxes from k annotators' boxes, by weighted box fusion of matched clusters. Pure numpy/scipy.

Clusters: per item and label, the connected groups of the pairwise one-to-one matches (IoU ≥ 0.5, maximum total
IoU per annotator pair, ``kinds.boxes.metrics``). A group holding two boxes of one annotator (a duplicate, or two
nearby objects chained through a third box) is split greedily: boxes in order of their annotator's weight, each
joining the open cluster whose fused box it overlaps most (IoU ≥ 0.5) and that has no box of its annotator yet.

Fusion: each cluster's box is the annotator-weighted mean of its members' corners. A cluster is kept when its
annotators hold at least ``min_share`` of the weight of the item's annotators, less ``SHARE_TOLERANCE`` (equal
weights: at least half of them drew it). Confidence = that weighted share × the members' mean IoU with the fused box: 1.0 when everyone
drew the same box, lower for fewer annotators or looser agreement on the boundary.

``consensus_boxes`` runs two passes: equal weights, then each annotator weighted by their F1 against the first
pass's consensus (floored at ``MIN_WEIGHT``), which lets careful annotators outvote a spammer without any gold:
where one careful annotator drew a box, another missed it and a spammer did not draw it, the box stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kinds.boxes.metrics import IOU_MATCH, BoxTable, Matches, iou, match_to_reference, pairwise_matches

MIN_WEIGHT = 0.01
SHARE_TOLERANCE = 0.03


@dataclass(frozen=True)
class BoxConsensus:
    """Consensus boxes (``item``, ``label``, ``xywh``, ``confidence``, ``support``: weighted share of the item's
    annotators, ``n_annotators``: how many drew it) in item order; ``box_cluster`` maps each input box to its
    consensus box (−1: its cluster was not kept); ``weights`` the annotator weights of the final pass."""

    item: np.ndarray
    label: np.ndarray
    xywh: np.ndarray
    confidence: np.ndarray
    support: np.ndarray
    n_annotators: np.ndarray
    box_cluster: np.ndarray
    weights: np.ndarray
    #: every input box's cluster (dense ids, kept or not): the units HLP and α count
    cluster: np.ndarray | None = None

    def for_item(self, item: int) -> slice:
        lo, hi = np.searchsorted(self.item, [item, item + 1])
        return slice(int(lo), int(hi))


def _clusters(table: BoxTable, weights: np.ndarray, threshold: float, matches: Matches) -> np.ndarray:
    """A cluster id per box (dense, 0..n_clusters-1)."""
    n = table.n_boxes
    if n == 0:
        return np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(matches.left.size), (matches.left, matches.right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    component = component.astype(np.int64)
    # Components with two boxes of one annotator are split greedily.
    key = component * table.n_annotators + table.annotator
    _, key_counts = np.unique(key, return_counts=True)
    dup_keys = np.unique(key)[key_counts > 1]
    if dup_keys.size == 0:
        return component
    messy = np.unique(dup_keys // table.n_annotators)
    next_id = int(component.max()) + 1
    boxes = np.flatnonzero(np.isin(component, messy))
    boxes = boxes[np.argsort(component[boxes], kind="stable")]
    bounds = np.flatnonzero(np.r_[True, component[boxes][1:] != component[boxes][:-1], True])
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        members = boxes[s:e]
        members = members[np.argsort(-weights[table.annotator[members]], kind="stable")]
        fused: list[np.ndarray] = []
        weight_sum: list[float] = []
        owners: list[set[int]] = []
        ids: list[int] = []
        for box in members.tolist():
            ann = int(table.annotator[box])
            xyxy = _xyxy(table.xywh[box])
            w = float(weights[ann])
            best, best_iou = -1, threshold
            for c, f in enumerate(fused):
                if ann in owners[c]:
                    continue
                overlap = float(iou(table.xywh[box], _xywh(f / weight_sum[c]))[0])
                if overlap >= best_iou:
                    best, best_iou = c, overlap
            if best < 0:
                fused.append(xyxy * w)
                weight_sum.append(w)
                owners.append({ann})
                ids.append(next_id)
                next_id += 1
                best = len(fused) - 1
            else:
                fused[best] = fused[best] + xyxy * w
                weight_sum[best] += w
                owners[best].add(ann)
            component[box] = ids[best]
    return np.unique(component, return_inverse=True)[1].astype(np.int64)


def _xyxy(xywh: np.ndarray) -> np.ndarray:
    xywh = np.asarray(xywh, dtype=np.float64)
    return np.concatenate([xywh[..., :2], xywh[..., :2] + xywh[..., 2:]], axis=-1)


def _xywh(xyxy: np.ndarray) -> np.ndarray:
    return np.concatenate([xyxy[..., :2], xyxy[..., 2:] - xyxy[..., :2]], axis=-1)


def fuse_boxes(
    table: BoxTable,
    *,
    weights: np.ndarray | None = None,
    threshold: float = IOU_MATCH,
    min_share: float = 0.5,
    matches: Matches | None = None,
) -> BoxConsensus:
    """One pass of clustering and fusion with the given annotator ``weights`` (equal when None); ``matches``:
    the table's ``pairwise_matches`` when already computed."""
    weights = np.ones(table.n_annotators) if weights is None else np.maximum(np.asarray(weights, float), 1e-9)
    matches = pairwise_matches(table, threshold) if matches is None else matches
    cluster = _clusters(table, weights, threshold, matches)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    w = weights[table.annotator]
    weight_sum = np.bincount(cluster, weights=w, minlength=n_clusters)
    corners = _xyxy(table.xywh) * w[:, None]
    fused = (
        np.stack(
            [np.bincount(cluster, weights=corners[:, j], minlength=n_clusters) for j in range(4)], axis=1
        )
        / np.maximum(weight_sum, 1e-300)[:, None]
    )
    fused_xywh = _xywh(fused)
    first = np.full(n_clusters, table.n_boxes, dtype=np.int64)
    np.minimum.at(first, cluster, np.arange(table.n_boxes))
    c_item, c_label = table.item[first], table.label[first]
    # The weight of the item's annotators: everyone who answered it, boxes or not.
    item_weight = np.bincount(
        table.answer_item, weights=weights[table.answer_annotator], minlength=table.n_items
    )
    support = weight_sum / np.maximum(item_weight[c_item], 1e-300)
    member_iou = iou(table.xywh, fused_xywh[cluster])
    mean_iou = np.bincount(cluster, weights=member_iou, minlength=n_clusters) / np.maximum(
        np.bincount(cluster, minlength=n_clusters), 1
    )
    # Within SHARE_TOLERANCE of the bar counts as reaching it: two about equally careful annotators who disagree
    # keep the box (at a low confidence) rather than let the second decimal of their weights decide.
    kept = support >= min_share - SHARE_TOLERANCE
    order = np.flatnonzero(kept)
    order = order[np.lexsort((fused_xywh[order, 1], fused_xywh[order, 0], c_label[order], c_item[order]))]
    new_id = np.full(n_clusters, -1, dtype=np.int64)
    new_id[order] = np.arange(order.size)
    return BoxConsensus(
        item=c_item[order],
        label=c_label[order],
        xywh=fused_xywh[order],
        confidence=np.minimum(support[order], 1.0) * mean_iou[order],
        support=np.minimum(support[order], 1.0),
        n_annotators=np.bincount(cluster, minlength=n_clusters)[order],
        box_cluster=new_id[cluster] if cluster.size else cluster,
        weights=weights,
        cluster=cluster,
    )


def box_clusters(table: BoxTable, *, matches: Matches, threshold: float = IOU_MATCH) -> np.ndarray:
    """A cluster id per box with every annotator weighing the same (the first consensus pass's clusters): the
    matched groups of each item and label, at most one box of an annotator in each (see the module docstring)."""
    return _clusters(table, np.ones(max(table.n_annotators, 1)), threshold, matches)


def annotator_f1(table: BoxTable, consensus: BoxConsensus, threshold: float = IOU_MATCH) -> np.ndarray:
    """Each annotator's F1 against the consensus boxes over the items they answered (NaN: nothing to score)."""
    scope = np.zeros(table.n_items, dtype=bool)
    scope[table.answer_item] = True
    ref = match_to_reference(
        table,
        ref_item=consensus.item,
        ref_label=consensus.label,
        ref_xywh=consensus.xywh,
        scope=scope,
        threshold=threshold,
    )
    total = ref.n_boxes + ref.n_reference
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * ref.n_matches / total, np.nan)


def consensus_boxes(
    table: BoxTable,
    *,
    threshold: float = IOU_MATCH,
    min_share: float = 0.5,
    passes: int = 2,
    matches: Matches | None = None,
) -> BoxConsensus:
    """Consensus boxes, equal weights first, then ``passes - 1`` rounds weighted by annotator F1 against the
    previous round's consensus."""
    matches = pairwise_matches(table, threshold) if matches is None else matches
    result = fuse_boxes(table, threshold=threshold, min_share=min_share, matches=matches)
    for _ in range(passes - 1):
        f1 = annotator_f1(table, result, threshold)
        weights = np.maximum(np.nan_to_num(f1, nan=1.0), MIN_WEIGHT)
        result = fuse_boxes(table, weights=weights, threshold=threshold, min_share=min_share, matches=matches)
    return result
