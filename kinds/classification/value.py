"""The classification answer: ``label`` (one class) or ``labels`` (a set, multi-label projects), stored as a
list of class names and shown with both fields."""

from rest_framework import serializers

from annotation.models import Project
from annotation.selectors import label_choices
from core.errors import ValidationFailed


class ClassificationValueInputSerializer(serializers.Serializer):
    # A field named like Field.label: DRF collects declared fields, the stubs see the attribute.
    label = serializers.CharField(required=False, allow_blank=True, max_length=100)  # type: ignore[assignment]
    labels = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=200)

    def validate(self, attrs: dict) -> dict:
        if "label" in attrs and "labels" in attrs:
            raise serializers.ValidationError({"labels": ["Send either label or labels, not both."]})
        return attrs


input_serializer = ClassificationValueInputSerializer


class ClassificationValueOutputSerializer(serializers.Serializer):
    label = serializers.CharField(allow_null=True, read_only=True,  # type: ignore[assignment]
                                  help_text="The single label, null for multi-label or none.")
    labels = serializers.ListField(child=serializers.CharField(), read_only=True)


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
