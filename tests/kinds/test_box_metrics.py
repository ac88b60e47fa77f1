"""Box agreement metrics against hand-computed values, pycocotools' IoU and a brute-force matcher."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from kinds.boxes.metrics import (
    BoxTable,
    box_agreement,
    iou,
    iou_matrix,
    match_edges,
    match_to_reference,
)


def _table(answers: dict[tuple[int, int], list[tuple]], n_items: int, n_annotators: int, n_labels: int):
    """``answers[(item, annotator)]`` = list of (x, y, w, h, label)."""
    keys = sorted(answers)
    boxes = [(i, a, *box) for (i, a) in keys for box in answers[(i, a)]]
    return BoxTable(
        n_items=n_items,
        n_annotators=n_annotators,
        n_labels=n_labels,
        answer_item=np.array([i for i, _ in keys]),
        answer_annotator=np.array([a for _, a in keys]),
        item=np.array([b[0] for b in boxes], dtype=np.int64),
        annotator=np.array([b[1] for b in boxes], dtype=np.int64),
        label=np.array([b[6] for b in boxes], dtype=np.int64),
        xywh=np.array([b[2:6] for b in boxes], dtype=np.float64).reshape(-1, 4),
    )


def test_iou_equals_pycocotools_on_random_boxes():
    # Given random boxes, some disjoint, some nested; when IoU is computed; then it equals pycocotools' bbox IoU
    rng = np.random.default_rng(0)
    a = np.c_[rng.uniform(0, 100, (200, 2)), rng.uniform(1, 60, (200, 2))]
    b = np.c_[rng.uniform(0, 100, (150, 2)), rng.uniform(1, 60, (150, 2))]
    expected = coco_mask.iou(a.tolist(), b.tolist(), [0] * len(b))
    np.testing.assert_allclose(iou_matrix(a, b), expected, atol=1e-12)


def test_iou_hand_computed():
    # Given two 10×10 boxes offset by 5 px horizontally; then IoU = 50 / 150
    assert iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 10, 10]]))[0] == pytest.approx(1 / 3)
    assert iou(np.array([[0, 0, 10, 10]]), np.array([[20, 20, 5, 5]]))[0] == 0.0


def test_pairwise_f1_and_matched_iou_hand_computed():
    # Given two annotators on two items: item 0 A draws two cats, B one cat (IoU 0.81) and one dog where A has
    # none; item 1 both draw one dog at IoU 0.5 exactly... (10x10 vs 10x10 shifted by 10/3)
    # item 0: A cat (0,0,10,10), B cat (0,0,9,9) → IoU 81/100; A cat (50,50,10,10) unmatched; B dog (80,80,5,5)
    # item 1: A dog (0,0,10,10), B dog (0,0,10,5) → IoU 0.5
    answers = {
        (0, 0): [(0, 0, 10, 10, 0), (50, 50, 10, 10, 0)],
        (0, 1): [(0, 0, 9, 9, 0), (80, 80, 5, 5, 1)],
        (1, 0): [(0, 0, 10, 10, 1)],
        (1, 1): [(0, 0, 10, 5, 1)],
    }
    result = box_agreement(_table(answers, 2, 2, 2), min_overlap=1)
    # 2 matches, 6 boxes: F1 = 4/6; per label cat: 1 match of 3 boxes → 2/3, dog: 1 match of 3 → 2/3
    assert result.mean_pairwise_box_f1 == pytest.approx(4 / 6)
    assert result.per_label_f1 == pytest.approx([2 / 3, 2 / 3])
    assert result.mean_matched_iou == pytest.approx((0.81 + 0.5) / 2)
    assert result.per_label_iou == pytest.approx([0.81, 0.5])


def test_min_overlap_and_empty_answers():
    # Given three annotators: A and B share 2 items (one answered [] by both), C shares only 1 with each
    answers = {
        (0, 0): [(0, 0, 10, 10, 0)],
        (0, 1): [(0, 0, 10, 10, 0)],
        (1, 0): [],
        (1, 1): [],
        (2, 0): [(0, 0, 10, 10, 0)],
        (2, 2): [(40, 40, 10, 10, 0)],
    }
    table = _table(answers, 3, 3, 1)
    result = box_agreement(table, min_overlap=2)
    # Only pair (A, B) counts: F1 1.0; the A–C pair (F1 0) shares one item only
    assert result.mean_pairwise_box_f1 == pytest.approx(1.0)
    assert result.n_pairs == 1
    everything = box_agreement(table, min_overlap=1)
    assert everything.mean_pairwise_box_f1 == pytest.approx(
        0.5
    )  # pairs (A,B)=1, (A,C)=0; (B,C) share nothing


def _brute_force_matching(weights: np.ndarray, threshold: float) -> float:
    """Maximum total IoU over all one-to-one matchings using only entries ≥ threshold (every permutation)."""
    n_l, n_r = weights.shape
    size = max(n_l, n_r)
    padded = np.zeros((size, size))
    padded[:n_l, :n_r] = np.where(weights >= threshold, weights, 0.0)
    return max(padded[np.arange(size), list(p)].sum() for p in itertools.permutations(range(size)))


def test_matching_equals_brute_force_on_crowded_items():
    # Given clusters of heavily overlapping boxes (many candidates per box); when matched; then the matched total
    # IoU equals the best over all permutations, and the matching is one-to-one with every IoU ≥ 0.5
    rng = np.random.default_rng(3)
    for _ in range(60):
        n_l, n_r = rng.integers(1, 6), rng.integers(1, 6)
        left = np.c_[rng.uniform(0, 6, (n_l, 2)), rng.uniform(8, 12, (n_l, 2))]
        right = np.c_[rng.uniform(0, 6, (n_r, 2)), rng.uniform(8, 12, (n_r, 2))]
        weights = iou_matrix(left, right)
        li, ri = np.meshgrid(np.arange(n_l), np.arange(n_r), indexing="ij")
        matches = match_edges(
            li.ravel(), ri.ravel() + 100, weights.ravel(), np.zeros(li.size, dtype=np.int64)
        )
        assert len(set(matches.left.tolist())) == matches.left.size
        assert len(set(matches.right.tolist())) == matches.right.size
        assert (matches.iou >= 0.5).all()
        assert matches.iou.sum() == pytest.approx(_brute_force_matching(weights, 0.5))


def test_pairwise_agreement_equals_per_pair_brute_force():
    # Given a random crowd of 4 annotators on 30 items with 3 labels; when pairwise agreement is computed; then
    # each pair's matches and IoU sum equal a brute-force per-item, per-label computation
    rng = np.random.default_rng(7)
    answers: dict[tuple[int, int], list[tuple]] = {}
    for item in range(30):
        for annotator in rng.choice(4, size=rng.integers(1, 5), replace=False):
            boxes = []
            for _ in range(rng.integers(0, 5)):
                x, y = rng.uniform(0, 20, 2)
                boxes.append((x, y, rng.uniform(8, 12), rng.uniform(8, 12), int(rng.integers(0, 3))))
            answers[(item, int(annotator))] = boxes
    table = _table(answers, 30, 4, 3)
    result = box_agreement(table, min_overlap=1)
    pairs = result.pairs
    for p in range(pairs.annotator_a.size):
        a, b = int(pairs.annotator_a[p]), int(pairs.annotator_b[p])
        n_match = iou_total = n_boxes = 0
        for item in range(30):
            if (item, a) not in answers or (item, b) not in answers:
                continue
            n_boxes += len(answers[(item, a)]) + len(answers[(item, b)])
            for label in range(3):
                left = np.array([bx[:4] for bx in answers[(item, a)] if bx[4] == label]).reshape(-1, 4)
                right = np.array([bx[:4] for bx in answers[(item, b)] if bx[4] == label]).reshape(-1, 4)
                if len(left) and len(right):
                    weights = iou_matrix(left, right)
                    iou_total += _brute_force_matching(weights, 0.5)
                    # The brute-force matching's count: maximum-IoU matchings are unique here (random floats)
                    rows, cols = np.nonzero(weights >= 0.5)
                    if rows.size:
                        best = _brute_force_matching(weights, 0.5)
                        size = max(weights.shape)
                        padded = np.zeros((size, size))
                        padded[: weights.shape[0], : weights.shape[1]] = np.where(weights >= 0.5, weights, 0)
                        for perm in itertools.permutations(range(size)):
                            chosen = padded[np.arange(size), list(perm)]
                            if abs(chosen.sum() - best) < 1e-12:
                                n_match += int((chosen > 0).sum())
                                break
        assert pairs.n_boxes[p].sum() == n_boxes
        assert pairs.n_matches[p].sum() == n_match
        assert pairs.iou_sum[p].sum() == pytest.approx(iou_total)


def test_match_to_reference_counts_precision_recall_inputs():
    # Given a reference with two cats on item 0 and nothing on item 1; annotator 0 draws one matching cat and a dog
    # over the second cat on item 0, and one extra cat on item 1
    answers = {(0, 0): [(0, 0, 10, 10, 0), (30, 30, 10, 10, 1)], (1, 0): [(5, 5, 5, 5, 0)]}
    table = _table(answers, 2, 1, 2)
    ref = match_to_reference(
        table,
        ref_item=np.array([0, 0]),
        ref_label=np.array([0, 0]),
        ref_xywh=np.array([[0, 0, 10, 10], [30, 30, 10, 10]]),
        scope=np.array([True, True]),
    )
    assert ref.n_boxes.tolist() == [3]
    assert ref.n_reference.tolist() == [2]
    assert ref.n_matches.tolist() == [1]
    assert ref.box_matched.tolist() == [True, False, False]
    assert ref.box_best_other_label.tolist() == [-1, 0, -1]
