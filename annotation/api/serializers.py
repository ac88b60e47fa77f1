from typing import Any, cast

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation import blind, profile_thresholds
from annotation.api.fields import LabelValueField, ProbabilitiesField
from annotation.api.labelling_bodies import item_media_url
from annotation.models import Annotation, Guideline, Item, Label, Membership, Project, Role
from annotation.models.project import ConsensusMethod
from annotation.services.projects import SAMPLING_STRATEGIES, UPDATABLE_SETTINGS
from core.api.fields import COUNTS_SCHEMA, FreeFormDictField, FreeFormObjectField, StringListField
from kinds.registry import kind_for, kinds, task_type_choices


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["value", "hotkey", "description", "order"]


class LabelInputSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=100)
    hotkey = serializers.CharField(max_length=1, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TaskTypeField(serializers.ChoiceField):
    """The registered kinds' task types. A serializer copies its declared fields per instance by constructing
    them again, so each request (and each schema generation) sees the kinds registered by then."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=task_type_choices(), **kwargs)


class ProjectCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    task_type = TaskTypeField()
    multi_label = serializers.BooleanField(default=False)
    labels = LabelInputSerializer(many=True)
    annotations_per_item = serializers.IntegerField(default=3, min_value=1, max_value=20)
    max_annotations_per_item = serializers.IntegerField(required=False, min_value=1, max_value=20)
    gold_rate = serializers.FloatField(default=0.0, min_value=0.0, max_value=1.0)
    guidelines = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    lease_seconds = serializers.IntegerField(required=False, min_value=30, max_value=86400)
    early_stopping = serializers.BooleanField(required=False)
    sampling_strategy = serializers.ChoiceField(required=False, choices=list(SAMPLING_STRATEGIES))
    review_confidence_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    rescore_every = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=1_000_000,
        help_text="Retrain after this many new labels; 0 turns it off.",
    )
    profile_thresholds = FreeFormDictField(
        required=False,
        help_text="Profiling flag thresholds, route_flags, phash_distance, text_jaccard (see PATCH).",
    )
    route_flagged_to_review = serializers.BooleanField(required=False)
    preannotation_for_annotators = serializers.BooleanField(required=False)

    def validate_profile_thresholds(self, value: dict) -> dict:
        return _valid_profile_thresholds(value)


def _valid_profile_thresholds(value: dict) -> dict:
    problems = profile_thresholds.profile_thresholds_problems(value)
    if problems:
        raise serializers.ValidationError(problems)
    return value


class ProjectUpdateInputSerializer(serializers.Serializer):
    """Used with ``partial=True``: only the fields sent change. ``profile_thresholds`` replaces the whole object."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True)
    annotations_per_item = serializers.IntegerField(
        min_value=1, max_value=20, help_text="k; applies to new items and to items nobody has annotated yet."
    )
    max_annotations_per_item = serializers.IntegerField(min_value=1, max_value=20)
    early_stopping = serializers.BooleanField()
    gold_rate = serializers.FloatField(min_value=0.0, max_value=1.0)
    lease_seconds = serializers.IntegerField(min_value=30, max_value=86400)
    sampling_strategy = serializers.ChoiceField(choices=list(SAMPLING_STRATEGIES))
    consensus_method = serializers.ChoiceField(choices=ConsensusMethod.choices)
    review_confidence_threshold = serializers.FloatField(min_value=0.0, max_value=1.0)
    rescore_every = serializers.IntegerField(
        min_value=0, max_value=1_000_000, help_text="Retrain after this many new labels; 0 turns it off."
    )
    profile_thresholds = FreeFormDictField(
        help_text="Flag thresholds (keys of annotation.profiling.ProfileThresholds), route_flags (list of flags "
        "sent to review), phash_distance (0-64), text_jaccard (0-1]. Applies to the next imports."
    )
    route_flagged_to_review = serializers.BooleanField()
    preannotation_for_annotators = serializers.BooleanField(
        help_text="Show the model's suggestion to annotators (biases independent labels; off by default)."
    )

    def validate_profile_thresholds(self, value: dict) -> dict:
        return _valid_profile_thresholds(value)

    def validate(self, attrs: dict) -> dict:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(UPDATABLE_SETTINGS))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This setting cannot be changed here."] for key in unknown}
                )
        k, max_k = attrs.get("annotations_per_item"), attrs.get("max_annotations_per_item")
        if k is not None and max_k is not None and max_k < k:
            raise serializers.ValidationError(
                {"max_annotations_per_item": ["Must be at least annotations_per_item."]}
            )
        return attrs


_NAMING_SETTINGS = ("name", "description")


