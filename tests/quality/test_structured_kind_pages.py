"""Pages of span and box projects say what their labels, reasons and figures are: the items list reads stored
spans and boxes in words and names the kinds' issue reasons; the quality page shows the kind's own figures
(equal to the API's) with what they count."""

from __future__ import annotations

import base64
import io
import re
from html import unescape

import pytest
from PIL import Image

from annotation.models import Item, Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def _span(start, end, label, confidence=None):
    span = {"start": start, "end": end, "label": label}
    if confidence is not None:
        span["confidence"] = confidence
    return span


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 160, 90)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _row(html: str, item_id: int) -> str:
    match = re.search(rf'<tr data-item="{item_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for item {item_id}"
    return match.group(1)


def _cell(row: str, css_class: str) -> str:
    match = re.search(rf'<td class="{css_class}">(.*?)</td>', row, re.S)
    assert match, css_class
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _chips(row: str) -> list[str]:
    return [
        unescape(t)
        for t in re.findall(r'<span class="chip reason-chip" data-reason="[^"]+">([^<]*)</span>', row)
    ]


@pytest.fixture
def span_project():
    from ingress.services.bulk import item_bulk_create

    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    result = item_bulk_create(
        project=project,
        rows=[
            {"external_id": "d0", "text": "Ann and Bob live in Oslo"},
            {"external_id": "d1", "text": "nothing"},
        ],
    )
    assert not result.errors, result.errors
    return project, list(Item.objects.filter(project=project).order_by("id"))


def test_items_page_shows_span_labels_in_words_and_names_span_reasons(client, span_project):
    # Given a span item with three consensus spans (two PER, one LOC) and two span reasons, and one whose
    # reviewer settled on no entity
    project, (item, empty) = span_project
    Item.objects.filter(pk=item.pk).update(
        consensus_label=[_span(0, 3, "PER", 0.99), _span(8, 11, "PER", 0.9), _span(20, 24, "LOC", 0.6)],
        consensus_confidence=0.6,
        is_label_issue=True,
        issue_kinds=["missed_entity", "boundary_disagreement", "low_consensus_confidence"],
    )
    Item.objects.filter(pk=empty.pk).update(final_label=[], issue_kinds=["spurious_entity", "type_confusion"])
    client.force_login(add_member(project, Role.REVIEWER))
    # When the reviewer opens the items list
    html = client.get(f"/projects/{project.pk}/items/").content.decode()
    # Then labels read as spans with their labels, never as Python dicts
    assert "{&#x27;start&#x27;" not in html and "'start'" not in html
    assert _cell(_row(html, item.pk), "label-cell") == "3 spans (LOC, PER) (consensus)"
    assert _cell(_row(html, empty.pk), "label-cell") == "no entity"
    # and the reasons in words
    assert _chips(_row(html, item.pk)) == [
        "missed entity",
        "span boundaries differ",
        "low consensus confidence",
    ]
    assert _chips(_row(html, empty.pk)) == ["spurious entity", "entity type differs"]
    # and a span reason is a filter of the list
    filtered = client.get(f"/projects/{project.pk}/items/?issue_kind=missed_entity")
    assert filtered.status_code == 200
    assert re.findall(r'<tr data-item="(\d+)"', filtered.content.decode()) == [str(item.pk)]


def test_items_page_shows_box_labels_in_words_and_names_box_reasons(client, api):
    # Given a box project with one image whose consensus has two iguanas and a rock
    project = make_project(task_type="image_boxes", labels=("iguana", "rock"), k=3)
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/items/bulk/", [{"external_id": "img", "file_b64": _png()}], format="json"
    )
    assert response.status_code in (200, 201), response.json()
    item = Item.objects.get(project=project)
    Item.objects.filter(pk=item.pk).update(
        consensus_label=[
            {"x": 1, "y": 1, "w": 5, "h": 5, "label": "iguana", "confidence": 1.0},
            {"x": 9, "y": 1, "w": 5, "h": 5, "label": "iguana", "confidence": 0.7},
            {"x": 20, "y": 10, "w": 5, "h": 5, "label": "rock", "confidence": 0.5},
        ],
        issue_kinds=["missing_box", "extra_box", "loose_boundary", "class_confusion"],
    )
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/items/").content.decode()
    row = _row(html, item.pk)
    assert _cell(row, "label-cell") == "3 boxes (iguana ×2, rock) (consensus)"
    assert _chips(row) == ["missing box", "extra box", "loose box boundary", "box class differs"]
