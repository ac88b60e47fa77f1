"""A version's label schema: the class list every export describes itself with (manifest, Parquet, dataset card).

A class id is a label's position in the list, and the list of a version is its parent's list with the labels
new since appended (in the project's label order), so an id never changes meaning from one version to the next:
a label with no rows in a version keeps its place, a retired or merged label keeps its place (marked inactive,
with the label it was merged into), and reordering labels in the project renumbers nothing already frozen. The
first version takes the project's label order. Values found on entries that are no project label (a label
renamed away before labels were tracked) come last, sorted.

Pure: plain values in, plain values out, so the freeze and the migration that backfilled old versions share it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectLabel:
    value: str
    description: str = ""
    is_active: bool = True
    replaced_by: str = ""


def label_schema_build(
    *,
    project_labels: Sequence[ProjectLabel],
    multi_label: bool,
    parent: dict | None,
    seen: Iterable[str],
) -> dict:
    """``{"multi_label", "labels": [{"id", "value", "description", "active", "replaced_by"}, ...]}``.

    ``project_labels`` in the project's order (order, id); ``parent`` is the parent version's schema or None;
    ``seen`` the label values the version's entries hold.
    """
    current = {label.value: label for label in project_labels}
    names = list(class_names(parent)) if parent else []
    known = set(names)
    names += [label.value for label in project_labels if label.value not in known]
    known = set(names)
    names += sorted(set(seen) - known)
    labels = []
    for index, value in enumerate(names):
        label = current.get(value)
        labels.append(
            {
                "id": index,
                "value": value,
                "description": label.description if label else "",
                # Not a project label any more (or never was): kept for its id, never given to new rows.
                "active": bool(label and label.is_active),
                "replaced_by": (label.replaced_by or None) if label else None,
            }
        )
    return {"multi_label": bool(multi_label), "labels": labels}


def class_names(schema: dict) -> list[str]:
    """The class names in id order."""
    return [label["value"] for label in schema.get("labels", [])]


def _yaml_string(value: str) -> str:
    # A JSON string with ASCII escapes is a valid YAML double-quoted scalar, whatever the label holds.
    return json.dumps(value, ensure_ascii=True)


def hf_features_yaml(*, schema: dict, columns: Sequence[tuple[str, str]], indent: str = "  ") -> list[str]:
    """``dataset_info.features`` lines of a dataset card (Hugging Face's YAML form).

    ``columns`` are ``(name, kind)`` in file order; kind is a Value dtype (``string``, ``int64``, ``float64``),
    ``list:string``, ``image``, ``audio``, ``label`` (a ClassLabel of the schema's classes) or ``list:label`` (a
    sequence of it).
    """
    lines: list[str] = []
    for name, kind in columns:
        lines.append(f"{indent}- name: {name}")
        if kind in ("label", "list:label"):
            lines.append(f"{indent}  {'sequence' if kind == 'list:label' else 'dtype'}:")
            lines += [f"{indent}    class_label:", f"{indent}      names:"]
            lines += [
                f"{indent}        '{index}': {_yaml_string(value)}"
                for index, value in enumerate(class_names(schema))
            ]
        elif kind.startswith("list:"):
            lines.append(f"{indent}  sequence: {kind.removeprefix('list:')}")
        else:
            lines.append(f"{indent}  dtype: {kind}")
    return lines
