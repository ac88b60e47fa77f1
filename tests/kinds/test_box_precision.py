"""Stored box coordinates carry no float noise: answers keep 1e-6 px (what imports and exports promise),
consensus boxes 0.01 px."""

from types import SimpleNamespace

import numpy as np

from kinds.boxes.geometry import fit_to_image
from kinds.boxes.quality_run import _item_consensus


def test_a_box_clipped_to_the_border_is_stored_to_a_hundredth_of_a_pixel():
    # 340.49 + 59.52 = 400.01 reaches 0.01 past a 400 px edge: clipped, w = 400 - 340.49, which in floats is
    # 59.51000000000002 before rounding
    assert 400.0 - 340.49 != 59.51
    [box] = fit_to_image(
        [{"x": 340.49, "y": 10.0, "w": 59.52, "h": 20.0, "label": "car"}], width=400, height=300
    )
    assert box == {"x": 340.49, "y": 10.0, "w": 59.51, "h": 20.0, "label": "car"}


def test_answer_coordinates_keep_a_millionth_of_a_pixel():
    [box] = fit_to_image(
        [{"x": 1.2345678, "y": 2.0, "w": 10.125, "h": 3.3333333, "label": "car"}], width=50, height=50
    )
    # x 1.2345678 → 1.234568; right edge 11.3595678 → 11.359568, w = 10.125; bottom 5.3333333 → 5.333333,
    # h = 3.333333
    assert box == {"x": 1.234568, "y": 2.0, "w": 10.125, "h": 3.333333, "label": "car"}


def test_consensus_boxes_are_stored_rounded():
    # A fused box whose mean corners carry float noise
    consensus = SimpleNamespace(
        item=np.array([0]),
        label=np.array([1]),
        xywh=np.array([[89.86000000000001, 61.0, 400.0 - 340.49, 50.004999]]),
        confidence=np.array([0.8123456]),
    )

    [[box]] = _item_consensus(SimpleNamespace(consensus=consensus), ["bus", "car"], 1)

    assert box == {"x": 89.86, "y": 61.0, "w": 59.51, "h": 50.0, "label": "car", "confidence": 0.8123}
