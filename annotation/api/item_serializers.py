"""Serializers of items: the item list, what an annotator may see of one, and the bulk-create rows."""

from rest_framework import serializers

from annotation import blind
from annotation.api.fields import LabelValueField, ProbabilitiesField
from annotation.api.labelling_bodies import item_media_url
from annotation.models import Item
from core.api.fields import FreeFormDictField, FreeFormObjectField, StringListField


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
    "width",
    "height",
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
    width = serializers.SerializerMethodField(help_text="An image's width in pixels (null for other items).")
    height = serializers.SerializerMethodField(
        help_text="An image's height in pixels (null for other items)."
    )
    flags = StringListField()

    class Meta:
        model = Item
        fields = list(ITEM_LIST_FIELDS)

    def get_media_url(self, item: Item) -> str | None:
        return item_media_url(item)

    def get_width(self, item: Item) -> int | None:
        return image_size(item.profile)[0]

    def get_height(self, item: Item) -> int | None:
        return image_size(item.profile)[1]


def image_size(profile: dict | None) -> tuple[int | None, int | None]:
    """(width, height) of an image item in pixels as measured at import (``Item.profile``), (None, None) for text
    and audio items and images that could not be read."""
    if not isinstance(profile, dict) or profile.get("kind") != "image":
        return None, None
    return profile.get("width"), profile.get("height")
