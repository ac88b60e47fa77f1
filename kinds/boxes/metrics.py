"""Agreement between annotators' boxes: IoU, one-to-one matching, pairwise box F1 and matched IoU, overall and
per label. Pure numpy/scipy: arrays in, arrays and dataclasses out.

Two boxes can match when their labels are equal and their IoU is at least ``IOU_MATCH``; within one item and
label the matching is one-to-one and maximises the total IoU (``scipy.optimize.linear_sum_assignment``), solved
only where a box has more than one candidate (elsewhere every candidate edge is the matching).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

IOU_MATCH = 0.5


@dataclass(frozen=True)
class BoxTable:
    """Every live answer and every box of a project, in dense indices.

    ``answer_item``/``answer_annotator``: one row per answer (an annotator's answer on an item; ``[]`` answers are
    rows too, so an item both annotators looked at counts as shared even when neither drew a box). Boxes:
    ``item``, ``annotator``, ``label`` (class index) and ``xywh`` (``(n, 4)`` float, pixels, top-left origin).
    Every box's (item, annotator) must have an answer row.
    """

    n_items: int
    n_annotators: int
    n_labels: int
    answer_item: np.ndarray
    answer_annotator: np.ndarray
    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    xywh: np.ndarray

    @property
    def n_boxes(self) -> int:
        return int(self.item.size)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of ``(n, 4)`` xywh boxes ``a[i]`` and ``b[i]`` (0 where the union is empty)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    iw = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` IoU of every box of ``a`` with every box of ``b``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    left, right = np.repeat(np.arange(len(a)), len(b)), np.tile(np.arange(len(b)), len(a))
    return iou(a[left], b[right]).reshape(len(a), len(b))


def _group_runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For sorted ``keys``: the start of each row's run, the run's length, and the row's offset in it."""
    n = keys.size
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lengths = np.diff(np.r_[starts, n])
    run = np.repeat(np.arange(starts.size), lengths)
    offset = np.arange(n) - starts[run]
    return starts[run], lengths[run], offset


