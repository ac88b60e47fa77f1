"""The labelling endpoints' response bodies (next item, submit, my recent), built in this one place.

They answer every few seconds per annotator and are built by hand: the documented output serializers
(``NextOutputSerializer``, ``AnnotationOutputSerializer``, ``RecentOwnAnnotationOutputSerializer``) cost ~0.4 ms of
CPU per response, building their fields each time. The serializers stay for the schema, and
tests/annotation/test_labelling_bodies.py pins each body equal to its serializer's rendering. Datetimes go through
DRF's own field so the format stays the same.
"""

from rest_framework import serializers

from annotation.blind import ANNOTATOR_ITEM_FIELDS
from annotation.models import Annotation, Assignment, Item
from kinds.registry import ValueSchema

_DATETIME = serializers.DateTimeField()


def item_media_url(item: Item) -> str | None:
    """Where the item's media are streamed from (membership checked there), None for a text item."""
    return f"/media/items/{item.pk}/" if item.file else None


def blind_item_body(item: Item) -> dict:
    """What an annotator may see of an item (``annotation.blind``), as ``ItemAnnotatorSerializer`` renders it."""
    values = {
        "id": item.pk,
        "external_id": item.external_id,
        "text": item.text,
        "media_url": item_media_url(item),
        "content_type": item.content_type,
    }
    return {name: values[name] for name in ANNOTATOR_ITEM_FIELDS}


def next_body(assignment: Assignment, suggestion: dict | None) -> dict:
    """What ``NextOutputSerializer`` renders for ``{"assignment": ..., "item": ..., "suggestion": ...}``."""
    body: dict = {
        "assignment": {"id": assignment.pk, "expires_at": _DATETIME.to_representation(assignment.expires_at)},
        "item": blind_item_body(assignment.item),
    }
    if suggestion is not None:
        probs = suggestion["probs"]
        body["suggestion"] = {
            "label": suggestion["label"],
            "probs": None
            if probs is None
            else {str(key): None if value is None else float(value) for key, value in probs.items()},
            "warning": suggestion["warning"],
        }
    return body


def annotation_body(annotation: Annotation, value_schema: ValueSchema) -> dict:
    """What ``AnnotationOutputSerializer`` renders; ``value_schema`` is the project's kind's."""
    return {
        "id": annotation.pk,
        "item": annotation.item_id,
        "annotator": annotation.annotator_id,
        **value_schema.output(annotation.labels),
        "unsure": bool(annotation.unsure),
        "unusable": bool(annotation.unusable),
        "comment": annotation.comment,
        "lead_time_ms": annotation.lead_time_ms,
        "guideline_version": annotation.guideline_version,
        "client_id": None if annotation.client_id is None else str(annotation.client_id),
        "is_live": bool(annotation.is_live),
        "supersedes": annotation.supersedes_id,
        "created_at": _DATETIME.to_representation(annotation.created_at),
    }


def recent_body(annotation: Annotation, value_schema: ValueSchema) -> dict:
    """What ``RecentOwnAnnotationOutputSerializer`` renders; the item part is ``next``'s blind item and the
    answer fields are the project's kind's (``value_schema``)."""
    return {
        "item": blind_item_body(annotation.item),
        "annotation": annotation.pk,
        **value_schema.output(annotation.labels),
        "unsure": bool(annotation.unsure),
        "unusable": bool(annotation.unusable),
        "comment": annotation.comment,
        "annotated_at": _DATETIME.to_representation(annotation.created_at),
    }
