"""Serializers of the labelling loop: an annotation in and out (common fields plus the kind's answer), the next
item with its lease and suggestion, the caller's recent votes and their progress."""

from typing import Any, cast

from rest_framework import serializers

from annotation.api.fields import LabelValueField
from annotation.api.item_serializers import ItemAnnotatorSerializer
from annotation.models import Annotation
from kinds.registry import TaskKind, kind_for, kinds


class AnnotationCommonInputSerializer(serializers.Serializer):
    """The fields every kind's annotation has; a kind adds its answer's fields (``annotation_input_serializer``)."""

    item = serializers.IntegerField()
    unsure = serializers.BooleanField(default=False)
    unusable = serializers.BooleanField(default=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    lead_time_ms = serializers.IntegerField(
        required=False, min_value=0, max_value=86_400_000, allow_null=True
    )
    client_id = serializers.UUIDField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        # A kind's input serializer that sets ``refuses_other_kinds_fields`` has another kind's answer field
        # (``boxes`` sent to a classification project, ``label`` to a box project) refused rather than ignored:
        # the client meant an answer this project would silently drop.
        if getattr(self, "refuses_other_kinds_fields", False) and isinstance(data, dict):
            common = AnnotationCommonInputSerializer._declared_fields
            own = [str(name) for name in self.fields if name not in common]
            foreign = [name for name in _kinds_answer_fields() if name in data and name not in self.fields]
            if foreign:
                raise serializers.ValidationError(
                    {
                        name: [f"This project's answers have no {name} field; send {' or '.join(own)}."]
                        for name in foreign
                    }
                )
        return super().to_internal_value(data)


# The registered kinds the answer fields below were read from, and those fields. The kinds themselves are kept (not
# their ids) so a kind registered in place of another is never mistaken for it.
_ANSWER_FIELDS_OF: tuple[tuple[TaskKind, ...], list[str]] = ((), [])


def _kinds_answer_fields() -> list[str]:
    """Every registered kind's answer input fields, read again only when the registered kinds changed (kinds may
    register after import, so never only once)."""
    global _ANSWER_FIELDS_OF
    current = tuple(kinds())
    read_from, fields = _ANSWER_FIELDS_OF
    if len(current) == len(read_from) and all(a is b for a, b in zip(current, read_from, strict=True)):
        return fields
    fields = list(
        dict.fromkeys(
            name
            for kind in current
            for name in cast(
                "type[serializers.Serializer]", kind.value_schema.input_serializer
            )._declared_fields
        )
    )
    _ANSWER_FIELDS_OF = (current, fields)
    return fields


_INPUT_SERIALIZERS: dict[type, type] = {}


def annotation_input_serializer(value_serializer: type) -> type:
    """The common fields plus a kind's answer fields, as one serializer (so both report their errors at once)."""
    combined = _INPUT_SERIALIZERS.get(value_serializer)
    if combined is None:
        name = value_serializer.__name__.removesuffix("ValueInputSerializer") + "AnnotationInputSerializer"
        combined = type(name, (AnnotationCommonInputSerializer, value_serializer), {"__module__": __name__})
        _INPUT_SERIALIZERS[value_serializer] = combined
    return combined


# The bases come from the kinds registry at import time, which a type checker cannot follow.
class AnnotationInputSerializer(
    AnnotationCommonInputSerializer,
    *(kind.value_schema.input_serializer for kind in kinds()),  # type: ignore[misc]
):
    """What ``POST /annotations/`` documents: the common fields and every built-in kind's answer fields (a
    project's kind decides which of them it reads)."""


# The registry types a kind's serializers as plain classes; they are serializers.
_ANSWER_OUTPUTS = cast(
    "tuple[type[serializers.Serializer], ...]",
    tuple(dict.fromkeys(kind.value_schema.output_serializer for kind in kinds())),
)


def answer_output_serializers() -> tuple[type[serializers.Serializer], ...]:
    """Every built-in kind's answer output serializer, for serializers that show an annotation's answer."""
    return _ANSWER_OUTPUTS


_ANSWER_FIELDS = list(dict.fromkeys(name for output in _ANSWER_OUTPUTS for name in output._declared_fields))


def with_answer(body: dict, answer: dict, *, after: str) -> dict:
    """``body`` with a kind's answer fields (``ValueSchema.output``) placed after the field ``after``."""
    out: dict = {}
    for name, value in body.items():
        out[name] = value
        if name == after:
            out.update(answer)
    return out


class AnnotationOutputSerializer(serializers.ModelSerializer, *_ANSWER_OUTPUTS):  # type: ignore[misc]  # bases from the kinds registry
    """An annotation; its answer fields are its project's kind's (the schema lists every built-in kind's)."""

    class Meta:
        model = Annotation
        fields = [
            "id",
            "item",
            "annotator",
            *_ANSWER_FIELDS,
            "unsure",
            "unusable",
            "comment",
            "lead_time_ms",
            "guideline_version",
            "client_id",
            "is_live",
            "supersedes",
            "created_at",
        ]

    @property
    def _readable_fields(self):
        return (field for field in super()._readable_fields if field.field_name not in _ANSWER_FIELDS)

    def to_representation(self, annotation: Annotation) -> dict:
        answer = kind_for(annotation.project).value_schema.output(annotation.labels)
        return with_answer(super().to_representation(annotation), answer, after="annotator")


class AssignmentOutputSerializer(serializers.Serializer):
    """The lease; nothing about whether the item is gold."""

    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class SuggestionOutputSerializer(serializers.Serializer):
    # The metaclass moves declared fields off the class, so this does not shadow Field.label at runtime.
    label = LabelValueField(help_text="The base model's predicted label.")  # type: ignore[assignment]
    probs = serializers.DictField(
        child=serializers.FloatField(allow_null=True), allow_null=True, help_text="label → probability"
    )
    warning = serializers.CharField()


class NextOutputSerializer(serializers.Serializer):
    assignment = AssignmentOutputSerializer()
    item = ItemAnnotatorSerializer()
    suggestion = SuggestionOutputSerializer(
        required=False,
        help_text="Only when the project shows pre-annotations to annotators and the model has a prediction.",
    )


class RecentOwnAnnotationOutputSerializer(*_ANSWER_OUTPUTS):  # type: ignore[misc]  # bases from the kinds registry
    """One of the caller's own recent votes, with the item as an annotator may see it; nothing of others' work.
    The answer fields are the project's kind's (``recent_body``)."""

    item = ItemAnnotatorSerializer()
    annotation = serializers.IntegerField(
        help_text="The caller's live annotation; changing it supersedes it."
    )
    unsure = serializers.BooleanField()
    unusable = serializers.BooleanField()
    comment = serializers.CharField(allow_blank=True)
    annotated_at = serializers.DateTimeField()


class ProgressOutputSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    left = serializers.IntegerField()
