"""The boxes answer: ``boxes`` (a list of ``{x, y, w, h, label}``; ``[]`` means "nothing to box"), stored as that
list in ``Annotation.labels`` sorted by (label, x, y, w, h). An item's gold, consensus and final label hold the
same form. Coordinates are pixels of the stored image with the origin at its top-left corner
(``kinds.boxes.geometry``)."""

import json
from collections import Counter
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation.label_colours import label_colour
from annotation.models import Label, Project
from annotation.selectors import json_list_has_part, label_choices, map_label
from core.errors import ValidationFailed
from kinds.boxes.geometry import MAX_BOXES, BoxError, boxes_from_raw, check_labels, fit_to_image, sorted_boxes
from kinds.boxes.review import ANNOTATOR_COLOURS, box_layers

FIELD = "boxes"


class BoxSerializer(serializers.Serializer):
    """One box, for the API schema; the checks are ``kinds.boxes.geometry``'s."""

    x = serializers.FloatField(help_text="Left edge, pixels of the stored image from its left side.")
    y = serializers.FloatField(help_text="Top edge, pixels from the image's top.")
    w = serializers.FloatField(help_text="Width in pixels, > 0; x + w <= the image's width.")
    h = serializers.FloatField(help_text="Height in pixels, > 0; y + h <= the image's height.")
    # A field named like Field.label: DRF collects declared fields, the stubs see the attribute.
    label = serializers.CharField(help_text="One of the project's active label values.")  # type: ignore[assignment]


@extend_schema_field(BoxSerializer(many=True))
class BoxListField(serializers.JSONField):
    """The boxes as sent, checked for shape and size with one message naming the bad box (DRF's nested list
    would report per-index dicts a client has to decode)."""

    def to_internal_value(self, data: object) -> list[dict]:
        try:
            return boxes_from_raw(data)
        except BoxError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class BoxesValueInputSerializer(serializers.Serializer):
    boxes = BoxListField(
        required=False,
        help_text='Box projects: [{x, y, w, h, label}] in image pixels; [] means "nothing to box".',
    )
    #: ``annotation.api.serializers.annotation_input_serializer`` refuses other kinds' answer fields (label…)
    refuses_other_kinds_fields = True

    def validate(self, attrs: dict) -> dict:
        if FIELD not in attrs and not attrs.get("unusable"):
            raise serializers.ValidationError(
                {FIELD: ["Send boxes ([] when there is nothing to box), or flag the image as unusable."]}
            )
        return attrs


input_serializer = BoxesValueInputSerializer


class BoxesValueOutputSerializer(serializers.Serializer):
    # Not required (and so not read_only, which the schema reads as required): other kinds' annotations lack it.
    boxes = serializers.ListField(
        child=BoxSerializer(),
        required=False,
        help_text="Box projects: the boxes, sorted by label, x, y, w, h.",
    )


output_serializer = BoxesValueOutputSerializer


def output(value: list) -> dict:
    return {FIELD: value}


def value_from_input(validated: dict) -> list:
    return validated.get(FIELD, [])


def _checked(raw: object, known: set[str], *, field: str) -> list[dict]:
    try:
        boxes = boxes_from_raw(raw)
        check_labels(boxes, known)
    except BoxError as exc:
        raise ValidationFailed(str(exc), field=field) from exc
    return boxes


def validate(*, project: Project, value: list, unusable: bool) -> list:
    """The boxes checked for shape, size and labels, in the order sent: ``fit_to_item`` (always called next for
    an item that exists) numbers them as the client did in its messages, then sorts them."""
    return _checked(value, label_choices(project=project), field=FIELD)


def fit_to_item(*, value: list, text: str, profile: dict) -> list:
    """The boxes checked against the item's image (its size in ``profile``, measured at import). Raises
    ValidationFailed (field ``boxes``) for a box outside it, or boxes on an image whose size is unknown."""
    if not value:
        return []
    width, height = (profile or {}).get("width"), (profile or {}).get("height")
    if not width or not height:
        raise ValidationFailed(
            "This image's size is unknown (it could not be read), so boxes cannot be placed on it; "
            "flag it as unusable instead.",
            field=FIELD,
        )
    try:
        return sorted_boxes(fit_to_image(value, width=width, height=height))
    except BoxError as exc:
        raise ValidationFailed(str(exc), field=FIELD) from exc


def gold_value(*, project: Project, raw: object, label_values: set[str]) -> tuple[object | None, str | None]:
    """Gold boxes as a list (or its JSON text, as CSV cells carry it); ``[]`` is a gold "nothing to box"."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, "Gold boxes must be a JSON list of {x, y, w, h, label}."
    try:
        boxes = boxes_from_raw(raw)
        check_labels(boxes, label_values)
    except BoxError as exc:
        return None, f"Gold: {exc}"
    return sorted_boxes(boxes), None


def final_from_choice(*, project: Project, label: object, active: set[str]) -> object:
    """A reviewer's boxes as stored in ``final_label``. Raises ValidationFailed (field ``label``)."""
    if isinstance(label, list):
        # Accept takes the item's consensus, whose boxes carry the quality run's confidence: not part of a box.
        label = [
            {k: v for k, v in box.items() if k != "confidence"} if isinstance(box, dict) else box
            for box in label
        ]
    return sorted_boxes(_checked(label, active, field="label"))


