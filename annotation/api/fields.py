"""Serializer fields for label values, whose OpenAPI type a plain ``JSONField`` cannot state (the generic
documented fields are in ``core.api.fields``)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

LABEL_VALUE_SCHEMA = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "A label value, or the list of values in a multi-label project.",
}
PROBABILITIES_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "number", "format": "double", "nullable": True},
    "description": "label value → probability",
}


@extend_schema_field(LABEL_VALUE_SCHEMA)
class LabelValueField(serializers.JSONField):
    """A string, or a list of strings in a multi-label project."""


@extend_schema_field(PROBABILITIES_SCHEMA)
class ProbabilitiesField(serializers.JSONField):
    """``{label value: probability}``."""
