"""The boxes kind's export part: JSONL, COCO, YOLO and the Hugging Face zip (``kinds.boxes.exports``); Label Studio
tasks with ``rectanglelabels`` regions and their labelling config (``datasets.labelstudio``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from annotation.models import Project
from core.errors import ValidationFailed
from datasets.exporters import entry_lines, read_snapshot, stream_labelstudio_config
from datasets.labelschema import ProjectLabel, class_names, label_schema_build
from datasets.labelstudio import stream_labelstudio_tasks
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
    if fmt == "labelstudio":
        return _stream_labelstudio(version=version, split=split, base_url=base_url)
    if fmt == "labelstudio-config":
        return stream_labelstudio_config(version=version)
    raise ValidationFailed(
        f"Box versions export as jsonl, coco, yolo or zip, or as Label Studio tasks (labelstudio) and their "
        f'labelling config (labelstudio-config), not "{fmt}".',
        field="format",
    )


def _stream_labelstudio(*, version: DatasetVersion, split: str | None, base_url: str) -> Iterator[bytes]:
    """Label Studio tasks; the stored rows carry ``boxes`` (``entry_row``), read back as the row's label."""
    with read_snapshot():
        lines = (
            json.dumps({**row, "label": row.get("boxes", [])})
            for row in map(json.loads, entry_lines(version=version, split=split))
        )
        yield from stream_labelstudio_tasks(version=version, lines=lines, base_url=base_url)


def labelstudio_control(*, version: DatasetVersion, name: str, to_name: str) -> str:
    """The Label Studio config's ``<RectangleLabels>``: the version's labels in id order."""
    labels = "\n".join(
        f"    <Label value={quoteattr(value)}/>" for value in class_names(version.label_schema)
    )
    return f"  <RectangleLabels name={quoteattr(name)} toName={quoteattr(to_name)}>\n{labels}\n  </RectangleLabels>\n"


def labelstudio_result(
    value: object, *, from_name: str, to_name: str, item: Mapping[str, Any] | None = None
) -> list[dict]:
    """A box list as Label Studio ``rectanglelabels`` regions, in percent of the image's ``width`` and
    ``height`` (``item``); none without a known size (Label Studio cannot place them)."""
    width, height = (item or {}).get("width"), (item or {}).get("height")
    if not isinstance(value, list) or not width or not height:
        return []
    return [
        {
            "id": f"box-{number}",
            "from_name": from_name,
            "to_name": to_name,
            "type": "rectanglelabels",
            "origin": "manual",
            "original_width": width,
            "original_height": height,
            "image_rotation": 0,
            "value": {
                "x": box["x"] / width * 100,
                "y": box["y"] / height * 100,
                "width": box["w"] / width * 100,
                "height": box["h"] / height * 100,
                "rotation": 0,
                "rectanglelabels": [box["label"]],
            },
        }
        for number, box in enumerate((b for b in value if isinstance(b, dict)), start=1)
    ]


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
