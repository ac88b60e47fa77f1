"""Box exports of a frozen version: JSONL rows with boxes (the checksum's bytes), COCO loaded and evaluated by
pycocotools, YOLO label files read back against the pixel boxes, and the zip loaded by Hugging Face datasets."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import zipfile

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from annotation.models import Item, ItemStatus
from datasets.models import DatasetVersion
from datasets.services import NO_LABEL_KEY
from kinds.registry import kind_for
from tests.datasets.builders import body, freeze
from tests.kinds.box_fixtures import box_project_create, png_b64

pytestmark = pytest.mark.django_db

WIDTH, HEIGHT = 320, 240
LABELS = ["iguana", "rock", "cactus"]  # project order, not alphabetical; cactus is never drawn
BOXES = [
    [{"x": 10.0, "y": 20.0, "w": 100.0, "h": 50.0, "label": "iguana", "confidence": 0.9}],
    [
        {"x": 0.0, "y": 0.0, "w": 32.0, "h": 24.0, "label": "rock", "confidence": 1.0},
        {"x": 160.0, "y": 120.0, "w": 160.0, "h": 120.0, "label": "iguana", "confidence": 0.5},
    ],
    [],
    [{"x": 5.5, "y": 6.5, "w": 7.0, "h": 8.0, "label": "rock", "confidence": 0.7}],
    [{"x": 100.0, "y": 100.0, "w": 20.0, "h": 30.0, "label": "iguana", "confidence": 0.8}],
]


@pytest.fixture
def version(api, media_roots) -> DatasetVersion:
    return _frozen(api, {"train": 0.6, "dev": 0.2, "test": 0.2})


@pytest.fixture
def one_split_version(api, media_roots) -> DatasetVersion:
    # Hugging Face's folder loader infers each split's features from its own metadata file, so a split whose
    # images all have no box (the "nothing to box" image alone in dev or test) cannot be loaded beside the others;
    # one split keeps this test about the zip's layout, not about where the hash puts that image.
    return _frozen(api, {"train": 1.0})


def _frozen(api, splits: dict[str, float]) -> DatasetVersion:
    items = box_project_create(
        api,
        images=[png_b64(WIDTH, HEIGHT, (10 * n, 100, 200)) for n in range(len(BOXES))],
        name="Desert",
        labels=tuple({"value": v} for v in LABELS),
        annotations_per_item=None,
    ).items
    # The consensus the quality run would have stored (boxes with their confidence)
    for item, boxes in zip(items, BOXES, strict=True):
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.LABELLED, consensus_label=boxes, consensus_confidence=0.8
        )
    return freeze(items[0].project, splits=splits)


def _export(version, fmt, split=None) -> bytes:
    return body(
        kind_for(version.project).export_part.stream(fmt=fmt, version=version, split=split, base_url="")
    )


def _by_external(version) -> dict[str, list[dict]]:
    return {f"img-{n}": boxes for n, boxes in enumerate(BOXES)}


def test_jsonl_rows_carry_boxes_and_are_the_checksum(version):
    data = _export(version, "jsonl")
    assert hashlib.sha256(data).hexdigest() == version.checksum
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert {row["external_id"]: row["boxes"] for row in rows} == _by_external(version)
    assert all("label" not in row for row in rows)
    # The label distribution counts images holding each label, and "nothing to box" as no label
    assert version.label_distribution == {"iguana": 3, "rock": 2, NO_LABEL_KEY: 1}


def test_coco_export_loads_and_evaluates_in_pycocotools(version, tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(_export(version, "coco"))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    # Categories in label order with ids 1.., every image with its size, every box as [x, y, w, h]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == LABELS
    assert len(coco.getImgIds()) == len(BOXES)
    assert {img["width"] for img in coco.loadImgs(coco.getImgIds())} == {WIDTH}
    by_image = {}
    for image in coco.loadImgs(coco.getImgIds()):
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        by_image[image["external_id"]] = sorted(
            (LABELS[a["category_id"] - 1], *a["bbox"]) for a in annotations
        )
    expected = {
        name: sorted((b["label"], b["x"], b["y"], b["w"], b["h"]) for b in boxes)
        for name, boxes in _by_external(version).items()
    }
    assert by_image == expected
    # And COCOeval runs on it: the boxes scored against themselves give AP 1.0
    detections = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": a["score"]}
        for a in coco.loadAnns(coco.getAnnIds())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(coco, coco.loadRes(detections), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    assert evaluator.stats[1] == pytest.approx(1.0)


def test_yolo_zip_reads_back_to_the_pixel_boxes(version):
    archive = zipfile.ZipFile(io.BytesIO(_export(version, "yolo")))
    names = archive.namelist()
    data_yaml = archive.read("data.yaml").decode()
    assert "names:" in data_yaml and all(f'{i}: "{name}"' in data_yaml for i, name in enumerate(LABELS))
    assert "train: images/train" in data_yaml
    rows = {json.loads(line)["item_id"]: json.loads(line) for line in _export(version, "jsonl").splitlines()}
    for item_id, row in rows.items():
        split = row["split"]
        assert f"images/{split}/{item_id}.png" in names
        lines = archive.read(f"labels/{split}/{item_id}.txt").decode().splitlines()
        read_back = []
        for line in lines:
            cls, cx, cy, w, h = line.split()
            w_px, h_px = float(w) * WIDTH, float(h) * HEIGHT
            x_px, y_px = float(cx) * WIDTH - w_px / 2, float(cy) * HEIGHT - h_px / 2
            read_back.append((LABELS[int(cls)], x_px, y_px, w_px, h_px))
        expected = [(b["label"], b["x"], b["y"], b["w"], b["h"]) for b in row["boxes"]]
        read_back, expected = sorted(read_back), sorted(expected)
        assert [box[0] for box in read_back] == [box[0] for box in expected]
        assert [v for box in read_back for v in box[1:]] == pytest.approx(
            [v for box in expected for v in box[1:]], abs=1e-3
        )


HF_SCRIPT = r"""
import json, sys
import datasets
z = datasets.load_dataset(sys.argv[1], cache_dir=sys.argv[1] + "/cache")
objects = z["train"].features["objects"]
category = objects["category"] if isinstance(objects, dict) else objects.feature["category"]
out = {
    "names": getattr(category, "feature", category).names,
    "rows": {r["external_id"]: {"bbox": r["objects"]["bbox"], "category": r["objects"]["category"],
             "size": list(r["image"].size)} for split in z.values() for r in split},
    "splits": {k: v.num_rows for k, v in z.items()},
}
print(json.dumps(out))
"""


def test_hugging_face_datasets_loads_the_zip_with_objects(one_split_version, tmp_path):
    version = one_split_version
    python = os.environ.get("LABELGATE_HF_PYTHON")
    if not python:
        pytest.skip("Hugging Face datasets is not installed (set LABELGATE_HF_PYTHON)")
    zipfile.ZipFile(io.BytesIO(_export(version, "zip"))).extractall(tmp_path / "boxes")
    result = subprocess.run(
        [python, "-I", "-c", HF_SCRIPT, str(tmp_path / "boxes")],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["names"] == LABELS
    assert loaded["splits"] == {split: n for split, n in version.split_counts.items() if n}
    for name, boxes in _by_external(version).items():
        row = loaded["rows"][name]
        assert row["size"] == [WIDTH, HEIGHT]
        assert row["bbox"] == [[b["x"], b["y"], b["w"], b["h"]] for b in boxes]
        assert row["category"] == [LABELS.index(b["label"]) for b in boxes]


def test_a_format_box_versions_do_not_have_is_refused_and_not_offered(version, api, client):
    manager = version.project.memberships.get().user
    # When a box version is asked for another kind's format (a span CoNLL) or classification's CSV
    for fmt in ("csv", "conll", "parquet"):
        response = api(manager).get(f"/api/dataset-versions/{version.pk}/export/?format={fmt}")
        # Then it is refused on the format field, not served as JSONL under that name
        assert response.status_code == 400, (fmt, response.content[:200])
        assert "Box versions export as jsonl, coco, yolo or zip" in response.json()["format"][0]
    # And the version page offers the box formats only
    client.force_login(manager)
    page = client.get(f"/projects/{version.project_id}/datasets/{version.pk}/").content.decode()
    offered = set(re.findall(r"export/\?format=([a-z-]+)", page))
    assert offered == {"jsonl", "coco", "yolo", "labelstudio", "labelstudio-config", "zip"}
    assert "Hugging Face layout with media" in page