def final_from_vote(value: list, *, project: Project, mapping: dict[str, str]) -> object:
    """A stored answer with retired labels mapped to their targets."""
    return sorted_boxes(
        {**box, "label": map_label(box["label"], mapping)} for box in value or [] if isinstance(box, dict)
    )


def label_classes(value: object) -> list:
    """The labels the boxes of a stored value name, each once, sorted."""
    if not isinstance(value, list):
        return []
    return sorted({box["label"] for box in value if isinstance(box, dict) and "label" in box})


def describe(value: list) -> str:
    """An answer (or an item's consensus, final label) in words: ``3 boxes (iguana ×2, rock)``, or ``nothing to
    box``."""
    boxes = [box for box in value or [] if isinstance(box, dict) and "label" in box]
    if not boxes:
        return "nothing to box"
    counts = Counter(box["label"] for box in boxes)
    labels = ", ".join(
        label if n == 1 else f"{label} ×{n}"
        for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"{len(boxes)} box{'es' if len(boxes) != 1 else ''} ({labels})"


def stored_label_query(field_name: str, value: str, *, project: Project) -> Q:
    """Items whose stored boxes (``consensus_label``, ``final_label``) include one labelled ``value``."""
    return json_list_has_part(field_name, "label", value)


def _label_rows(project: Project) -> list[dict]:
    names = ["value", "hotkey", "description"]
    # The label colour arrives with a later migration; until then the widget colours labels by their order.
    if any(f.name == "colour" for f in Label._meta.get_fields()):
        names.append("colour")
    return list(project.labels.filter(is_active=True).order_by("order", "id").values(*names))


def review_settings(*, project: Project) -> dict:
    return {"boxes": True, "boxLabels": _label_rows(project)}


def widget_settings(*, project: Project) -> dict:
    """What the label page's widget (``kinds/boxes/widget.js``) needs: the labels with hotkeys and colours."""
    return {"boxLabels": _label_rows(project), "maxBoxes": MAX_BOXES}


def confidence_meaning(*, project: Project) -> str | None:
    """Boxes are fused by weighted box fusion whatever the project's class consensus method
    (``kinds.boxes.consensus``); the item's confidence is its least certain box (``kinds.boxes.figures``)."""
    return (
        "the least certain box's, by weighted box fusion: a fused box's confidence is the weighted share of the "
        "annotators who drew it × their boxes' mean IoU with it; a box drawn by too few annotators to be kept "
        "lowers it to 1 − their share"
    )


def consensus_fields(value: object) -> dict:
    """An item's consensus as the item API shows it: ``consensus_boxes``, each box with the confidence the quality
    run gave it (``kinds.boxes.consensus``); ``[]`` before any run or when the consensus is nothing to box."""
    return {"consensus_boxes": value if isinstance(value, list) else []}


def _shown_label_colours(project: Project) -> list[str]:
    """Every colour a label of the project is drawn in: its own, else the box editor's palette colour of its place
    (``editor.js``, the same list as ``ANNOTATOR_COLOURS``) and the label chips' palette colour of its order."""
    colours = []
    for position, label in enumerate(project.labels.filter(is_active=True).order_by("order", "id")):
        own = getattr(label, "colour", "")
        if own:
            colours.append(own.lower())
        else:
            colours += [ANNOTATOR_COLOURS[position % len(ANNOTATOR_COLOURS)], label_colour("", label.order)]
    return colours


def review_context(*, project: Project, item: Any, annotations: list) -> dict:
    """What the review item page's box view (``kinds/boxes/review.html``) shows: the image in its stored pixels
    with each live annotation's boxes, the gold and the consensus boxes as layers; ``seed``, the answer the
    editor starts from (the consensus boxes without their confidences)."""
    profile = item.profile if isinstance(item.profile, dict) else {}
    layers = box_layers(
        consensus=item.consensus_label,
        annotations=[(a.annotator.username, a.labels) for a in annotations if a.is_live],
        gold=item.gold_label,
        label_colours=_shown_label_colours(project),
    )
    consensus = item.consensus_label if isinstance(item.consensus_label, list) else []
    return {
        "layers": layers,
        "width": profile.get("width"),
        "height": profile.get("height"),
        "media_url": f"/media/items/{item.pk}/",
        # captions in image pixels, so they read at about the same size on the page whatever the image's size
        "caption_px": max(8, round(max(profile.get("width") or 0, profile.get("height") or 0) / 36)),
        "seed": {FIELD: [{key: box[key] for key in ("x", "y", "w", "h", "label")} for box in consensus]},
    }
