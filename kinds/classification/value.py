"""The classification answer: ``label`` (one class) or ``labels`` (a set, multi-label projects), stored as a
list of class names and shown with both fields; an item's consensus and final label hold a class name, or a sorted
list of them for multi-label projects."""

from django.db.models import Q
from rest_framework import serializers

from annotation.models import Project
from annotation.selectors import json_list_has, label_choices, map_label
from core.errors import ValidationFailed


class ClassificationValueInputSerializer(serializers.Serializer):
    # A field named like Field.label: DRF collects declared fields, the stubs see the attribute.
    label = serializers.CharField(required=False, allow_blank=True, max_length=100)  # type: ignore[assignment]
    labels = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=200
    )
    #: ``annotation.api.serializers.annotation_input_serializer`` refuses other kinds' answer fields (boxes…)
    refuses_other_kinds_fields = True

    def validate(self, attrs: dict) -> dict:
        if "label" in attrs and "labels" in attrs:
            raise serializers.ValidationError({"labels": ["Send either label or labels, not both."]})
        return attrs


input_serializer = ClassificationValueInputSerializer


class ClassificationValueOutputSerializer(serializers.Serializer):
    # Not required (and so not read_only, which the schema reads as required): other kinds' annotations (boxes)
    # share the annotation schemas and lack these fields.
    label = serializers.CharField(
        allow_null=True,
        required=False,  # type: ignore[assignment]
        help_text="The single label, null for multi-label or none (classification projects).",
    )
    labels = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="The labels (classification projects)."
    )


output_serializer = ClassificationValueOutputSerializer


def output(value: list) -> dict:
    return {"label": value[0] if len(value) == 1 else None, "labels": value}


def value_from_input(validated: dict) -> list:
    labels = validated.get("labels")
    if labels is None:
        labels = [validated["label"]] if validated.get("label") else []
    return labels


def validate(*, project: Project, value: list, unusable: bool) -> list:
    known = label_choices(project=project)
    field = "labels" if project.multi_label else "label"
    labels = list(dict.fromkeys(value))
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown label {', '.join(repr(v) for v in unknown)}; this project's labels are {', '.join(sorted(known))}.",
            field=field,
        )
    if not project.multi_label and len(labels) > 1:
        raise ValidationFailed("This is a single-label project: give exactly one label.", field="label")
    if not project.multi_label and not labels and not unusable:
        raise ValidationFailed("Give a label, or flag the item as unusable.", field="label")
    return sorted(labels) if project.multi_label else labels


def gold_value(*, project: Project, raw: object, label_values: set[str]) -> tuple[object | None, str | None]:
    if raw in (None, "", []):
        return None, None
    if project.multi_label:
        values = raw if isinstance(raw, list) else [part for part in str(raw).split(";") if part]
        unknown = [value for value in values if value not in label_values]
        if unknown:
            return None, f"Unknown gold label(s): {', '.join(map(str, unknown))}."
        return sorted(values), None
    if isinstance(raw, list):
        if len(raw) != 1:
            return None, "A single-label project takes one gold label."
        raw = raw[0]
    if str(raw) not in label_values:
        return None, f"Unknown gold label '{raw}'; known: {', '.join(sorted(label_values))}."
    return str(raw), None


def final_from_choice(*, project: Project, label: object, active: set[str]) -> object:
    """A reviewer's choice as stored in ``final_label``: a value (single-label) or a sorted list (multi-label).

    Raises ValidationFailed (field ``label``) for a value not in the project's active label set.
    """
    if project.multi_label:
        values = label if isinstance(label, list) else [label]
        if not all(isinstance(value, str) for value in values):
            raise ValidationFailed("label must be a list of label values.", field="label")
        unknown = sorted({value for value in values if value not in active})
        if unknown:
            raise ValidationFailed(
                f"Unknown label {', '.join(map(repr, unknown))}; this project's labels are {', '.join(sorted(active))}.",
                field="label",
            )
        return sorted(set(values))
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    if not isinstance(label, str):
        raise ValidationFailed("This is a single-label project: give one label value.", field="label")
    if label not in active:
        raise ValidationFailed(
            f"Unknown label {label!r}; this project's labels are {', '.join(sorted(active))}.", field="label"
        )
    return label


def final_from_vote(value: list, *, project: Project, mapping: dict[str, str]) -> object:
    """A stored answer as a final label would hold it, with the label mapping applied; None when a single-label
    answer holds no class (or several)."""
    mapped = map_label(list(value or []), mapping)
    if project.multi_label:
        return mapped
    return mapped[0] if len(mapped) == 1 else None


def label_classes(value: object) -> list:
    """The classes a stored label value (an item's consensus, final or gold label) names."""
    return value if isinstance(value, list) else [] if value is None else [value]


def stored_label_query(field_name: str, value: str, *, project: Project) -> Q:
    """Items whose stored label field (``consensus_label``, ``final_label``) holds the class ``value``."""
    return json_list_has(field_name, value) if project.multi_label else Q(**{field_name: value})


def review_settings(*, project: Project) -> dict:
    """What the review page's label buttons need (``static/js/review.js``): one class or a set."""
    return {"multiLabel": project.multi_label}


def widget_settings(*, project: Project) -> dict:
    """What the label page's widget (``kinds/classification/widget.js``) needs: one class or a set."""
    return {"multiLabel": project.multi_label}


def confidence_meaning(*, project: Project) -> str | None:
    """What an item's consensus confidence means when the kind fixes it whatever the last run's method; None when
    the method decides (one class per item: majority vote, Dawid–Skene or CROWDLAB)."""
    if project.multi_label:
        return "the weakest of the per-label vote shares or probabilities behind the label set"
    return None
