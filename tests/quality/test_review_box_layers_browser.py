"""A box item's review page in headless Chromium: the annotators' layers are told apart from the labels' colours
(labels "car" and "ball" carry exactly the colours the first two annotators used to get), each annotator's stroke
has a dash pattern of its own, the legend says so, and a note beside a box near the image's right edge stays
inside the image."""

import base64
import io

import pytest
from PIL import Image

from annotation.models import Item, Role
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 400, 300
LABEL_COLOURS = {"car": "#e6194b", "ball": "#4363d8"}


def _box(x, y, w, h, label):
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


# bob and cy box a car at the image's right edge; alice calls the same box a ball (a class confusion whose note
# starts at the box's left edge, 90 px from the image's right edge).
ANSWERS = {
    "alice": [_box(300, 200, 90, 80, "ball")],
    "bob": [_box(300, 200, 90, 80, "car")],
    "cy": [_box(302, 201, 88, 79, "car")],
}


def png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 210, 190)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _rgb(colour: str) -> str:
    return f"rgb({int(colour[1:3], 16)}, {int(colour[3:5], 16)}, {int(colour[5:7], 16)})"


def test_annotator_layers_differ_from_label_colours_and_notes_stay_inside_the_image(
    page, api, worker, media_roots, artifacts_dir
):
    from playwright.sync_api import expect

    project = make_project(task_type="image_boxes", labels=("car", "ball"), k=3, max_annotations_per_item=3)
    pid = project.pk
    for value, colour in LABEL_COLOURS.items():
        response = api(project.created_by).patch(
            f"/api/projects/{pid}/labels/{value}/", {"colour": colour}, format="json"
        )
        assert response.status_code == 200, response.json()
    assert item_bulk_create(
        project=project, rows=[{"external_id": "img-1", "file_b64": png(WIDTH, HEIGHT)}]
    ).created
    item = Item.objects.get(project=project)
    for name, boxes in ANSWERS.items():
        user = add_member(project, user=UserFactory(username=name))
        response = api(user).post(
            f"/api/projects/{pid}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
        )
        assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="rhea"))
    response = api(reviewer).post(f"/api/projects/{pid}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    assert wait_for_job(response.json()["job"], worker=worker).status == JobStatus.SUCCEEDED

    log_in(page, reviewer.username)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/projects/{pid}/review/items/{item.pk}/")
    expect(page.locator("#box-review-overlay")).to_be_visible()
    page.evaluate("() => document.fonts.ready")
    page.screenshot(path=str(artifacts_dir / "review_box_layers.png"), full_page=True)

    strokes = page.evaluate(
        """() => [...document.querySelectorAll('#box-review-overlay g[data-kind=annotator]')].map((g) => {
            const s = getComputedStyle(g.querySelector('rect'));
            return {name: g.dataset.annotator, stroke: s.stroke, dash: s.strokeDasharray};
        })"""
    )
    assert [s["name"] for s in strokes] == list(ANSWERS)
    labels = {_rgb(c) for c in LABEL_COLOURS.values()}
    for s in strokes:
        assert s["stroke"] not in labels, s
        assert s["dash"] not in ("", "none"), s
    assert len({s["dash"] for s in strokes}) == len(strokes), strokes
    expect(page.locator("#box-legend-note")).to_contain_text("dash pattern and a colour of their own")
    expect(page.locator("#box-legend svg.box-legend-line")).to_have_count(3)

    # The class-confusion note beside alice's box is inside the image
    notes = page.evaluate(
        """() => { const img = document.querySelector('#box-review-image').getBoundingClientRect();
            return [...document.querySelectorAll('#box-review-overlay text.box-review-note')].map((t) => {
                const r = t.getBoundingClientRect();
                return {text: t.textContent, left: r.left - img.left, right: img.right - r.right,
                        top: r.top - img.top, bottom: img.bottom - r.bottom};
            }); }"""
    )
    assert any("ball" in n["text"] for n in notes), notes
    for n in notes:
        assert min(n["left"], n["right"], n["top"], n["bottom"]) >= -0.5, n
