"""The spans kind's export part (``kinds.registry.ExportPart``): JSONL with ``spans``, CoNLL BIO and the Hugging
Face zip, written by ``kinds.spans.exports``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from annotation.models import Project
from core.errors import ValidationFailed
from datasets.labelschema import ProjectLabel, label_schema_build
from datasets.models import DatasetVersion
from kinds.spans import diff as spans_diff
from kinds.spans.exports import stream_conll, stream_jsonl, stream_zip

LABEL_DESCRIPTION = (
    "the item's spans: a list of {start, end, label} (character offsets, end exclusive), a consensus span also "
    "with its confidence; labels are names of label_schema.labels"
)


def stream(*, fmt: str, version: DatasetVersion, split: str | None, base_url: str = "") -> Iterator[bytes]:
    """Raises ValidationFailed (field ``format``) for a format span versions do not have."""
    if fmt == "zip":
        return stream_zip(version=version)
    writers = {"jsonl": stream_jsonl, "conll": stream_conll}
    if fmt not in writers:
        raise ValidationFailed(f'Span versions export as jsonl, conll or zip, not "{fmt}".', field="format")
    return writers[fmt](version=version, split=split)


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