class ProjectOutputSerializer(serializers.ModelSerializer):
    labels = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField(help_text="Items per status, and total.")
    profile_thresholds = FreeFormObjectField(read_only=True)
    role = serializers.SerializerMethodField()
    guideline_version = serializers.SerializerMethodField()

    class Meta:
        model = Project
        # Every setting a manager may change is shown; name and description lead, before the kind.
        fields = [
            "id",
            *_NAMING_SETTINGS,
            "task_type",
            "multi_label",
            "labels",
            *(name for name in UPDATABLE_SETTINGS if name not in _NAMING_SETTINGS),
            "created_at",
            "counts",
            "role",
            "guideline_version",
        ]

    @extend_schema_field(LabelSerializer(many=True))
    def get_labels(self, project: Project) -> list[dict]:
        labels = self.context.get("labels")
        if labels is None:
            labels = project.labels.filter(is_active=True)
        # many=True builds a ListSerializer, whose data is a list; the stubs type the call as one LabelSerializer.
        return LabelSerializer(labels, many=True).data  # type: ignore[return-value]

    @extend_schema_field({**COUNTS_SCHEMA, "nullable": True})
    def get_counts(self, project: Project) -> dict | None:
        return self.context.get("counts")

    def get_role(self, project: Project) -> str | None:
        return self.context.get("role")

    def get_guideline_version(self, project: Project) -> int | None:
        return self.context.get("guideline_version")


class ProjectListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="project.id")
    name = serializers.CharField(source="project.name")
    task_type = serializers.CharField(source="project.task_type")
    multi_label = serializers.BooleanField(source="project.multi_label")
    role = serializers.CharField()


class MembershipInputSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "project", "role", "acknowledged_guideline_version", "created_at"]


class GuidelineInputSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=200_000)
    change_note = serializers.CharField(max_length=500)


class GuidelineOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, read_only=True)

    class Meta:
        model = Guideline
        fields = ["id", "version", "body", "change_note", "author", "created_at"]


class GuidelineAckInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class BulkItemRowSerializer(serializers.Serializer):
    """Documentation-only shape of one bulk row; rows are validated one by one so good rows always land."""

    external_id = serializers.CharField()
    text = serializers.CharField(required=False)
    file_url = serializers.CharField(required=False)
    file_b64 = serializers.CharField(required=False)
    metadata = FreeFormDictField(required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    gold_label = LabelValueField(required=False)


class BulkRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in the request body.")
    field = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    # The metaclass moves declared fields off the class, so this does not shadow Serializer.errors at runtime.
    errors = BulkRowErrorSerializer(many=True)  # type: ignore[assignment]
    batch = serializers.IntegerField(allow_null=True)


class ItemAnnotatorSerializer(serializers.ModelSerializer):
    """What an annotator may see of an item (``annotation.blind``): content, item id and external id only."""

    media_url = serializers.SerializerMethodField()

    class Meta:
        model = Item
        fields = list(blind.ANNOTATOR_ITEM_FIELDS)

    def get_media_url(self, item: Item) -> str | None:
        return item_media_url(item)


# What an item list shows of an item, in this order; the review page shows the same (quality.review.serializers).
ITEM_LIST_FIELDS = (
    "id",
    "external_id",
    "text",
    "media_url",
    "metadata",
    "tags",
    "status",
    "priority",
    "annotation_count",
    "target_annotations",
    "is_gold",
    "gold_label",
    "consensus_label",
    "consensus_confidence",
    "consensus_suggestion",
    "final_label",
    "label_quality",
    "is_label_issue",
    "issue_kinds",
    "issue_severity",
    "flag_model",
    "flag_model_label",
    "predicted_label",
    "predicted_probs",
    "profile",
    "flags",
    "near_dup_group",
    "created_at",
)


class ItemListSerializer(serializers.ModelSerializer):
    media_url = serializers.SerializerMethodField()
    metadata = FreeFormObjectField()
    tags = StringListField()
    gold_label = LabelValueField(allow_null=True)
    consensus_label = LabelValueField(allow_null=True)
    consensus_suggestion = LabelValueField(allow_null=True)
    final_label = LabelValueField(allow_null=True)
    issue_kinds = StringListField()
    flag_model_label = LabelValueField(allow_null=True)
    predicted_label = LabelValueField(allow_null=True)
    predicted_probs = ProbabilitiesField(allow_null=True)
    profile = FreeFormObjectField(help_text="Profiling measurements of the item's content.")
    flags = StringListField()

    class Meta:
        model = Item
        fields = list(ITEM_LIST_FIELDS)

    def get_media_url(self, item: Item) -> str | None:
        return item_media_url(item)


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


class UserCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, write_only=True)
    # No default here: an empty default is not a valid `format: email` value in the schema.
    email = serializers.EmailField(required=False, allow_blank=True)


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]
