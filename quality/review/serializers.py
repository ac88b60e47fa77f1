"""Serializers of the review REST API (names prefixed by domain: unique across the project)."""

from rest_framework import serializers

from annotation.api.fields import LabelValueField
from annotation.api.item_serializers import ITEM_LIST_FIELDS, ItemListSerializer, image_size
from annotation.api.labelling_serializers import answer_output_serializers
from core.api.fields import StringListField, json_field
from quality.models import LabelExample, LabelSchemaChange, ReviewAction, ReviewDecision
from quality.review import selectors
from quality.review.services.decisions import MAX_BULK


class ReviewDecisionInputSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    action = serializers.ChoiceField(choices=ReviewAction.choices)
    label = LabelValueField(
        required=False,
        allow_null=True,
        help_text="accept only: a label value (a list of values in multi-label projects); default: the consensus.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Required for discard (e.g. unusable input, out of scope, duplicate) and escalate.",
    )


def review_answer_input(*, value_schema, data: object) -> dict | None:
    """The project's kind's answer fields a review body carries (a reviewer's own answer, e.g. the corrected parts
    of a structured kind), validated by the kind's input serializer; None when it carries none. A kind whose
    answer is given in ``label`` (classes) is decided by the review's own ``label``; for any other kind a class
    name in ``label`` is refused with the fields to send instead. Raises serializers.ValidationError."""
    kind_fields = value_schema.input_serializer._declared_fields
    if not isinstance(data, dict) or "label" in kind_fields:
        return None
    own = ReviewDecisionInputSerializer._declared_fields
    fields = [name for name in kind_fields if name not in own]
    if isinstance(data.get("label"), str) and fields:
        raise serializers.ValidationError(
            {
                "label": [
                    f"This project's answers are not one class: send the final answer as "
                    f"{' or '.join(fields)} (the same form an annotation takes), not label."
                ]
            }
        )
    sent = {name: data[name] for name in fields if name in data}
    if not sent:
        return None
    answer = value_schema.input_serializer(data=sent)
    answer.is_valid(raise_exception=True)
    return {name: answer.validated_data[name] for name in sent if name in answer.validated_data}


class ReviewDecisionOutputSerializer(serializers.ModelSerializer):
    reviewer_username = serializers.CharField(source="reviewer.username", read_only=True)
    item_status = serializers.CharField(source="item.status", read_only=True)
    final_label = LabelValueField(source="item.final_label", read_only=True, allow_null=True)
    label = LabelValueField(allow_null=True, read_only=True)
    superseded_annotations = json_field(
        {"type": "array", "items": {"type": "integer"}},
        read_only=True,
        help_text="Annotations this decision took out of the count (relabel).",
    )

    class Meta:
        model = ReviewDecision
        fields = [
            "id",
            "item",
            "action",
            "label",
            "reason",
            "reviewer",
            "reviewer_username",
            "created_at",
            "supersedes",
            "is_current",
            "guideline_version",
            "previous_status",
            "superseded_annotations",
            "bulk_id",
            "item_status",
            "final_label",
        ]


class ReviewQueueFilterSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=list(selectors.REVIEW_REASONS), required=False)
    label = serializers.CharField(required=False, max_length=100)
    tag = serializers.CharField(required=False, max_length=100)


class ReviewBulkInputSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=MAX_BULK)
    filter = ReviewQueueFilterSerializer(
        required=False, help_text="Select the queue items matching these filters."
    )
    action = serializers.ChoiceField(choices=ReviewAction.choices)
    label = LabelValueField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    confirm = serializers.BooleanField(
        default=False, help_text="false: only report what would be decided; true: store the decisions."
    )

    def validate(self, attrs: dict) -> dict:
        if ("items" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError(
                {"items": ["Send either items (ids) or filter, not both or neither."]}
            )
        return attrs


class ReviewBulkRefusalSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    external_id = serializers.CharField()
    reason = serializers.CharField()


class ReviewBulkOutputSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField()
    action = serializers.CharField()
    count = serializers.IntegerField()
    items = serializers.ListField(child=serializers.IntegerField())
    decisions = serializers.ListField(child=serializers.IntegerField(), required=False)
    refused = ReviewBulkRefusalSerializer(
        many=True,
        help_text="Items the action leaves undecided (preview: would leave), with the reason: a relabel no "
        "annotator is left to take.",
    )


class ReviewVoteSerializer(serializers.Serializer):
    label = serializers.CharField()
    votes = serializers.IntegerField()


class ReviewQueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    text = serializers.CharField()
    media_url = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    severity = serializers.FloatField(source="issue_severity")
    reasons = serializers.ListField(child=serializers.CharField())
    consensus_label = LabelValueField(allow_null=True)
    consensus_confidence = serializers.FloatField(allow_null=True)
    consensus_suggestion = LabelValueField(allow_null=True)
    label_quality = serializers.FloatField(allow_null=True)
    predicted_label = LabelValueField(allow_null=True)
    votes = ReviewVoteSerializer(many=True)

    def to_representation(self, item):
        return {
            "id": item.pk,
            "external_id": item.external_id,
            "text": item.text[:500],
            "media_url": f"/media/items/{item.pk}/" if item.file else None,
            "status": item.status,
            "tags": item.tags,
            "severity": item.issue_severity,
            "reasons": selectors.item_reasons(item),
            "consensus_label": item.consensus_label,
            "consensus_confidence": item.consensus_confidence,
            "consensus_suggestion": item.consensus_suggestion,
            "label_quality": item.label_quality,
            "predicted_label": item.predicted_label,
            "votes": [
                {"label": label, "votes": n}
                for label, n in selectors.vote_summary(
                    [a.labels for a in getattr(item, "live_votes", [])],
                    project=self.context["project"],
                    mapping=self.context["label_mapping"],
                )
            ],
        }


# The bases come from the kinds registry at import time, which a type checker cannot follow.
class ReviewAnnotationSerializer(*answer_output_serializers()):  # type: ignore[misc]
    """One annotation of the item: ``labels`` the label values its answer names, and the project's kind's answer
    fields (``value_schema`` in the context) beside it, so a box annotation also reads as ``boxes``."""

    id = serializers.IntegerField()
    annotator = serializers.IntegerField(source="annotator_id")
    username = serializers.CharField(source="annotator.username")
    labels = StringListField()
    unsure = serializers.BooleanField()
    unusable = serializers.BooleanField()
    comment = serializers.CharField()
    lead_time_ms = serializers.IntegerField(allow_null=True)
    guideline_version = serializers.IntegerField()
    is_live = serializers.BooleanField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    created_at = serializers.DateTimeField()

    @property
    def _readable_fields(self):
        answer = {name for output in answer_output_serializers() for name in output._declared_fields} - {
            "labels"
        }
        return (field for field in super()._readable_fields if field.field_name not in answer)

    def to_representation(self, annotation) -> dict:
        body = super().to_representation(annotation)
        value_schema = self.context.get("value_schema")
        if value_schema is not None:
            # ``labels`` stays a list of label values whatever the kind (boxes: the labels they name).
            body["labels"] = value_schema.label_classes(annotation.labels)
            body.update(
                (name, value)
                for name, value in value_schema.output(annotation.labels).items()
                if name not in body
            )
        return body


class ReviewItemQualitySerializer(serializers.Serializer):
    report = serializers.IntegerField(source="report_id")
    consensus_label = LabelValueField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    is_tie = serializers.BooleanField()
    label_quality = serializers.FloatField(allow_null=True)
    is_issue = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    severity = serializers.FloatField()
    model_label = LabelValueField(allow_null=True)


class ReviewHistoryEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["annotation", "decision"])
    at = serializers.DateTimeField()
    id = serializers.IntegerField()
    by = serializers.CharField()
    summary = serializers.CharField()


class ReviewNearDuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    text = serializers.CharField()
    status = serializers.CharField()
    consensus_label = LabelValueField(allow_null=True)
    final_label = LabelValueField(allow_null=True)
    media_url = serializers.CharField(allow_null=True)


# The item list's fields without the creation time, with the content type.
REVIEW_ITEM_FIELDS = (*(name for name in ITEM_LIST_FIELDS if name != "created_at"), "content_type")


class ReviewItemFieldsSerializer(ItemListSerializer):
    """Documents what ``item_fields`` returns: the item list's fields with the content type, without created_at."""

    content_type = serializers.CharField()

    class Meta(ItemListSerializer.Meta):
        fields = list(REVIEW_ITEM_FIELDS)


class ReviewConsensusSpanSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    confidence = serializers.FloatField(
        allow_null=True,
        help_text="Mean posterior of the span's label over its tokens in the last quality run",
    )


