"""What the review item page shows of a box item: every annotator's boxes over the image, each annotator in a
colour of their own (the boxes' labels are named in words beside them), and the consensus boxes with their
confidences. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass

#: annotator colours, in the order the annotations came; chosen apart from the consensus' white and black
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


@dataclass(frozen=True)
class BoxLayer:
    """One annotator's boxes (``kind`` ``annotator``), or the consensus (``consensus``) or gold (``gold``)."""

    kind: str
    key: str
    name: str
    colour: str
    boxes: list[dict]


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


def box_layers(*, consensus: object, annotations: list[tuple[str, object]], gold: object) -> list[BoxLayer]:
    """Annotator layers (``(username, stored boxes)`` in order) first, then gold, then the consensus, so the
    consensus is drawn on top."""
    layers = [
        BoxLayer(
            kind="annotator",
            key=f"a{index}",
            name=name,
            colour=ANNOTATOR_COLOURS[index % len(ANNOTATOR_COLOURS)],
            boxes=_boxes(value),
        )
        for index, (name, value) in enumerate(annotations)
    ]
    if gold is not None:
        layers.append(BoxLayer(kind="gold", key="gold", name="Gold", colour="#ffd700", boxes=_boxes(gold)))
    if consensus is not None:
        layers.append(
            BoxLayer(
                kind="consensus", key="consensus", name="Consensus", colour="#ffffff", boxes=_boxes(consensus)
            )
        )
    return layers