def pairs_within(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair ``(i, j)``, ``i`` before ``j`` in sort order, of rows sharing a key (rows are
    indices into ``keys``)."""
    order = np.argsort(keys, kind="stable")
    start, length, offset = _group_runs(keys[order])
    partners = length - 1 - offset
    left_pos = np.repeat(np.arange(order.size), partners)
    first = np.repeat(np.cumsum(partners) - partners, partners)
    right_pos = left_pos + 1 + (np.arange(left_pos.size) - first)
    return order[left_pos], order[right_pos]


@dataclass(frozen=True)
class Matches:
    """Matched box pairs: indices into the left and right box arrays and their IoU."""

    left: np.ndarray
    right: np.ndarray
    iou: np.ndarray


def match_edges(
    left: np.ndarray, right: np.ndarray, overlap: np.ndarray, group: np.ndarray, threshold: float = IOU_MATCH
) -> Matches:
    """One-to-one matching by maximum total IoU within each ``group`` over candidate edges (``left[e]`` ↔
    ``right[e]`` with IoU ``overlap[e]``); edges under ``threshold`` never match. Left and right ids must be
    distinct between sides within a group (the caller keys them, e.g. by box index)."""
    keep = overlap >= threshold
    left, right, overlap, group = left[keep], right[keep], overlap[keep], group[keep]
    if left.size == 0:
        return Matches(left, right, overlap)
    _, group = np.unique(group, return_inverse=True)
    group = group.ravel().astype(np.int64)
    span = int(max(left.max(), right.max())) + 1
    # Dense ids of (group, box) on each side; a box with two or more candidates in its group makes that group a
    # real assignment problem.
    left_keys, left_local = np.unique(group * span + left, return_inverse=True)
    right_keys, right_local = np.unique(group * span + right, return_inverse=True)
    left_local, right_local = left_local.ravel(), right_local.ravel()
    left_deg = np.bincount(left_local, minlength=left_keys.size)
    right_deg = np.bincount(right_local, minlength=right_keys.size)
    conflicted = (left_deg[left_local] > 1) | (right_deg[right_local] > 1)
    hard_group = np.zeros(int(group.max()) + 1, dtype=bool)
    hard_group[group[conflicted]] = True
    hard = hard_group[group]
    out_l, out_r, out_iou = [left[~hard]], [right[~hard]], [overlap[~hard]]
    if hard.any():
        idx = np.flatnonzero(hard)
        idx = idx[np.argsort(group[idx], kind="stable")]
        bounds = np.flatnonzero(np.r_[True, group[idx][1:] != group[idx][:-1], True]).tolist()
        # Keys are sorted group-major, so a group's dense ids are one contiguous run starting at its minimum.
        li_all, ri_all, w_all = left_local[idx], right_local[idx], overlap[idx]
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            li, ri = li_all[s:e], ri_all[s:e]
            l0, r0 = li.min(), ri.min()
            li, ri = li - l0, ri - r0
            weights = np.zeros((int(li.max()) + 1, int(ri.max()) + 1))
            weights[li, ri] = w_all[s:e]
            rows, cols = linear_sum_assignment(weights, maximize=True)
            chosen = weights[rows, cols] >= threshold
            out_l.append(left_keys[rows[chosen] + l0] % span)
            out_r.append(right_keys[cols[chosen] + r0] % span)
            out_iou.append(weights[rows[chosen], cols[chosen]])
    return Matches(np.concatenate(out_l), np.concatenate(out_r), np.concatenate(out_iou))


@dataclass(frozen=True)
class PairAgreement:
    """Per annotator pair (``a < b``, sharing at least one item): shared items, and per label the boxes both drew
    on them, their matches and the sum of the matches' IoU (``(n_pairs, n_labels)`` arrays)."""

    annotator_a: np.ndarray
    annotator_b: np.ndarray
    n_shared: np.ndarray
    n_boxes: np.ndarray
    n_matches: np.ndarray
    iou_sum: np.ndarray
    #: item-level rows behind the sums, for the item bootstrap: each box once per other annotator of its item
    #: (``box_rows``: the box, ``box_rows_pair``: the pair), and each match's pair (``match_pair``, aligned with
    #: ``matches``)
    box_rows: np.ndarray | None = None
    box_rows_pair: np.ndarray | None = None
    matches: Matches | None = None
    match_pair: np.ndarray | None = None


def pairwise_matches(table: BoxTable, threshold: float = IOU_MATCH) -> Matches:
    """The one-to-one matches between every two annotators' boxes of the same item and label; ``left`` is the
    box of the lower annotator index."""
    m, n_labels = table.n_annotators, max(table.n_labels, 1)
    left, right = pairs_within(table.item * n_labels + table.label)
    ann_l, ann_r = table.annotator[left], table.annotator[right]
    distinct = ann_l != ann_r
    left, right, ann_l, ann_r = left[distinct], right[distinct], ann_l[distinct], ann_r[distinct]
    swap = ann_l > ann_r
    left, right = np.where(swap, right, left), np.where(swap, left, right)
    cell = table.item[left] * n_labels + table.label[left]
    group = cell * (m * m) + np.minimum(ann_l, ann_r) * m + np.maximum(ann_l, ann_r)
    return match_edges(left, right, iou(table.xywh[left], table.xywh[right]), group, threshold)


def pairwise_box_agreement(
    table: BoxTable, threshold: float = IOU_MATCH, matches: Matches | None = None
) -> PairAgreement:
    m, n_labels = table.n_annotators, max(table.n_labels, 1)
    # Shared items per annotator pair, from the answers (empty answers included).
    ans_l, ans_r = pairs_within(table.answer_item)
    aa, ab = table.answer_annotator[ans_l], table.answer_annotator[ans_r]
    pair_key_all = np.minimum(aa, ab) * m + np.maximum(aa, ab)
    pair_keys, shared = np.unique(pair_key_all, return_counts=True)
    n_pairs = pair_keys.size

    def pair_index(keys: np.ndarray) -> np.ndarray:
        return np.searchsorted(pair_keys, keys)

    # Boxes each annotator drew on items shared with each other annotator: a box counts once for every other
    # annotator who answered its item.
    order = np.argsort(table.answer_item, kind="stable")
    sorted_items = table.answer_item[order]
    lo = np.searchsorted(sorted_items, table.item, side="left")
    hi = np.searchsorted(sorted_items, table.item, side="right")
    box_rep = np.repeat(np.arange(table.n_boxes), hi - lo)
    first = np.repeat(np.cumsum(hi - lo) - (hi - lo), hi - lo)
    other = table.answer_annotator[order[lo[box_rep] + np.arange(box_rep.size) - first]]
    own = table.annotator[box_rep]
    differs = other != own
    box_rep, other, own = box_rep[differs], other[differs], own[differs]
    counted = pair_index(np.minimum(own, other) * m + np.maximum(own, other))
    n_boxes = np.bincount(counted * n_labels + table.label[box_rep], minlength=n_pairs * n_labels).reshape(
        n_pairs, n_labels
    )

    matches = pairwise_matches(table, threshold) if matches is None else matches
    matched_pair = pair_index(table.annotator[matches.left] * m + table.annotator[matches.right])
    cell = matched_pair * n_labels + table.label[matches.left]
    size = n_pairs * n_labels
    return PairAgreement(
        annotator_a=pair_keys // m,
        annotator_b=pair_keys % m,
        n_shared=shared,
        n_boxes=n_boxes,
        n_matches=np.bincount(cell, minlength=size).reshape(n_pairs, n_labels),
        iou_sum=np.bincount(cell, weights=matches.iou, minlength=size).reshape(n_pairs, n_labels),
        box_rows=box_rep,
        box_rows_pair=counted,
        matches=matches,
        match_pair=matched_pair,
    )


@dataclass(frozen=True)
class BoxAgreement:
    """``mean_pairwise_box_f1`` and ``mean_matched_iou`` overall and per label (None where no pair counts),
    the pairs that count (shared items ≥ ``min_overlap``) with their F1, and ``min_overlap`` itself."""

    mean_pairwise_box_f1: float | None
    mean_matched_iou: float | None
    per_label_f1: list[float | None]
    per_label_iou: list[float | None]
    n_pairs: int
    n_matches: int
    per_label_matches: list[int]
    pairs: PairAgreement
    pair_f1: np.ndarray
    min_overlap: int


def _mean_f1(boxes: np.ndarray, matches: np.ndarray, counts: np.ndarray) -> float | None:
    used = counts & (boxes > 0)
    return float(np.mean(2.0 * matches[used] / boxes[used])) if used.any() else None


def box_agreement(
    table: BoxTable, *, min_overlap: int = 5, threshold: float = IOU_MATCH, matches: Matches | None = None
) -> BoxAgreement:
    """F1 per annotator pair = 2 × matches ÷ (boxes of one + boxes of the other) over the items both answered;
    the mean over pairs sharing at least ``min_overlap`` items and drawing any box there (per label: any box of
    that label). Matched IoU: the mean IoU over every match of those pairs.

    Raises:
        ValueError: if ``min_overlap < 1``.
    """
    if min_overlap < 1:
        raise ValueError("min_overlap must be at least 1")
    pairs = pairwise_box_agreement(table, threshold, matches)
    counts = pairs.n_shared >= min_overlap
    boxes, matched, iou_sum = pairs.n_boxes, pairs.n_matches, pairs.iou_sum
    total_boxes, total_matches = boxes.sum(axis=1), matched.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pair_f1 = np.where(total_boxes > 0, 2.0 * total_matches / total_boxes, np.nan)
    n_matched = int(total_matches[counts].sum())
    label_matches = matched[counts].sum(axis=0)
    label_iou = iou_sum[counts].sum(axis=0)
    n_labels = boxes.shape[1] if boxes.ndim == 2 else 0
    return BoxAgreement(
        mean_pairwise_box_f1=_mean_f1(total_boxes, total_matches, counts),
        mean_matched_iou=float(iou_sum[counts].sum() / n_matched) if n_matched else None,
        per_label_f1=[_mean_f1(boxes[:, c], matched[:, c], counts) for c in range(table.n_labels)],
        per_label_iou=[
            float(label_iou[c] / label_matches[c]) if label_matches[c] else None
            for c in range(min(table.n_labels, n_labels))
        ],
        n_pairs=int((counts & (total_boxes > 0)).sum()),
        n_matches=n_matched,
        per_label_matches=[int(v) for v in label_matches[: table.n_labels]],
        pairs=pairs,
        pair_f1=pair_f1,
        min_overlap=min_overlap,
    )


@dataclass(frozen=True)
class ReferenceMatch:
    """One annotator's boxes against reference boxes (consensus or gold) on the items both have: per annotator
    boxes drawn, reference boxes on their answered items, matches and the matches' IoU sum; ``box_matched``
    says per box of the table whether it matched a reference box."""

    n_boxes: np.ndarray
    n_reference: np.ndarray
    n_matches: np.ndarray
    iou_sum: np.ndarray
    box_matched: np.ndarray
    box_best_iou: np.ndarray
    box_best_other_label: np.ndarray


def match_to_reference(
    table: BoxTable,
    *,
    ref_item: np.ndarray,
    ref_label: np.ndarray,
    ref_xywh: np.ndarray,
    scope: np.ndarray,
    threshold: float = IOU_MATCH,
) -> ReferenceMatch:
    """Match every annotator's boxes with the reference boxes of each item in ``scope`` (a bool per item: the
    items that have a reference answer, possibly ``[]``). Also per box: its best IoU with a reference box of the
    same label (matched or not) and the label index of the best-overlapping reference box of another label
    (−1 when none overlaps at ``threshold``)."""
    m = table.n_annotators
    n_labels = max(table.n_labels, 1)
    ref_item = np.asarray(ref_item, dtype=np.int64)
    ref_label = np.asarray(ref_label, dtype=np.int64)
    ref_xywh = np.asarray(ref_xywh, dtype=np.float64).reshape(-1, 4)
    in_scope_box = scope[table.item]
    # Reference boxes each annotator was measured against: those of the items the annotator answered.
    answered = scope[table.answer_item]
    ref_per_item = np.bincount(ref_item, minlength=table.n_items)
    n_reference = np.bincount(
        table.answer_annotator[answered], weights=ref_per_item[table.answer_item[answered]], minlength=m
    ).astype(np.int64)
    n_boxes = np.bincount(table.annotator[in_scope_box], minlength=m)
    # Candidate edges: every box with every reference box of its item (any label), IoU computed once.
    order = np.argsort(ref_item, kind="stable")
    sorted_items = ref_item[order]
    lo = np.searchsorted(sorted_items, table.item, side="left")
    hi = np.searchsorted(sorted_items, table.item, side="right")
    count = np.where(in_scope_box, hi - lo, 0)
    box_rep = np.repeat(np.arange(table.n_boxes), count)
    first = np.repeat(np.cumsum(count) - count, count)
    ref_rep = order[lo[box_rep] + np.arange(box_rep.size) - first]
    overlap = iou(table.xywh[box_rep], ref_xywh[ref_rep])
    same = table.label[box_rep] == ref_label[ref_rep]
    best_same = np.zeros(table.n_boxes)
    np.maximum.at(best_same, box_rep[same], overlap[same])
    other_label = np.full(table.n_boxes, -1, dtype=np.int64)
    cross = ~same & (overlap >= threshold)
    if cross.any():
        idx = np.flatnonzero(cross)
        idx = idx[np.lexsort((-overlap[idx], box_rep[idx]))]
        firsts = np.r_[True, box_rep[idx][1:] != box_rep[idx][:-1]]
        other_label[box_rep[idx[firsts]]] = ref_label[ref_rep[idx[firsts]]]
    # Left ids are boxes, right ids reference boxes shifted past them, so the two sides never collide.
    group = (table.annotator[box_rep] * table.n_items + table.item[box_rep]) * n_labels + table.label[box_rep]
    matches = match_edges(box_rep[same], ref_rep[same] + table.n_boxes, overlap[same], group[same], threshold)
    matched = np.zeros(table.n_boxes, dtype=bool)
    matched[matches.left] = True
    who = table.annotator[matches.left]
    return ReferenceMatch(
        n_boxes=n_boxes,
        n_reference=n_reference,
        n_matches=np.bincount(who, minlength=m),
        iou_sum=np.bincount(who, weights=matches.iou, minlength=m),
        box_matched=matched,
        box_best_iou=best_same,
        box_best_other_label=other_label,
    )
