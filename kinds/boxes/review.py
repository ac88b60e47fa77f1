"""What the review item page shows of a box item: every annotator's boxes over the image, each annotator in a
colour of their own (the boxes' labels are named in words beside them), and the consensus boxes with their
confidences. Pure: no Django."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The quality run's thresholds (``kinds.boxes.metrics.IOU_MATCH``, ``kinds.boxes.figures.LOOSE_IOU``), not imported:
# those modules load scipy, which a web process does not. tests/kinds/test_box_review_layers.py keeps them equal.
IOU_MATCH = 0.5
LOOSE_IOU = 0.75

#: annotator colours, in the order the annotations came; chosen apart from the consensus' white and black, and
#: skipped when close to one of the project's label colours (``annotator_colours``)
ANNOTATOR_COLOURS = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#000075",
)


#: each annotator's stroke pattern, in the same order: the layer reads apart from a label's colour (and from the
#: consensus' "8 4" and gold's "2 3") even where colours are near
ANNOTATOR_DASHES = (
    "10 3",
    "3 3",
    "12 3 3 3",
    "1 4",
    "6 6",
    "16 4 3 4 3 4",
    "2 6",
    "8 2 1 2",
    "20 5",
    "4 2 4 8",
)
# Red, green and blue each this far apart (or more) from every label colour counts as another colour.
MIN_COLOUR_DISTANCE = 64


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def annotator_colours(n: int, label_colours: list[str]) -> list[str]:
    """``n`` annotator colours none of which is near a label colour (largest channel difference below
    ``MIN_COLOUR_DISTANCE``); when too few are left, the remaining ones repeat (the dash still tells them apart)."""
    labels = [_rgb(c) for c in label_colours if isinstance(c, str) and len(c) == 7 and c.startswith("#")]
    apart = [
        c
        for c in ANNOTATOR_COLOURS
        if all(
            max(abs(a - b) for a, b in zip(_rgb(c), label, strict=True)) >= MIN_COLOUR_DISTANCE
            for label in labels
        )
    ] or ["#ffffff"]
    return [apart[i % len(apart)] for i in range(n)]


@dataclass(frozen=True)
class BoxLayer:
    """One annotator's boxes (``kind`` ``annotator``), or the consensus (``consensus``) or gold (``gold``)."""

    kind: str
    key: str
    name: str
    colour: str
    boxes: list[dict]
    #: the layer's stroke-dasharray ("" for a solid stroke)
    dash: str = ""
    #: consensus boxes this annotator drew none of (same label, IoU ≥ 0.5)
    missing: list[dict] = field(default_factory=list)


def _boxes(value: object) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [
        {
            "x": box["x"],
            "y": box["y"],
            "w": box["w"],
            "h": box["h"],
            "label": box["label"],
            "confidence": box.get("confidence"),
        }
        for box in value
        if isinstance(box, dict) and {"x", "y", "w", "h", "label"} <= box.keys()
    ]


def iou(a: dict, b: dict) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a["w"] * a["h"] + b["w"] * b["h"] - inter)


def _judge(boxes: list[dict], consensus: list[dict]) -> list[dict]:
    """Sets each box's ``reason`` against the consensus, the run's reason codes box by box (nearest consensus
    box, not the run's one-to-one matching): ``loose_boundary`` when its best same-label match has IoU below
    ``LOOSE_IOU``, ``class_confusion`` when only a box of another label overlaps it at ``IOU_MATCH``,
    ``extra_box`` when none does; returns the consensus boxes it has no match for."""
    for box in boxes:
        same = max((iou(box, c) for c in consensus if c["label"] == box["label"]), default=0.0)
        other = max((iou(box, c) for c in consensus if c["label"] != box["label"]), default=0.0)
        box["reason"] = (
            ("loose_boundary" if same < LOOSE_IOU else None)
            if same >= IOU_MATCH
            else ("class_confusion" if other >= IOU_MATCH else "extra_box")
        )
    return [
        c for c in consensus if not any(b["label"] == c["label"] and iou(b, c) >= IOU_MATCH for b in boxes)
    ]


def box_layers(
    *,
    consensus: object,
    annotations: list[tuple[str, object]],
    gold: object,
    label_colours: Sequence[str] = (),
) -> list[BoxLayer]:
    """Annotator layers (``(username, stored boxes)`` in order) first, then gold, then the consensus, so the
    consensus is drawn on top. Annotators get colours apart from ``label_colours`` and a dash pattern each."""
    fused = _boxes(consensus) if consensus is not None else None
    colours = annotator_colours(len(annotations), list(label_colours))
    layers = []
    for index, (name, value) in enumerate(annotations):
        boxes = _boxes(value)
        missing = _judge(boxes, fused) if fused is not None else []
        layers.append(
            BoxLayer(
                kind="annotator",
                key=f"a{index}",
                name=name,
                colour=colours[index],
                boxes=boxes,
                dash=ANNOTATOR_DASHES[index % len(ANNOTATOR_DASHES)],
                missing=missing,
            )
        )
    if gold is not None:
        layers.append(BoxLayer(kind="gold", key="gold", name="Gold", colour="#ffd700", boxes=_boxes(gold)))
    if consensus is not None:
        layers.append(
            BoxLayer(kind="consensus", key="consensus", name="Consensus", colour="#ffffff", boxes=fused or [])
        )
    return layers
