"""Classification exports: the canonical JSONL rows with a ``label`` (a class name, or a sorted list of them),
CSV, Parquet, the Hugging Face zip and Label Studio, all written by ``datasets``' streamers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from annotation.models import Project
from core.errors import ValidationFailed
from datasets.archive import stream_zip
from datasets.exporters import (
    stream_csv,
    stream_jsonl,
    stream_labelstudio,
    stream_labelstudio_config,
    stream_parquet,
)
from datasets.labelschema import ProjectLabel, class_names, label_schema_build
from datasets.models import DatasetVersion

LABEL_DESCRIPTION = (
    "a class name (multi-label: a list of them); its class id is its index in label_schema.labels"
)


def stream(*, fmt: str, version: DatasetVersion, split: str | None, base_url: str = "") -> Iterator[bytes]:
    """The export's bytes as a stream (the zip always holds every split)."""
    if fmt == "zip":
        return stream_zip(version=version)
    if fmt == "labelstudio":
        return stream_labelstudio(version=version, split=split, base_url=base_url)
    if fmt == "labelstudio-config":
        return stream_labelstudio_config(version=version)
    writers = {"jsonl": stream_jsonl, "csv": stream_csv, "parquet": stream_parquet}
    if fmt not in writers:
        # Another kind's format (conll, coco, yolo) asked of a class version
        raise ValidationFailed(
            "Class versions export as jsonl, csv, parquet or zip, or as Label Studio tasks (labelstudio) and their "
            f'labelling config (labelstudio-config), not "{fmt}".',
            field="format",
        )
    return writers[fmt](version=version, split=split)


def _multi_label(version: DatasetVersion) -> bool:
    return version.label_schema.get("multi_label", version.project.multi_label)


def label_schema(
    *, project: Project, project_labels: Sequence[ProjectLabel], parent: dict | None, seen: list[str]
) -> dict:
    return label_schema_build(
        project_labels=project_labels, multi_label=project.multi_label, parent=parent, seen=seen
    )


def label_description(*, version: DatasetVersion) -> str:
    return LABEL_DESCRIPTION


def card_label_feature(*, version: DatasetVersion) -> str:
    return "list:label" if _multi_label(version) else "label"


def labelstudio_control(*, version: DatasetVersion, name: str, to_name: str) -> str:
    """The Label Studio config's ``<Choices>``: the version's classes in id order."""
    choices = "\n".join(
        f"    <Choice value={quoteattr(value)}/>" for value in class_names(version.label_schema)
    )
    return (
        f"  <Choices name={quoteattr(name)} toName={quoteattr(to_name)} "
        f'choice="{"multiple" if _multi_label(version) else "single"}" showInline="true">\n{choices}\n  </Choices>\n'
    )


def labelstudio_result(
    value: object, *, from_name: str, to_name: str, item: Mapping[str, Any] | None = None
) -> list[dict]:
    """A class name or a list of them as a Label Studio ``choices`` result (the item is not needed)."""
    values = value if isinstance(value, list) else [value]
    return [
        {
            "from_name": from_name,
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": [str(v) for v in values if v is not None]},
        }
    ]


def parquet_label_type(*, version: DatasetVersion):
    import pyarrow as pa  # lazy: only Parquet needs it (see datasets.exporters.parquet_schema)

    multi_label = _multi_label(version)

    # Single-label: a dictionary column holding every class in id order, even those without rows, so pandas
    # reads a Categorical whose categories (and codes) are the version's classes.
    return pa.list_(pa.string()) if multi_label else pa.dictionary(pa.int32(), pa.string())
