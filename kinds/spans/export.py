"""The spans kind's export part (``kinds.registry.ExportPart``): JSONL with ``spans``, CoNLL BIO and the Hugging
Face zip, written by ``kinds.spans.exports``; Label Studio tasks with ``labels`` regions and their labelling
config, written by ``datasets.labelstudio``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from annotation.models import Project
from core.errors import ValidationFailed
from datasets.exporters import stream_labelstudio, stream_labelstudio_config
from datasets.labelschema import ProjectLabel, class_names, label_schema_build
from datasets.models import DatasetVersion
from kinds.spans import diff as spans_diff
from kinds.spans.exports import plain_spans, stream_conll, stream_jsonl, stream_zip
from kinds.spans.importformats import utf16_offset

LABEL_DESCRIPTION = (
    "the item's spans: a list of {start, end, label} (character offsets, end exclusive), a consensus span also "
    "with its confidence; labels are names of label_schema.labels"
)


def stream(*, fmt: str, version: DatasetVersion, split: str | None, base_url: str = "") -> Iterator[bytes]:
    """Raises ValidationFailed (field ``format``) for a format span versions do not have."""
    if fmt == "zip":
        return stream_zip(version=version)
    if fmt == "labelstudio":
        return stream_labelstudio(version=version, split=split, base_url=base_url)
    if fmt == "labelstudio-config":
        return stream_labelstudio_config(version=version)
    writers = {"jsonl": stream_jsonl, "conll": stream_conll}
    if fmt not in writers:
        raise ValidationFailed(
            f"Span versions export as jsonl, conll or zip, or as Label Studio tasks (labelstudio) and their "
            f'labelling config (labelstudio-config), not "{fmt}".',
            field="format",
        )
    return writers[fmt](version=version, split=split)


def labelstudio_control(*, version: DatasetVersion, name: str, to_name: str) -> str:
    """The Label Studio config's ``<Labels>``: the version's labels in id order."""
    labels = "\n".join(
        f"    <Label value={quoteattr(value)}/>" for value in class_names(version.label_schema)
    )
    return f"  <Labels name={quoteattr(name)} toName={quoteattr(to_name)}>\n{labels}\n  </Labels>\n"


def labelstudio_result(
    value: object, *, from_name: str, to_name: str, item: Mapping[str, Any] | None = None
) -> list[dict]:
    """A span list as Label Studio ``labels`` regions quoting the item's text; offsets in Label Studio's UTF-16
    positions (``kinds.spans.importformats``), equal to character offsets in most texts."""
    text = str((item or {}).get("text") or "")
    return [
        {
            "id": f"span-{number}",
            "from_name": from_name,
            "to_name": to_name,
            "type": "labels",
            "origin": "manual",
            "value": {
                "start": utf16_offset(text, span["start"]),
                "end": utf16_offset(text, span["end"]),
                "text": text[span["start"] : span["end"]],
                "labels": [span["label"]],
            },
        }
        for number, span in enumerate(plain_spans(value), start=1)
    ]


def label_schema(
    *, project: Project, project_labels: Sequence[ProjectLabel], parent: dict | None, seen: list[str]
) -> dict:
    return label_schema_build(project_labels=project_labels, multi_label=False, parent=parent, seen=seen)


def label_description(*, version: DatasetVersion) -> str:
    return LABEL_DESCRIPTION


def card_label_feature(*, version: DatasetVersion) -> str:
    return "string"


#: the version diff of an item's spans (``datasets.diffs``)
part_diff = spans_diff
