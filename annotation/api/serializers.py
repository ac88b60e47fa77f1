from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation import profile_thresholds

# Item and labelling-loop serializers live in their own modules; their names stay importable from here.
from annotation.api.item_serializers import (  # noqa: F401
    ITEM_LIST_FIELDS,
    BulkItemRowSerializer,
    BulkResultSerializer,
    BulkRowErrorSerializer,
    ItemAnnotatorSerializer,
    ItemListSerializer,
    image_size,
)
from annotation.api.labelling_serializers import (  # noqa: F401
    AnnotationCommonInputSerializer,
    AnnotationInputSerializer,
    AnnotationOutputSerializer,
    AssignmentOutputSerializer,
    NextOutputSerializer,
    ProgressOutputSerializer,
    RecentOwnAnnotationOutputSerializer,
    SuggestionOutputSerializer,
    annotation_input_serializer,
    answer_output_serializers,
    with_answer,
)
from annotation.label_colours import colour_problem, label_colour
from annotation.models import Guideline, Label, Membership, Project, Role
from annotation.models.project import ConsensusMethod
from annotation.services.projects import SAMPLING_STRATEGIES, UPDATABLE_SETTINGS
from core.api.fields import COUNTS_SCHEMA, FreeFormDictField, FreeFormObjectField
from kinds.registry import task_type_choices


class LabelSerializer(serializers.ModelSerializer):
    colour = serializers.SerializerMethodField(
        help_text="#rrggbb: the label's own colour, else the palette colour of its place in the label set."
    )

    class Meta:
        model = Label
        fields = ["value", "hotkey", "description", "colour", "order"]

    def get_colour(self, label: Label) -> str:
        return label_colour(label.colour, label.order)


class LabelInputSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=100)
    hotkey = serializers.CharField(max_length=1, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    colour = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=7,
        help_text="#rrggbb; left out or blank: a palette colour by the label's place.",
    )

    def validate_colour(self, value: str) -> str:
        problem = colour_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.lower()


class LabelUpdateInputSerializer(serializers.Serializer):
    # Checked by the service, so the page and the API refuse a bad colour in the same words.
    colour = serializers.CharField(
        allow_blank=True,
        trim_whitespace=True,
        help_text="#rrggbb (six hex digits; stored lower-case); blank: the palette colour of the label's place.",
    )


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
    span_snap_tokens = serializers.BooleanField(
        required=False, help_text="Span projects: selections snap to whole tokens (default true)."
    )

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
    span_snap_tokens = serializers.BooleanField(
        help_text="Span projects: selections snap to whole tokens (runs of non-whitespace); false for "
        "character-level work."
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


class UserCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, write_only=True)
    # No default here: an empty default is not a valid `format: email` value in the schema.
    email = serializers.EmailField(required=False, allow_blank=True)


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]
