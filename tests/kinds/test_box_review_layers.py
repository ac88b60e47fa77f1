"""The box review page's layers (kinds.boxes.review): each annotator's boxes judged against the consensus box by
box, with the quality run's thresholds; IoUs worked out by hand."""

from kinds.boxes import figures, metrics
from kinds.boxes.review import IOU_MATCH, LOOSE_IOU, box_layers, iou


def _b(x, y, w, h, label="iguana", **more):
    return {"x": x, "y": y, "w": w, "h": h, "label": label, **more}


CONSENSUS = [_b(0, 0, 100, 100, confidence=0.9), _b(200, 0, 50, 50, "rock", confidence=0.7)]


def test_the_page_judges_boxes_with_the_quality_runs_thresholds():
    assert (IOU_MATCH, LOOSE_IOU) == (metrics.IOU_MATCH, figures.LOOSE_IOU)


def test_iou_by_hand():
    # 100 x 100 and the same moved 50 right: 5,000 shared of 15,000 covered
    assert iou(_b(0, 0, 100, 100), _b(50, 0, 100, 100)) == 5000 / 15000
    assert iou(_b(0, 0, 10, 10), _b(10, 0, 10, 10)) == 0.0


def test_each_annotator_box_gets_its_reason_and_undrawn_consensus_boxes_are_listed():
    layers = box_layers(
        consensus=CONSENSUS,
        annotations=[
            # the same iguana, and the rock
            ("ava", [_b(0, 0, 100, 100), _b(200, 0, 50, 50, "rock")]),
            # an iguana box 20 px too wide (IoU 100/120 = 0.83: kept, not loose) and one 60 px too wide
            # (IoU 100/160 = 0.625: loose); no rock
            ("ben", [_b(0, 0, 120, 100), _b(0, 0, 160, 100)]),
            # the rock called an iguana (IoU 1 with a rock), and a box where nothing is
            ("cy", [_b(200, 0, 50, 50), _b(300, 200, 20, 20)]),
        ],
        gold=None,
    )
    ava, ben, cy, consensus = layers
    assert [(layer.kind, layer.name) for layer in layers] == [
        ("annotator", "ava"),
        ("annotator", "ben"),
        ("annotator", "cy"),
        ("consensus", "Consensus"),
    ]
    assert len({layer.colour for layer in layers[:3]}) == 3
    assert [b["reason"] for b in ava.boxes] == [None, None] and ava.missing == []
    assert [b["reason"] for b in ben.boxes] == [None, "loose_boundary"]
    assert [c["label"] for c in ben.missing] == ["rock"]
    assert [b["reason"] for b in cy.boxes] == ["class_confusion", "extra_box"]
    assert [c["label"] for c in cy.missing] == ["iguana", "rock"]
    assert [b["confidence"] for b in consensus.boxes] == [0.9, 0.7]


def test_without_a_consensus_nothing_is_judged():
    (layer,) = box_layers(consensus=None, annotations=[("ava", [_b(0, 0, 10, 10)])], gold=None)
    assert "reason" not in layer.boxes[0] and layer.missing == []
