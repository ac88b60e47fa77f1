"""Serializer fields whose OpenAPI type a plain ``JSONField``/``DictField`` cannot state.

The values are rendered exactly as ``JSONField`` renders them; only the schema changes, so a generated client gets
a type for every property (tests/annotation/test_schema.py walks the schema for untyped ones)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Keys chosen by users (item metadata, job parameters) or by a metric module: any JSON value may appear.
FREE_FORM_OBJECT_SCHEMA = {"type": "object", "additionalProperties": True}
STRING_LIST_SCHEMA = {"type": "array", "items": {"type": "string"}}
COUNTS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "integer"}}
NULLABLE_NUMBER = {"type": "number", "format": "double", "nullable": True}


@extend_schema_field(FREE_FORM_OBJECT_SCHEMA)
class FreeFormObjectField(serializers.JSONField):
    """A JSON object whose keys are not fixed by Labelgate."""


@extend_schema_field(STRING_LIST_SCHEMA)
class StringListField(serializers.JSONField):
    """A stored list of strings, rendered as stored (no per-element conversion on the hot paths)."""


@extend_schema_field(COUNTS_SCHEMA)
class CountsField(serializers.JSONField):
    """``{name: count}``."""


def map_of(schema: dict, description: str = "") -> dict:
    """An object keyed by names (labels, tags, splits) whose values all have ``schema``."""
    out: dict = {"type": "object", "additionalProperties": schema}
    if description:
        out["description"] = description
    return out


def json_field(schema, **kwargs) -> serializers.JSONField:
    """A ``JSONField`` documented as ``schema`` (a schema dict, or a serializer describing stored rows): the value
    is rendered as stored, so a row written before a key existed still renders. A subclass per call: serializers
    deep-copy their fields by re-instantiating the class, which would drop an instance annotation."""
    field_class = type("DocumentedJSONField", (serializers.JSONField,), {})
    return extend_schema_field(schema)(field_class)(**kwargs)


@extend_schema_field(FREE_FORM_OBJECT_SCHEMA)
class FreeFormDictField(serializers.DictField):
    """An input object (validated as a dict) whose keys are not fixed by this field."""
