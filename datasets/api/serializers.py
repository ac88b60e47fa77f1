from rest_framework import serializers

from annotation.api.fields import LabelValueField
from core.api.fields import COUNTS_SCHEMA, json_field, map_of
from datasets.exporters import FORMATS
from datasets.models import DatasetEntry, DatasetVersion
from datasets.splits import SPLIT_NAMES


class DatasetFreezeInputSerializer(serializers.Serializer):
    """Types only; ranges and sums are checked by ``datasets.policy`` (one set of rules for every caller)."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    min_confidence = serializers.FloatField(required=False, allow_null=True)
    accepted_only = serializers.BooleanField(required=False)
    exclude_label_issues = serializers.BooleanField(required=False)
    include_needs_review = serializers.BooleanField(required=False)
    exclude_gold = serializers.BooleanField(required=False)
    splits = serializers.DictField(child=serializers.FloatField(), required=False)
    seed = serializers.IntegerField(required=False)


class DatasetPreviewQuerySerializer(serializers.Serializer):
    min_confidence = serializers.FloatField(required=False, allow_null=True)
    accepted_only = serializers.BooleanField(required=False)
    exclude_label_issues = serializers.BooleanField(required=False, default=True)
    include_needs_review = serializers.BooleanField(required=False)
    exclude_gold = serializers.BooleanField(required=False)


class DatasetPreviewOutputSerializer(serializers.Serializer):
    included = serializers.IntegerField()
    excluded = serializers.DictField(child=serializers.IntegerField())
    total = serializers.IntegerField()


class DatasetVersionCountsSerializer(serializers.Serializer):
    """Documents ``DatasetVersion.counts``."""

    entries = serializers.IntegerField()
    items_total = serializers.IntegerField()
    excluded = serializers.DictField(child=serializers.IntegerField(), help_text="reason → items left out")
    kept_split = serializers.IntegerField(help_text="Entries that kept their split from the parent version.")
    newly_split = serializers.IntegerField()


class DatasetVersionMetricsSerializer(serializers.Serializer):
    """Documents ``DatasetVersion.metrics``: the quality figures when the version was frozen."""

    krippendorff_alpha = serializers.FloatField(allow_null=True)
    fleiss_kappa = serializers.FloatField(allow_null=True)
    hlp = serializers.FloatField(allow_null=True)
    model_accuracy = serializers.FloatField(allow_null=True)
    quality_report_id = serializers.IntegerField(allow_null=True)
    model_version_id = serializers.IntegerField(allow_null=True)


class DatasetVersionPolicySerializer(serializers.Serializer):
    """Documents ``DatasetVersion.policy`` (``datasets.policy.FreezePolicy``)."""

    min_confidence = serializers.FloatField()
    accepted_only = serializers.BooleanField()
    exclude_label_issues = serializers.BooleanField()
    include_needs_review = serializers.BooleanField()
    exclude_gold = serializers.BooleanField()
    splits = serializers.DictField(child=serializers.FloatField(), help_text="split → share")
    seed = serializers.IntegerField()


class DatasetLabelSchemaLabelSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Class id: stable across this project's versions.")
    value = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    active = serializers.BooleanField(help_text="False for a label retired or merged into another.")
    replaced_by = serializers.CharField(
        allow_null=True, help_text="The label a merged label's votes now count for."
    )


class DatasetLabelSchemaSerializer(serializers.Serializer):
    """Documents ``DatasetVersion.label_schema``: the classes as the exports declare them."""

    multi_label = serializers.BooleanField()
    labels = DatasetLabelSchemaLabelSerializer(many=True)


class DatasetVersionOutputSerializer(serializers.ModelSerializer):
    counts = json_field(DatasetVersionCountsSerializer())
    split_counts = json_field(map_of(COUNTS_SCHEMA["additionalProperties"], "split → entries"))
    label_distribution = json_field(
        map_of(COUNTS_SCHEMA["additionalProperties"], "label value → entries, in project label order")
    )
    split_label_counts = json_field(map_of(COUNTS_SCHEMA, "split → label value → entries"))
    metrics = json_field(DatasetVersionMetricsSerializer())
    policy = json_field(DatasetVersionPolicySerializer())
    label_schema = json_field(DatasetLabelSchemaSerializer())
    version = serializers.IntegerField(source="number")
    parent_version = serializers.IntegerField(source="parent.number", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    job = serializers.UUIDField(source="job_id", allow_null=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "project",
            "version",
            "name",
            "created_at",
            "created_by",
            "n_entries",
            "counts",
            "split_counts",
            "label_distribution",
            "split_label_counts",
            "checksum",
            "metrics",
            "guideline_version",
            "parent",
            "parent_version",
            "policy",
            "job",
            "label_schema",
        ]


class DatasetExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=list(FORMATS),
        default="jsonl",
        error_messages={"invalid_choice": f'Unknown format "{{input}}"; use one of {", ".join(FORMATS)}.'},
    )
    split = serializers.ChoiceField(
        choices=list(SPLIT_NAMES),
        required=False,
        allow_blank=True,
        error_messages={
            "invalid_choice": f'Unknown split "{{input}}"; use one of {", ".join(SPLIT_NAMES)} or leave it out for all.'
        },
    )


class DatasetDiffQuerySerializer(serializers.Serializer):
    against = serializers.IntegerField(
        error_messages={
            "required": "Give ?against=<version id> to compare with.",
            "invalid": "against must be a version id.",
        }
    )
    limit = serializers.IntegerField(required=False, default=1000, min_value=0, max_value=100_000)


class DatasetDiffItemSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    external_id = serializers.CharField()
    # The metaclass moves declared fields off the class, so this does not shadow Field.label at runtime.
    label = LabelValueField()  # type: ignore[assignment]
    split = serializers.CharField()


class DatasetDiffChangeSerializer(serializers.Serializer):
    """``{item_id, external_id, from, to}`` (``from`` is a Python keyword, hence ``get_fields``)."""

    def get_fields(self):
        return {
            "item_id": serializers.IntegerField(),
            "external_id": serializers.CharField(),
            "from": LabelValueField(help_text="The label, or the split for a split move."),
            "to": LabelValueField(),
            "changes": serializers.ListField(
                child=serializers.CharField(),
                required=False,
                help_text="Span and box projects' relabelled items: what changed, part by part, in words.",
            ),
        }


class DatasetDiffPartsSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="What the parts are: spans, boxes.")
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Parts by change over every item of either version (spans: added, removed, "
        "boundaries_changed, relabelled, unchanged; boxes: added, removed, moved, relabelled, unchanged).",
    )
    names = serializers.DictField(child=serializers.CharField(), help_text="Each count's key in words.")


class DatasetDiffCountsSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    relabelled = serializers.IntegerField()
    split_moves = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class DatasetDiffVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()


class DatasetDiffOutputSerializer(serializers.Serializer):
    base = DatasetDiffVersionRefSerializer()
    target = DatasetDiffVersionRefSerializer()
    counts = DatasetDiffCountsSerializer()
    added = DatasetDiffItemSerializer(many=True)
    removed = DatasetDiffItemSerializer(many=True)
    relabelled = DatasetDiffChangeSerializer(many=True)
    split_moves = DatasetDiffChangeSerializer(many=True)
    parts = DatasetDiffPartsSerializer(
        required=False, help_text="Span and box projects only: the diff part by part (spans, boxes)."
    )
    truncated = serializers.BooleanField()
    limit = serializers.IntegerField()


class DatasetVerifyOutputSerializer(serializers.Serializer):
    checksum = serializers.CharField()
    computed = serializers.CharField()
    ok = serializers.BooleanField()
    n_entries = serializers.IntegerField()


class DatasetItemVersionSerializer(serializers.ModelSerializer):
    """One version an item is in, with the lineage of its label there."""

    version_id = serializers.IntegerField(source="version.id")
    version = serializers.IntegerField(source="version.number")
    version_name = serializers.CharField(source="version.name")
    created_at = serializers.DateTimeField(source="version.created_at")
    label = LabelValueField()  # type: ignore[assignment]  # as above: not an attribute at runtime
    annotation_ids = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = DatasetEntry
        fields = [
            "version_id",
            "version",
            "version_name",
            "created_at",
            "external_id",
            "label",
            "label_source",
            "split",
            "confidence",
            "annotation_ids",
            "decision_id",
            "guideline_version",
        ]
