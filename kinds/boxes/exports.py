"""Box exports of a dataset version, each streamed from the stored entries in chunks (flat memory):

- ``jsonl``: the canonical lines (``boxes`` instead of ``label``, see :func:`entry_row`), byte for byte;
- ``coco``: one COCO detection JSON: ``images`` (id = item id, file name, width, height), ``annotations``
  (``bbox`` [x, y, w, h] in pixels, ``area``, ``iscrowd`` 0, ``category_id``) and ``categories`` in label order
  with id = class id + 1 (COCO keeps 0 for "no category");
- ``yolo``: a zip of ``images/{split}/``, ``labels/{split}/{item id}.txt`` (``class cx cy w h`` normalised by the
  image's size) and ``data.yaml`` (splits and class names by id);
- ``zip``: the ``imagefolder`` layout Hugging Face ``datasets`` loads: ``{split}/metadata.jsonl`` rows with
  ``file_name`` and ``objects`` (``bbox`` lists and ``category`` class ids) and a dataset card declaring
  ``objects`` as a sequence of ``bbox`` (4 floats) and ``category`` (a ClassLabel of the version's classes).

Class ids are the version's label schema ids (``datasets.labelschema``), stable across versions.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator

from datasets.archive import _media_name, _write_media, write_lines
from datasets.archive import member_info as _member
from datasets.exporters import (
    DrainableSink,
    canonical_json,
    export_description,
    read_snapshot,
    stream_jsonl,
)
from datasets.labelschema import class_names, hf_features_yaml
from datasets.models import DatasetEntry, DatasetVersion
from datasets.splits import SPLIT_NAMES

CHUNK = 2000
_encode_string = json.encoder.encode_basestring
YOLO_SPLIT_KEYS = {"train": "train", "dev": "val", "test": "test"}


def entry_row(row: dict) -> dict:
    """A canonical row of a box version: the boxes under ``boxes`` (``label`` would read as one class)."""
    row = dict(row)
    boxes = row.pop("label", None)
    row["boxes"] = boxes if isinstance(boxes, list) else []
    return row


def _rows(version: DatasetVersion, split: str | None = None) -> Iterator[tuple[dict, dict, str]]:
    """(row, item profile, file name) per entry, by item id."""
    entries = DatasetEntry.objects.filter(version=version)
    if split:
        entries = entries.filter(split=split)
    with read_snapshot():
        for line, profile, file_name in (
            entries.order_by("item_id")
            .values_list("line", "item__profile", "item__file")
            .iterator(chunk_size=CHUNK)
        ):
            yield json.loads(line), profile or {}, file_name or ""


def _class_ids(version: DatasetVersion) -> dict[str, int]:
    return {name: index for index, name in enumerate(class_names(version.label_schema))}


def _boxes(row: dict) -> list[dict]:
    boxes = row.get("boxes", row.get("label"))
    return [box for box in boxes if isinstance(box, dict)] if isinstance(boxes, list) else []


def stream_coco(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    """The COCO JSON in two streamed passes over the entries: images, then annotations."""
    ids = _class_ids(version)
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for name, i in ids.items()]
    head = {
        "info": {
            "description": f"{version.project.name} — dataset version {version.number}",
            "version": str(version.number),
            "date_created": version.created_at.isoformat(),
        },
        "licenses": [],
        "categories": categories,
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ',"images":[').encode()
    # Rows are written with f-strings rather than json.dumps per image and per box (several times faster); the
    # numbers are finite floats, whose repr is valid JSON.
    batch: list[str] = []
    separator = ""
    for row, profile, file_name in _rows(version, split):
        item_id = int(row["item_id"])
        name = _media_name(item_id, file_name) if file_name else row["external_id"]
        width, height = profile.get("width"), profile.get("height")
        batch.append(
            f'{separator}{{"id":{item_id},"file_name":{_string(name)},"width":{_number(width)},'
            f'"height":{_number(height)},"external_id":{_string(row["external_id"])},"split":{_string(row["split"])}}}'
        )
        separator = ","
        if len(batch) >= CHUNK:
            yield "".join(batch).encode()
            batch = []
    batch.append('],"annotations":[')
    next_id, separator = 1, ""
    for row, _profile, _file in _rows(version, split):
        item_id = int(row["item_id"])
        for box in _boxes(row):
            category = ids.get(str(box.get("label")))
            if category is None:
                continue
            x, y, w, h = float(box["x"]), float(box["y"]), float(box["w"]), float(box["h"])
            score = box.get("confidence")
            batch.append(
                f'{separator}{{"id":{next_id},"image_id":{item_id},"category_id":{category + 1},'
                f'"bbox":[{x!r},{y!r},{w!r},{h!r}],"area":{w * h!r},"iscrowd":0'
                + (f',"score":{float(score)!r}}}' if isinstance(score, (int, float)) else "}")
            )
            separator = ","
            next_id += 1
        if len(batch) >= CHUNK:
            yield "".join(batch).encode()
            batch = []
    batch.append("]}")
    yield "".join(batch).encode()


def _string(value: object) -> str:
    return _encode_string(str(value))


def _number(value: object) -> str:
    return repr(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "null"


def _yolo_lines(row: dict, profile: dict, ids: dict[str, int]) -> str:
    width, height = profile.get("width"), profile.get("height")
    if not width or not height:
        return ""
    lines = []
    for box in _boxes(row):
        category = ids.get(str(box.get("label")))
        if category is None:
            continue
        x, y, w, h = (float(box[k]) for k in ("x", "y", "w", "h"))
        lines.append(
            f"{category} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} {w / width:.6f} {h / height:.6f}\n"
        )
    return "".join(lines)


def _data_yaml(version: DatasetVersion, splits: list[str]) -> str:
    lines = ["path: .", *(f"{YOLO_SPLIT_KEYS[s]}: images/{s}" for s in splits), "names:"]
    lines += [
        f"  {i}: {json.dumps(name, ensure_ascii=True)}"
        for i, name in enumerate(class_names(version.label_schema))
    ]
    return "\n".join(lines) + "\n"


def _splits(version: DatasetVersion) -> list[str]:
    return [name for name in SPLIT_NAMES if version.split_counts.get(name)]


def stream_yolo(*, version: DatasetVersion) -> Iterator[bytes]:
    """The YOLO zip (every split): label files and ``data.yaml`` first, then the images."""
    ids = _class_ids(version)
    splits = _splits(version)
    sink = DrainableSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr(_member(version, "data.yaml"), _data_yaml(version, splits))
        for split in splits:
            for n, (row, profile, _file) in enumerate(_rows(version, split)):
                archive.writestr(
                    _member(version, f"labels/{split}/{row['item_id']}.txt"), _yolo_lines(row, profile, ids)
                )
                if n % 200 == 0:
                    yield sink.drain()
            yield sink.drain()
        members: dict[str, dict] = {}
        for split in splits:
            yield from _write_media(
                archive=archive, sink=sink, version=version, split=split, members=members, prefix="images/"
            )
    yield sink.drain()


def _card(version: DatasetVersion, splits: list[str]) -> str:
    names = hf_features_yaml(schema=version.label_schema, columns=[("category", "label")], indent="    ")
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: {split}/**"]
    features = [
        "  - name: image",
        "    dtype: image",
        "  - name: item_id",
        "    dtype: int64",
        "  - name: external_id",
        "    dtype: string",
        "  - name: objects",
        "    sequence:",
        "    - name: bbox",
        "      sequence: float64",
        "      length: 4",
        *names,
    ]
    lines += ["  features:", *features, "dataset_info:", "  config_name: default", "  features:", *features]
    lines += [
        "---",
        f"# {version.project.name} — dataset version {version.number}",
        "",
        f"Boxes frozen {version.created_at.isoformat()} by Labelgate; checksum `{version.checksum}`. "
        "`objects.bbox` is [x, y, width, height] in pixels from the image's top-left corner; `objects.category` "
        "a ClassLabel whose ids stay the same in every version of this project.",
        "",
    ]
    return "\n".join(lines)


def _zip_record(row: dict, file_name: str, ids: dict[str, int]) -> dict:
    boxes = [box for box in _boxes(row) if box.get("label") in ids]
    return {
        "file_name": _media_name(row["item_id"], file_name),
        "item_id": row["item_id"],
        "external_id": row["external_id"],
        "objects": {
            "bbox": [[float(box[k]) for k in ("x", "y", "w", "h")] for box in boxes],
            "category": [ids[box["label"]] for box in boxes],
        },
    }


def stream_zip(*, version: DatasetVersion) -> Iterator[bytes]:
    """The Hugging Face imagefolder zip with an ``objects`` column."""
    ids = _class_ids(version)
    splits = _splits(version)
    sink = DrainableSink()
    members: dict[str, dict] = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr(_member(version, "README.md"), _card(version, splits))
        for split in splits:
            path = f"{split}/metadata.jsonl"
            members[path] = yield from write_lines(
                archive=archive,
                sink=sink,
                info=_member(version, path),
                lines=(
                    canonical_json(_zip_record(row, file_name, ids)) + "\n"
                    for row, _profile, file_name in _rows(version, split)
                    if file_name
                ),
            )
            yield sink.drain()
            yield from _write_media(archive=archive, sink=sink, version=version, split=split, members=members)
        manifest = {
            **export_description(version=version, split=None),
            "splits": splits,
            "counts": version.counts,
            "split_counts": version.split_counts,
            "metrics": version.metrics,
            "members": members,
        }
        archive.writestr(
            _member(version, "manifest.json"),
            json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True),
        )
    yield sink.drain()


__all__ = ["entry_row", "stream_coco", "stream_jsonl", "stream_yolo", "stream_zip"]
