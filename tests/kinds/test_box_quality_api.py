"""A box project's quality run through the REST contract with the real worker: three annotators' boxes, the
report's box figures equal to hand-computed values, consensus boxes on the item, annotator precision and recall,
item reasons."""

from __future__ import annotations

import contextlib
import io

import pytest
from pycocotools.coco import COCO

from annotation.models import Item
from core.models import JobStatus
from datasets.models import DatasetEntry
from tests.conftest import wait_for_job
from tests.factories import add_member
from tests.kinds.box_fixtures import box_project_create, png_b64

pytestmark = [pytest.mark.worker]

WIDTH, HEIGHT = 400, 300
IGUANA = {"x": 10, "y": 10, "w": 100, "h": 100, "label": "iguana"}
HALF = {"x": 10, "y": 10, "w": 100, "h": 50, "label": "iguana"}  # IoU 0.5 with IGUANA
ROCK = {"x": 200, "y": 150, "w": 50, "h": 50, "label": "rock"}  # overlaps nothing


# Annotators A, B, C on six images: A always draws the iguana; B too, but on image 5 only its top half;
# C agrees on images 0-3, answers "nothing to box" on image 4 and draws a rock where nothing is on image 5.
ANSWERS = {
    "A": [[IGUANA]] * 6,
    "B": [[IGUANA]] * 5 + [[HALF]],
    "C": [[IGUANA]] * 4 + [[], [ROCK]],
}


def box_project(api):
    # The six images are one PNG (the item reasons below count on it)
    project = box_project_create(api, images=[png_b64(WIDTH, HEIGHT)] * 6)
    return project.pid, project.manager, project.items


def test_box_quality_run_reports_hand_computed_figures(worker, api, tmp_path):
    # Given a box project whose six images three annotators boxed through the API
    pid, manager, items = box_project(api)
    annotators = {name: add_member(items[0].project) for name in ANSWERS}
    for name, answers in ANSWERS.items():
        for item, boxes in zip(items, answers, strict=True):
            response = api(annotators[name]).post(
                f"/api/projects/{pid}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
            )
            assert response.status_code == 201, response.json()
    # When a quality run is started and the real worker runs it
    response = api(manager).post(f"/api/projects/{pid}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    report = api(manager).get(f"/api/projects/{pid}/quality/").json()
    # Then pair F1s are A–B 12/12, A–C and B–C 2·4/(6+5): the mean is (1 + 8/11 + 8/11) / 3 = 9/11
    assert report["mean_pairwise_box_f1"] == pytest.approx(9 / 11, abs=1e-9)
    # matched IoU: A–B five pairs at 1 and one at 0.5, A–C and B–C four at 1 each → 13.5 / 14
    assert report["mean_matched_iou"] == pytest.approx(13.5 / 14, abs=1e-9)
    assert report["cohen_min_overlap"] == 5
    # per label: iguana F1 (12/12 + 8/10 + 8/10) / 3; rock drawn once, matched never
    assert report["per_label"]["iguana"]["mean_pairwise_box_f1"] == pytest.approx(2.6 / 3, abs=1e-9)
    assert report["per_label"]["rock"]["mean_pairwise_box_f1"] == 0.0
    assert report["per_label"]["rock"]["mean_matched_iou"] is None
    assert report["consensus_method"] == "weighted_box_fusion"
    # And each image's consensus is the iguana (image 5: A's and B's boxes fused to 100 × 75), no rock
    detail = api(manager).get(f"/api/projects/{pid}/items/{items[0].pk}/").json()
    assert detail["consensus_boxes"] == [{**IGUANA, "confidence": 1.0}]
    last = api(manager).get(f"/api/projects/{pid}/items/{items[5].pk}/").json()
    assert [(b["label"], b["x"], b["y"], b["w"], b["h"]) for b in last["consensus_boxes"]] == [
        ("iguana", 10, 10, 100, 75)
    ]
    # And the annotators' precision and recall against it: C drew 5 boxes, 4 match, of 6 consensus boxes
    rows = api(manager).get(f"/api/projects/{pid}/annotators/").json()["results"]
    by_user = {row["user"]: row for row in rows}
    c = by_user[annotators["C"].pk]
    assert (c["precision"], c["recall"], c["mean_iou"]) == pytest.approx((4 / 5, 4 / 6, 1.0))
    a = by_user[annotators["A"].pk]
    assert (a["precision"], a["recall"]) == (1.0, 1.0)
    assert a["mean_iou"] == pytest.approx((5 + 0.75) / 6)
    # And the items carry their reasons (the six images are one PNG, so profiling flags each of them)
    stored = {i: Item.objects.get(pk=item.pk) for i, item in enumerate(items)}
    assert all(item.flags for item in stored.values())
    reasons = {i: set(item.issue_kinds) for i, item in stored.items()}
    assert reasons[0] == {"profile_flag"}
    assert reasons[4] == {"missing_box", "profile_flag"}
    assert reasons[5] == {
        "missing_box",
        "extra_box",
        "loose_boundary",
        "low_consensus_confidence",
        "profile_flag",
    }
    # and only image 5's consensus, under the review threshold, is a label issue
    assert stored[5].consensus_confidence < 0.6
    assert [item.is_label_issue for item in stored.values()] == [False] * 5 + [True]
    # When the manager freezes the project through the API and the worker runs it
    response = api(manager).post(
        f"/api/projects/{pid}/dataset-versions/", {"include_needs_review": True, "seed": 1}, format="json"
    )
    assert response.status_code == 202, response.json()
    freeze_job = wait_for_job(response.json()["job"], worker=worker)
    assert freeze_job.status == JobStatus.SUCCEEDED, freeze_job.error
    vid = freeze_job.result["version"]
    # Then its COCO export loads in pycocotools with the consensus boxes, image sizes and label-order categories
    export = api(manager).get(f"/api/dataset-versions/{vid}/export/?format=coco")
    assert export.status_code == 200
    path = tmp_path / "coco.json"
    path.write_bytes(b"".join(export.streaming_content))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["iguana", "rock"]
    # (the default policy leaves out label issues: image 5's consensus is under the review threshold)
    entries = set(DatasetEntry.objects.filter(version_id=vid).values_list("item_id", flat=True))
    assert {img["id"] for img in coco.loadImgs(coco.getImgIds())} == entries
    assert items[0].pk in entries and len(entries) >= 5
    first = coco.loadAnns(coco.getAnnIds(imgIds=[items[0].pk]))
    assert [(a["bbox"], a["category_id"]) for a in first] == [([10.0, 10.0, 100.0, 100.0], 1)]
    assert {img["width"] for img in coco.loadImgs(coco.getImgIds())} == {WIDTH}
