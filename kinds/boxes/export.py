"""The boxes kind's export part: JSONL, COCO, YOLO and the Hugging Face zip (``kinds.boxes.exports``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from annotation.models import Project
from core.errors import ValidationFailed
from datasets.labelschema import ProjectLabel, label_schema_build
from datasets.models import DatasetVersion
from kinds.boxes import diff as boxes_diff
from kinds.boxes import exports

LABEL_DESCRIPTION = (
    "boxes: a list of {x, y, w, h, label, confidence} in image pixels from the top-left corner; label is a class "
    "of label_schema.labels, confidence the quality run's (absent on boxes a reviewer decided)"
)


def stream(*, fmt: str, version: DatasetVersion, split: str | None, base_url: str = "") -> Iterator[bytes]:
    """The export's bytes as a stream (the zips always hold every split). Raises ValidationFailed (field
    ``format``) for a format box versions do not have."""
    if fmt == "coco":
        return exports.stream_coco(version=version, split=split)
    if fmt == "yolo":
        return exports.stream_yolo(version=version)
    if fmt == "zip":
        return exports.stream_zip(version=version)
    if fmt == "jsonl":
        return exports.stream_jsonl(version=version, split=split)
    raise ValidationFailed(f'Box versions export as jsonl, coco, yolo or zip, not "{fmt}".', field="format")


def label_schema(
    *, project: Project, project_labels: Sequence[ProjectLabel], parent: dict | None, seen: list[str]
) -> dict:
    return label_schema_build(project_labels=project_labels, multi_label=False, parent=parent, seen=seen)


def label_description(*, version: Any) -> str:
    return LABEL_DESCRIPTION


def card_label_feature(*, version: Any) -> str:
    return "label"


#: the freeze stores each row as this makes it (``datasets.services``): rows carry ``boxes``, not ``label``
entry_row = exports.entry_row

#: the version diff of an image's boxes (``datasets.diffs``)
part_diff = boxes_diff
