"""The label mapping that schema changes (merges, renames) define, and JSON lookups on stored labels."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Q

from annotation.models import Project
from annotation.selectors import label_schema_for


def compose_mappings(mappings: list[dict[str, str]]) -> dict[str, str]:
    """Fold schema-change mappings (oldest first) into one old value → current value map (chains resolved)."""
    resolved: dict[str, str] = {}
    for mapping in mappings:
        for source, target in mapping.items():
            for key, value in resolved.items():
                if value == source:
                    resolved[key] = target
            resolved[source] = target
    return {source: target for source, target in resolved.items() if source != target}


def label_mapping_for(*, project: Project | int) -> dict[str, str]:
    """Old label value → current value, from every merge and rename of the project (one query): the mapping of
    ``annotation.selectors.label_schema_for``, which every app's vote counts use."""
    return label_schema_for(project=project).mapping


def map_label(value, mapping: dict[str, str]):
    """A label JSON value (a string, a list for multi-label, or None) with the mapping applied."""
    if not mapping or value is None:
        return value
    if isinstance(value, list):
        return sorted({mapping.get(v, v) for v in value})
    return mapping.get(value, value) if isinstance(value, str) else value


# --- JSON helpers ------------------------------------------------------------------------------------------


def json_list_has(field_name: str, value: str) -> Q:
    """``field`` (a JSON list) contains ``value``; SQLite lacks JSON containment, so match the encoded text."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [value]})
    return Q(**{f"{field_name}__icontains": json.dumps(value)})


def json_label_is(field_name: str, value: str, *, multi_label: bool) -> Q:
    return json_list_has(field_name, value) if multi_label else Q(**{field_name: value})
