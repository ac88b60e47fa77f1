"""JSON lookups on stored labels for the review queue. The label mapping itself is annotation's
(``annotation.selectors.label_mapping_for``)."""

from __future__ import annotations

from django.db.models import Q

from annotation.selectors import json_list_has


def json_label_is(field_name: str, value: str, *, multi_label: bool) -> Q:
    return json_list_has(field_name, value) if multi_label else Q(**{field_name: value})
