"""Version diffs of span and box projects, part by part: counts and words in the diff API, and the diff page
showing the same numbers. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.test import Client
from PIL import Image

from annotation.models import Item, ItemStatus
from ingress.services.bulk import item_bulk_create
from kinds.boxes.diff import diff as box_diff
from kinds.spans.diff import diff as span_diff
from tests.datasets.builders import freeze
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London"


def _span(start, end, label, confidence=None):
    span = {"start": start, "end": end, "label": label}
    if confidence is not None:
        span["confidence"] = confidence
    return span


def _box(x, y, w, h, label, confidence=None):
    box = {"x": float(x), "y": float(y), "w": float(w), "h": float(h), "label": label}
    if confidence is not None:
        box["confidence"] = confidence
    return box


def test_span_diff_of_one_item_in_counts_and_words():
    old = [_span(0, 12, "PER"), _span(17, 32, "PER"), _span(36, 42, "LOC"), _span(13, 16, "PER")]
    new = [_span(0, 12, "PER", 0.4), _span(25, 32, "PER"), _span(36, 42, "ORG"), _span(4, 7, "LOC")]
    counts, lines = span_diff(old, new)
    # 0–12 PER stays (confidence ignored); 36–42 LOC → ORG; 17–32 → 25–32 PER; 13–16 PER gone; 4–7 LOC new
    assert counts == {"added": 1, "removed": 1, "boundaries_changed": 1, "relabelled": 1, "unchanged": 1}
    assert lines == [
        "LOC span at 4–7 added",
        "PER span at 13–16 removed",
        "PER span at 17–32 now 25–32 (boundaries changed)",
        "span at 36–42 relabelled LOC → ORG",
    ]


def test_span_boundaries_pair_one_to_one_by_largest_overlap():
    # One old PER span split into two new ones: the larger overlap (10–20, 10 chars) is the changed boundary,
    # the other (0–5, 5 chars) is added.
    counts, _ = span_diff([_span(0, 20, "PER")], [_span(0, 5, "PER"), _span(10, 20, "PER")])
    assert counts == {"added": 1, "removed": 0, "boundaries_changed": 1, "relabelled": 0, "unchanged": 0}


def test_box_diff_of_one_image_in_counts_and_words():
    old = [_box(0, 0, 100, 100, "iguana"), _box(200, 0, 100, 100, "iguana"), _box(10, 200, 50, 50, "rock")]
    new = [_box(0, 0, 100, 95, "iguana"), _box(220, 0, 100, 100, "iguana"), _box(10, 200, 50, 50, "cactus")]
    counts, lines = box_diff(old, new)
    # IoU 9500/10000 = 0.95 ≥ 0.9: unchanged; 8000/12000 = 0.67: moved; same place, other label: relabelled
    assert counts == {"added": 0, "removed": 0, "moved": 1, "relabelled": 1, "unchanged": 1}
    assert lines == [
        "iguana box moved from (200, 0) 100×100 to (220, 0) 100×100 (IoU 0.67)",
        "box at (10, 200) 50×50 relabelled rock → cactus (IoU 1.00)",
    ]


def test_a_box_moved_below_iou_one_half_is_removed_and_added():
    # IoU of (0,0,10,10) and (6,0,10,10): 40 / 160 = 0.25 < 0.5
    counts, lines = box_diff([_box(0, 0, 10, 10, "rock")], [_box(6, 0, 10, 10, "rock")])
    assert counts == {"added": 1, "removed": 1, "moved": 0, "relabelled": 0, "unchanged": 0}
    assert lines == ["rock box at (0, 0) 10×10 removed", "rock box at (6, 0) 10×10 added"]


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _label(project, external_id, value):
    Item.objects.filter(project=project, external_id=external_id).update(
        status=ItemStatus.LABELLED, consensus_label=value, consensus_confidence=0.8
    )


def _page_counts(html: str, table: str) -> dict[str, int]:
    section = html[html.index(f'id="{table}"') :]
    section = section[: section.index("</table>")]
    return {
        key: int(value.replace(",", ""))
        for key, value in re.findall(
            r'data-kind="(\w+)"><th>[^<]*</th><td class="num">([\d,]+)</td>', section
        )
    }


def _api_and_page(api, project, v1, v2) -> tuple[dict, str]:
    response = api(project.created_by).get(f"/api/dataset-versions/{v2.pk}/diff/?against={v1.pk}")
    assert response.status_code == 200, response.content
    html = _login(project.created_by).get(
        f"/projects/{project.pk}/datasets/diff/?base={v1.pk}&target={v2.pk}"
    )
    assert html.status_code == 200
    return response.json(), html.content.decode()


def test_span_version_diff_in_the_api_and_on_the_page(api):
    project = make_project(task_type="text_spans", labels=("PER", "LOC", "ORG"))
    assert not item_bulk_create(
        project=project, rows=[{"external_id": key, "text": TEXT} for key in "abcd"]
    ).errors
    _label(project, "a", [_span(0, 12, "PER", 0.9), _span(36, 42, "LOC", 0.9)])
    _label(project, "b", [_span(17, 32, "PER", 0.9)])
    _label(project, "c", [_span(0, 3, "PER", 0.9)])
    _label(project, "d", [_span(0, 12, "PER", 0.9)])
    v1 = freeze(project, splits={"train": 1.0})
    _label(project, "a", [_span(0, 12, "PER", 0.9), _span(36, 42, "ORG", 0.9)])  # relabelled 1, unchanged 1
    _label(project, "b", [_span(25, 32, "PER", 0.9)])  # boundaries 1
    _label(project, "c", [_span(36, 42, "LOC", 0.9)])  # removed 1, added 1
    _label(project, "d", [_span(0, 12, "PER", 0.5)])  # only the confidence: unchanged 1, item unchanged
    assert not item_bulk_create(project=project, rows=[{"external_id": "e", "text": TEXT}]).errors
    _label(project, "e", [_span(0, 12, "PER", 0.9), _span(36, 42, "LOC", 0.9)])  # new item: added 2
    v2 = freeze(project, splits={"train": 1.0})

    body, html = _api_and_page(api, project, v1, v2)

    parts = {"added": 3, "removed": 1, "boundaries_changed": 1, "relabelled": 1, "unchanged": 2}
    assert body["parts"]["unit"] == "spans"
    assert body["parts"]["counts"] == parts
    assert body["counts"] == {"added": 1, "removed": 0, "relabelled": 3, "split_moves": 0, "unchanged": 1}
    changes = {row["external_id"]: row["changes"] for row in body["relabelled"]}
    assert changes == {
        "a": ["span at 36–42 relabelled LOC → ORG"],
        "b": ["PER span at 17–32 now 25–32 (boundaries changed)"],
        "c": ["PER span at 0–3 removed", "LOC span at 36–42 added"],
    }
    assert _page_counts(html, "diff-part-counts") == parts
    assert _page_counts(html, "diff-counts")["relabelled"] == 3
    assert "<li>PER span at 17–32 now 25–32 (boundaries changed)</li>" in html


def _png(n: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (10 * n, 100, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_box_version_diff_in_the_api_and_on_the_page(api, media_roots):
    manager = UserFactory(project_creator=True)
    response = api(manager).post(
        "/api/projects/",
        {"name": "Desert", "task_type": "image_boxes", "labels": [{"value": v} for v in ("iguana", "rock")]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pid = response.json()["id"]
    rows = [{"external_id": f"img-{n}", "file_b64": _png(n)} for n in range(5)]
    assert api(manager).post(f"/api/projects/{pid}/items/bulk/", rows, format="json").status_code in (
        200,
        201,
    )
    project = Item.objects.filter(project_id=pid).first().project
    before = {
        "img-0": [_box(0, 0, 100, 100, "iguana", 0.9)],
        "img-1": [_box(0, 0, 100, 100, "iguana", 0.9)],
        "img-2": [_box(10, 10, 50, 50, "rock", 0.9)],
        "img-3": [_box(0, 0, 10, 10, "rock", 0.9)],
        "img-4": [_box(0, 0, 100, 100, "iguana", 0.9), _box(150, 100, 50, 50, "iguana", 0.9)],
    }
    after = {
        "img-0": [_box(0, 0, 100, 95, "iguana", 0.9)],  # IoU 0.95: unchanged
        "img-1": [_box(20, 0, 100, 100, "iguana", 0.9)],  # IoU 8000/12000 = 0.67: moved
        "img-2": [_box(10, 10, 50, 50, "iguana", 0.9)],  # relabelled
        "img-3": [_box(200, 200, 10, 10, "rock", 0.9)],  # IoU 0: removed 1, added 1
        "img-4": [_box(0, 0, 100, 100, "iguana", 0.9)],  # unchanged 1, removed 1
    }
    for key, boxes in before.items():
        _label(project, key, boxes)
    v1 = freeze(project, splits={"train": 1.0})
    for key, boxes in after.items():
        _label(project, key, boxes)
    v2 = freeze(project, splits={"train": 1.0})

    body, html = _api_and_page(api, project, v1, v2)

    parts = {"added": 1, "removed": 2, "moved": 1, "relabelled": 1, "unchanged": 2}
    assert body["parts"]["unit"] == "boxes"
    assert body["parts"]["counts"] == parts
    assert body["counts"] == {"added": 0, "removed": 0, "relabelled": 4, "split_moves": 0, "unchanged": 1}
    changes = {row["external_id"]: row["changes"] for row in body["relabelled"]}
    assert changes["img-1"] == ["iguana box moved from (0, 0) 100×100 to (20, 0) 100×100 (IoU 0.67)"]
    assert changes["img-2"] == ["box at (10, 10) 50×50 relabelled rock → iguana (IoU 1.00)"]
    assert changes["img-4"] == ["iguana box at (150, 100) 50×50 removed"]
    assert _page_counts(html, "diff-part-counts") == parts
    assert _page_counts(html, "diff-counts") == body["counts"]


def test_a_class_project_diff_has_no_parts(api):
    project = make_project(labels=("pos", "neg"))
    assert not item_bulk_create(project=project, rows=[{"external_id": "x", "text": "fine"}]).errors
    _label(project, "x", "pos")
    v1 = freeze(project)
    _label(project, "x", "neg")
    v2 = freeze(project)
    body, html = _api_and_page(api, project, v1, v2)
    assert "parts" not in body
    assert 'id="diff-part-counts"' not in html
