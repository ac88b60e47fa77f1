"""The box panels' bins (COCO's size areas, IoU of matched boxes) at their edges, and the dashboard naming no
kind: its kind-specific panels come only through ``TaskKind.dashboard_panels``."""

from pathlib import Path

import numpy as np

from kinds.boxes.panels import iou_bin_counts, size_bin_counts
from kinds.registry import kinds

ROOT = Path(__file__).resolve().parents[2]


def test_size_bins_follow_cocos_area_ranges():
    # COCO: small area < 32², medium 32² ≤ area < 96², large ≥ 96²
    areas = np.array([1.0, 1023.9, 1024.0, 9215.9, 9216.0, 1e6])
    assert size_bin_counts(areas) == [2, 2, 2]
    assert size_bin_counts(np.zeros(0)) == [0, 0, 0]


def test_iou_bins_include_their_lower_edge_and_the_last_one_includes_one():
    ious = np.array([0.5, 0.59, 0.6, 0.75, 0.8999, 0.9, 1.0])
    assert iou_bin_counts(ious) == [2, 1, 1, 1, 2]


def test_the_dashboard_names_no_task_type_or_kind():
    # Given every registered kind's name and task types
    names = {kind.name for kind in kinds()} | {t for kind in kinds() for t in kind.task_types}
    sources = [
        *(ROOT / "quality" / "dashboard").rglob("*.py"),
        *(ROOT / "templates" / "quality" / "dashboard").glob("*"),
    ]
    for path in sources:
        text = path.read_text()
        # Then no dashboard module or template branches on a project's task type or names a kind
        assert "task_type" not in text, path
        for name in names:
            assert f'"{name}"' not in text and f"'{name}'" not in text, (path, name)
