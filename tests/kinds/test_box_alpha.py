"""Krippendorff's α for boxes with the distance 1 − IoU (``kinds.boxes.alpha``), against a hand-computed case,
a brute-force implementation of α's definition written here, and the ``krippendorff`` package given the same
units, values and distance."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest

from kinds.boxes.alpha import box_alpha
from kinds.boxes.consensus import box_clusters
from kinds.boxes.metrics import BoxTable, pairwise_matches

MISSING = None


def _table(
    answers: dict[tuple[int, int], list[tuple[float, float, float, float, int]]], n_items, n_annotators
):
    keys = sorted(answers)
    rows = [(item, ann, *box) for item, ann in keys for box in answers[(item, ann)]]
    arr = np.asarray([r[:6] for r in rows], dtype=np.float64).reshape(-1, 6)
    return BoxTable(
        n_items=n_items,
        n_annotators=n_annotators,
        n_labels=2,
        answer_item=np.array([k[0] for k in keys], dtype=np.int64),
        answer_annotator=np.array([k[1] for k in keys], dtype=np.int64),
        item=arr[:, 0].astype(np.int64),
        annotator=arr[:, 1].astype(np.int64),
        label=np.array([r[6] for r in rows], dtype=np.int64),
        xywh=arr[:, 2:6],
    )


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def _units(table: BoxTable, cluster: np.ndarray) -> list[list[object]]:
    """Per unit (cluster on an item two or more annotators answered), one value per answering annotator:
    ``(item, label, xywh)`` of their box in it, or MISSING."""
    answered: dict[int, list[int]] = {}
    for item, ann in zip(table.answer_item.tolist(), table.answer_annotator.tolist(), strict=True):
        answered.setdefault(item, []).append(ann)
    units = []
    for c in sorted(set(cluster.tolist())):
        members = np.flatnonzero(cluster == c)
        item = int(table.item[members[0]])
        if len(answered[item]) < 2:
            continue
        by_ann = {int(table.annotator[b]): b for b in members}
        units.append(
            [
                (item, int(table.label[by_ann[a]]), tuple(table.xywh[by_ann[a]])) if a in by_ann else MISSING
                for a in answered[item]
            ]
        )
    return units


def _distance(u, v) -> float:
    if u is MISSING and v is MISSING:
        return 0.0
    if u is MISSING or v is MISSING:
        return 1.0
    if u[0] == v[0] and u[1] == v[1]:
        return 1.0 - _iou(u[2], v[2])
    return 1.0


def _brute_alpha(units: list[list[object]]) -> float:
    """α = 1 − D_o / D_e straight from the definition, every pair of values visited."""
    values = [v for unit in units for v in unit]
    n = len(values)
    observed = (
        sum(
            sum(_distance(unit[i], unit[j]) for i in range(len(unit)) for j in range(len(unit)) if i != j)
            / (len(unit) - 1)
            for unit in units
        )
        / n
    )
    expected = sum(_distance(values[i], values[j]) for i, j in itertools.permutations(range(n), 2)) / (
        n * (n - 1)
    )
    return 1.0 - observed / expected


def _package_alpha(table: BoxTable, units: list[list[object]]) -> float:
    """The ``krippendorff`` package on the same units: every distinct value an id, the distance a lookup."""
    domain: list[object] = []
    index: dict[object, int] = {}
    answered: dict[int, list[int]] = {}
    for item, ann in zip(table.answer_item.tolist(), table.answer_annotator.tolist(), strict=True):
        answered.setdefault(item, []).append(ann)
    data = np.full((table.n_annotators, len(units)), np.nan)
    for u, unit in enumerate(units):
        item = next(v[0] for v in unit if v is not MISSING)
        for ann, value in zip(answered[item], unit, strict=True):
            key = ("missing",) if value is MISSING else value
            if key not in index:
                index[key] = len(domain)
                domain.append(value)
            data[ann, u] = index[key]
    table_d = np.array([[_distance(a, b) for b in domain] for a in domain])

    def metric(v1, v2, i1, i2, n_v, dtype=np.float64):
        return table_d[np.asarray(v1, dtype=int), np.asarray(v2, dtype=int)].astype(dtype)

    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=metric))


def test_box_alpha_equals_the_hand_computed_value():
    # Given one image answered by two annotators: A's box and B's half as tall box match (IoU 0.5); A's second
    # box has no partner. Units: [A1, B1] (distance 0.5), [A2, no box] (distance 1).
    table = _table(
        {(0, 0): [(0, 0, 10, 10, 0), (20, 20, 5, 5, 0)], (0, 1): [(0, 0, 10, 5, 0)]},
        n_items=1,
        n_annotators=2,
    )
    cluster = box_clusters(table, matches=pairwise_matches(table))
    result = box_alpha(table, cluster)
    # Then D_o = (2 × 0.5 + 2 × 1) / 4 = 0.75; the six value pairs differ by 0.5 once and 1 five times, so
    # D_e = 2 × 5.5 / (4 × 3) = 11/12, and α = 1 − 0.75 ÷ 11/12 = 2/11
    assert result.n_units == 2 and result.n_values == 4
    assert result.observed == pytest.approx(0.75)
    assert result.expected == pytest.approx(11 / 12)
    assert result.alpha == pytest.approx(2 / 11)


def test_identical_boxes_give_alpha_one_and_an_item_with_one_answer_is_no_unit():
    table = _table(
        {
            (0, 0): [(0, 0, 10, 10, 0)],
            (0, 1): [(0, 0, 10, 10, 0)],
            (1, 0): [(5, 5, 10, 10, 1)],
            (1, 1): [(5, 5, 10, 10, 1)],
            (2, 0): [(1, 1, 3, 3, 0)],
        },
        n_items=3,
        n_annotators=2,
    )
    result = box_alpha(table, box_clusters(table, matches=pairwise_matches(table)))
    assert result.n_units == 2
    assert result.alpha == pytest.approx(1.0)


def _random_table(seed: int) -> BoxTable:
    rng = np.random.default_rng(seed)
    answers = {}
    for item in range(4):
        objects = [
            (
                rng.uniform(0, 50),
                rng.uniform(0, 50),
                rng.uniform(5, 20),
                rng.uniform(5, 20),
                int(rng.integers(2)),
            )
            for _ in range(3)
        ]
        for ann in range(3):
            if item == 3 and ann == 2:
                continue  # an image only two annotators answered
            boxes = []
            for x, y, w, h, label in objects:
                if rng.random() < 0.25:
                    continue  # missed
                jitter = rng.normal(0, 2, 4)
                boxes.append(
                    (x + jitter[0], y + jitter[1], max(w + jitter[2], 1), max(h + jitter[3], 1), label)
                )
            if rng.random() < 0.3:
                boxes.append((rng.uniform(0, 50), rng.uniform(0, 50), 6.0, 6.0, int(rng.integers(2))))
            answers[(item, ann)] = boxes
    return _table(answers, n_items=4, n_annotators=3)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_box_alpha_equals_brute_force_definition_and_the_krippendorff_package(seed):
    # Given three annotators' jittered, partly missed and extra boxes on four images
    table = _random_table(seed)
    cluster = box_clusters(table, matches=pairwise_matches(table))
    units = _units(table, cluster)
    # When α is computed in closed form
    result = box_alpha(table, cluster)
    # Then it equals α from its definition over every pair of values, and the krippendorff package's
    assert result.n_units == len(units)
    assert result.alpha == pytest.approx(_brute_alpha(units), abs=1e-9)
    assert result.alpha == pytest.approx(_package_alpha(table, units), abs=1e-9)