class ReviewItemDetailSerializer(serializers.Serializer):
    item = ReviewItemFieldsSerializer()
    consensus_spans = ReviewConsensusSpanSerializer(
        many=True, required=False, help_text="Span projects: the consensus spans with their confidences"
    )
    reasons = serializers.ListField(child=serializers.CharField())
    annotations = ReviewAnnotationSerializer(many=True)
    decisions = ReviewDecisionOutputSerializer(many=True)
    quality = ReviewItemQualitySerializer(allow_null=True)
    near_duplicates = ReviewNearDuplicateSerializer(many=True)
    examples_of = serializers.ListField(child=serializers.CharField())
    history = ReviewHistoryEventSerializer(many=True)


def history_rows(history: list[dict], *, value_schema) -> list[dict]:
    """``value_schema``: the project's kind's; its ``describe`` (when it has one) or the classes it names
    (``label_classes``) say what an answer held."""
    describe = getattr(value_schema, "describe", None) or (
        lambda value: ", ".join(str(name) for name in value_schema.label_classes(value))
    )
    rows = []
    for event in history:
        if event["kind"] == "annotation":
            a = event["annotation"]
            flags = [name for name in ("unsure", "unusable") if getattr(a, name)]
            summary = f"labelled {describe(a.labels) or '(none)'} under guideline v{a.guideline_version}"
            if flags:
                summary += f" ({', '.join(flags)})"
            if not a.is_live:
                summary += (
                    "; no longer counts (relabelled)" if event["relabelled_by"] else "; superseded by an edit"
                )
            rows.append(
                {
                    "kind": "annotation",
                    "at": a.created_at,
                    "id": a.pk,
                    "by": a.annotator.username,
                    "summary": summary,
                }
            )
        else:
            d = event["decision"]
            summary = (
                d.action
                + (f" as {d.label}" if d.label is not None else "")
                + (f": {d.reason}" if d.reason else "")
            )
            rows.append(
                {
                    "kind": "decision",
                    "at": d.created_at,
                    "id": d.pk,
                    "by": d.reviewer.username,
                    "summary": summary,
                }
            )
    return rows


def item_fields(item) -> dict:
    computed = {"media_url", "width", "height"}
    out = {name: getattr(item, name) for name in REVIEW_ITEM_FIELDS if name not in computed}
    out["media_url"] = f"/media/items/{item.pk}/" if item.file else None
    out["width"], out["height"] = image_size(item.profile)
    return out


class LabelChangeOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, read_only=True)
    quality_job = serializers.UUIDField(source="quality_job_id", allow_null=True, read_only=True)
    from_labels = StringListField(read_only=True)
    mapping = json_field(
        {"type": "object", "additionalProperties": {"type": "string"}},
        read_only=True,
        help_text="old label value → the label its votes now count for",
    )

    class Meta:
        model = LabelSchemaChange
        fields = [
            "id",
            "kind",
            "from_labels",
            "to_label",
            "mapping",
            "note",
            "author",
            "created_at",
            "quality_job",
        ]


class LabelChangeResultSerializer(serializers.Serializer):
    change = LabelChangeOutputSerializer()
    message = serializers.CharField()


class LabelAddInputSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=100)
    hotkey = serializers.CharField(max_length=1, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    colour = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=7,
        help_text="#rrggbb; blank: the palette colour of the label's place.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class LabelRenameInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    to = serializers.CharField(max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class LabelMergeInputSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1, max_length=200)
    into = serializers.CharField(max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class LabelExampleInputSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    label = serializers.CharField(max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class LabelExampleOutputSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="label.value", read_only=True)

    class Meta:
        model = LabelExample
        fields = ["id", "label", "item", "note", "added_by", "created_at"]


class ReviewFeedbackRowSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    external_id = serializers.CharField()
    text = serializers.CharField()
    media_url = serializers.CharField(allow_null=True)
    yours = LabelValueField()
    final = LabelValueField()
    reason = serializers.CharField()
    annotated_at = serializers.DateTimeField()


class ReviewFeedbackSerializer(serializers.Serializer):
    report = serializers.IntegerField(allow_null=True)
    n_annotations = serializers.IntegerField(allow_null=True)
    agreement_with_consensus = serializers.FloatField(allow_null=True)
    gold_accuracy = serializers.FloatField(allow_null=True)
    n_gold = serializers.IntegerField(allow_null=True)
    n_reviewed = serializers.IntegerField()
    n_disagreed = serializers.IntegerField()
    agreement_after_review = serializers.FloatField(allow_null=True)
    disagreements = ReviewFeedbackRowSerializer(many=True)
