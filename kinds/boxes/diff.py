"""What changed between two versions' boxes of one image (pure: numpy/scipy, no Django).

Boxes are matched with the kind's matcher (``kinds.boxes.metrics.match_edges``: one-to-one, maximum total IoU,
pairs under ``IOU_MATCH`` = 0.5 never match), in two rounds:

1. old and new boxes of the same label: a matched pair with IoU ≥ :data:`MOVED_IOU` (0.9) is ``unchanged``,
   one with 0.5 ≤ IoU < 0.9 ``moved``;
2. the boxes left over, across labels: a matched pair (IoU ≥ 0.5, labels differ) is ``relabelled``, however far
   it also moved;
3. what is still left is ``removed`` (old) or ``added`` (new): a box that moved so far its IoU with where it was
   fell under 0.5 reads as one of each.

Confidences are ignored.
"""

from __future__ import annotations

import numpy as np

from kinds.boxes.metrics import IOU_MATCH, iou_matrix, match_edges

#: a matched box of the same label whose IoU with its old place is below this counts as moved
MOVED_IOU = 0.9
COUNTS = {
    "added": "Boxes added",
    "removed": "Boxes removed",
    "moved": f"Moved (same label, {IOU_MATCH:g} ≤ IoU < {MOVED_IOU:g})",
    "relabelled": f"Relabelled (IoU ≥ {IOU_MATCH:g})",
    "unchanged": f"Boxes unchanged (IoU ≥ {MOVED_IOU:g})",
}
UNIT = "boxes"


def _boxes(value: object) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [b for b in value if isinstance(b, dict) and {"x", "y", "w", "h", "label"} <= b.keys()]


def _n(value: float) -> str:
    return f"{round(float(value), 2):g}"


def _where(box: dict) -> str:
    return f"({_n(box['x'])}, {_n(box['y'])}) {_n(box['w'])}×{_n(box['h'])}"


def count(value: object) -> int:
    """The boxes of one stored value."""
    return len(_boxes(value))


def _match(
    old: list[dict], new: list[dict], overlap: np.ndarray, rows: list[int], cols: list[int], same_label: bool
) -> list[tuple[int, int, float]]:
    """One-to-one matches between old boxes ``rows`` and new boxes ``cols`` (``same_label``: only pairs of one
    label, grouped by it; else only pairs whose labels differ)."""
    left, right, weight, group = [], [], [], []
    labels = {label: k for k, label in enumerate(sorted({b["label"] for b in old + new}))}
    for i in rows:
        for j in cols:
            if (old[i]["label"] == new[j]["label"]) != same_label:
                continue
            left.append(i)
            # Right ids kept apart from left ids, as the matcher wants them distinct within a group.
            right.append(len(old) + j)
            weight.append(overlap[i, j])
            group.append(labels[old[i]["label"]] if same_label else 0)
    if not left:
        return []
    matches = match_edges(
        np.asarray(left, dtype=np.int64),
        np.asarray(right, dtype=np.int64),
        np.asarray(weight, dtype=np.float64),
        np.asarray(group, dtype=np.int64),
        IOU_MATCH,
    )
    return [
        (int(i), int(j) - len(old), float(v))
        for i, j, v in zip(matches.left, matches.right, matches.iou, strict=True)
    ]


def diff(old: object, new: object) -> tuple[dict[str, int], list[str]]:
    """(counts by :data:`COUNTS` key, the changes in words) from ``old`` to ``new`` box lists."""
    before, after = _boxes(old), _boxes(new)
    counts = dict.fromkeys(COUNTS, 0)
    changes: list[tuple[tuple, str]] = []
    overlap = iou_matrix(
        np.array([[b["x"], b["y"], b["w"], b["h"]] for b in before], dtype=np.float64).reshape(-1, 4),
        np.array([[b["x"], b["y"], b["w"], b["h"]] for b in after], dtype=np.float64).reshape(-1, 4),
    )
    rows, cols = list(range(len(before))), list(range(len(after)))
    matched_old: set[int] = set()
    matched_new: set[int] = set()
    for i, j, value in _match(before, after, overlap, rows, cols, same_label=True):
        matched_old.add(i)
        matched_new.add(j)
        if value >= MOVED_IOU:
            counts["unchanged"] += 1
            continue
        counts["moved"] += 1
        b, a = before[i], after[j]
        changes.append(
            (
                (b["label"], b["x"], b["y"]),
                f"{b['label']} box moved from {_where(b)} to {_where(a)} (IoU {value:.2f})",
            )
        )
    rows = [i for i in rows if i not in matched_old]
    cols = [j for j in cols if j not in matched_new]
    for i, j, value in _match(before, after, overlap, rows, cols, same_label=False):
        matched_old.add(i)
        matched_new.add(j)
        counts["relabelled"] += 1
        b, a = before[i], after[j]
        changes.append(
            (
                (b["label"], b["x"], b["y"]),
                f"box at {_where(b)} relabelled {b['label']} → {a['label']} (IoU {value:.2f})",
            )
        )
    for i, b in enumerate(before):
        if i not in matched_old:
            counts["removed"] += 1
            changes.append(((b["label"], b["x"], b["y"]), f"{b['label']} box at {_where(b)} removed"))
    for j, a in enumerate(after):
        if j not in matched_new:
            counts["added"] += 1
            changes.append(((a["label"], a["x"], a["y"]), f"{a['label']} box at {_where(a)} added"))
    changes.sort(key=lambda change: change[0])
    return counts, [words for _, words in changes]
