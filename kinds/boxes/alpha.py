"""Krippendorff's α for boxes with the distance ``1 − IoU``. Pure numpy.

Units are the matched box clusters of the items at least two annotators answered (the consensus's clusters,
``BoxConsensus.cluster``, or ``kinds.boxes.consensus.box_clusters``: per item and label, the boxes matched at
IoU ≥ 0.5, at most one per annotator). Every annotator
who answered the item gives each of its clusters one value: their box in it, or "no box". Distances: two boxes
``1 − IoU`` when they are on the same item with the same label, else 1; a box and "no box" 1; two "no box" 0.
α = 1 − D_o ÷ D_e with, over the ``n`` values of those units,

* ``D_o = (1/n) Σ_u 1/(m_u − 1) Σ_{i≠j in u} δ(i, j)`` (``m_u`` values in unit ``u``),
* ``D_e = 1/(n (n − 1)) Σ_{i≠j} δ(i, j)`` over every ordered pair of values of all units.

Both sums are taken in closed form from the clusters' sizes and the IoU of the boxes sharing an item and label,
so the cost is that of the pairwise matching, never of all pairs of values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinds.boxes.metrics import BoxTable, iou, pairs_within

__all__ = ["BoxAlpha", "box_alpha"]


@dataclass(frozen=True)
class BoxAlpha:
    """α (nan when the values never differ or no unit has two values), its units and values, D_o and D_e."""

    alpha: float
    n_units: int
    n_values: int
    observed: float
    expected: float


def box_alpha(table: BoxTable, cluster: np.ndarray) -> BoxAlpha:
    """α over the clusters ``cluster`` (an id per box of ``table``; ids unique across items); see the module
    docstring."""
    answers = np.bincount(table.answer_item, minlength=table.n_items)
    pairable_box = answers[table.item] >= 2
    boxes = np.flatnonzero(pairable_box)
    if boxes.size == 0:
        return BoxAlpha(float("nan"), 0, 0, float("nan"), float("nan"))
    units, unit_of, drawn = np.unique(cluster[boxes], return_inverse=True, return_counts=True)
    unit_of = unit_of.ravel()
    unit_item = np.zeros(units.size, dtype=np.int64)
    unit_item[unit_of] = table.item[boxes]
    m = answers[unit_item].astype(np.float64)
    missing = m - drawn
    n = float(m.sum())
    # Box pairs inside a unit: their 1 − IoU; a box against the unit's "no box" values: 1 each.
    left, right = pairs_within(unit_of)
    within = np.bincount(
        unit_of[left],
        weights=1.0 - iou(table.xywh[boxes[left]], table.xywh[boxes[right]]),
        minlength=units.size,
    )
    observed_sum = float((2.0 * (within + drawn * missing) / (m - 1)).sum())
    # Over all values: every pair differs by 1 except two "no box" (0) and two boxes of one item and label
    # (1 − IoU).
    cell = table.item[boxes] * max(table.n_labels, 1) + table.label[boxes]
    left, right = pairs_within(cell)
    shared_iou = float(iou(table.xywh[boxes[left]], table.xywh[boxes[right]]).sum())
    z = float(missing.sum())
    expected_sum = 2.0 * (n * (n - 1) / 2.0 - z * (z - 1) / 2.0 - shared_iou)
    observed = observed_sum / n
    expected = expected_sum / (n * (n - 1)) if n > 1 else float("nan")
    alpha = 1.0 - observed / expected if expected > 1e-12 else float("nan")
    return BoxAlpha(float(alpha), int(units.size), int(n), float(observed), float(expected))
