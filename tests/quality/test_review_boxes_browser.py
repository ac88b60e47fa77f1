"""Reviewing a box item in headless Chromium with the live server and the real worker: after a quality run the
reviewer sees every annotator's boxes over the image in a colour of their own (as many as the API lists), the
fused consensus box with its confidence, the method named as weighted box fusion; they hide one annotator's boxes,
open the editor on the consensus, move the box by keyboard, accept, and the stored box is the hand-computed one."""

import base64
import io

import pytest
from PIL import Image, ImageDraw

from annotation.models import Item, ItemStatus, Role
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 400, 300


def _box(x, y, w, h, label="iguana"):
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


# Three annotators outline the iguana a little differently; cy's box is the mean of the other two's corners, and
# cy also boxes a rock nobody else saw.
ANSWERS = {
    "ava": [_box(10, 10, 100, 100)],
    "ben": [_box(14, 6, 100, 104)],
    "cy": [_box(12, 8, 100, 102), _box(200, 150, 50, 50, "rock")],
}
# Fused corners are a weighted mean over the three boxes; ava and ben match the consensus alike, so they weigh
# the same, and cy's corners are their mean: whatever cy's weight, the mean is (12, 8)-(112, 110). The rock,
# drawn by one annotator of three, is not kept.
CONSENSUS = _box(12, 8, 100, 102)
# The reviewer moves it 20 px right (Shift+→ twice) and 3 px down (↓ three times).
EDITED = _box(32, 11, 100, 102)


def _png() -> str:
    image = Image.new("RGB", (WIDTH, HEIGHT), (200, 210, 190))
    ImageDraw.Draw(image).rectangle((12, 8, 111, 109), fill=(40, 90, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_reviewer_sees_every_annotators_boxes_moves_the_consensus_by_keys_and_accepts(
    page, api, worker, media_roots, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a box project with one image three annotators boxed, and a quality run by the real worker
    project = make_project(
        task_type="image_boxes", labels=("iguana", "rock"), k=3, max_annotations_per_item=3
    )
    pid = project.pk
    result = item_bulk_create(project=project, rows=[{"external_id": "img-1", "file_b64": _png()}])
    assert result.created == 1, result.errors
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
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    detail = api(reviewer).get(f"/api/projects/{pid}/items/{item.pk}/").json()
    (fused,) = detail["consensus_boxes"]
    assert fused["label"] == "iguana"
    for name in ("x", "y", "w", "h"):
        assert abs(fused[name] - CONSENSUS[name]) < 1e-6, (name, fused)
    api_boxes = {a["username"]: a["boxes"] for a in detail["annotations"]}

    # When the reviewer opens the item's review page
    log_in(page, reviewer.username)
    page.goto(f"/projects/{pid}/review/items/{item.pk}/")

    # Then each annotator's boxes are drawn over the image, as many as the API lists for them, each annotator
    # in their own colour named in the legend; no class buttons
    overlay = page.locator("#box-review-overlay")
    expect(overlay).to_be_visible()
    expect(page.locator(".label-btn:visible")).to_have_count(0)
    colours = set()
    for name in ANSWERS:
        layer = overlay.locator(f"g[data-annotator='{name}']")
        expect(layer.locator("rect")).to_have_count(len(api_boxes[name]))
        colour = layer.evaluate("g => getComputedStyle(g.querySelector('rect')).stroke")
        colours.add(colour)
        expect(page.locator("#box-legend")).to_contain_text(name)
    assert len(colours) == len(ANSWERS)
    # and the consensus box is drawn with its label and confidence
    consensus = overlay.locator("g[data-kind='consensus']")
    expect(consensus.locator("rect")).to_have_count(1)
    expect(consensus.locator("text")).to_have_text(f"iguana {fused['confidence']:.2f}")
    # and cy's rock, which no one else drew, says so beside it; the iguanas all match the consensus
    expect(overlay.locator("g[data-annotator='cy'] text[data-reason='extra_box']")).to_have_text(
        "rock: extra box"
    )
    expect(overlay.locator("g[data-kind='annotator'] text")).to_have_count(1)
    # and the method is named as what it is
    meaning = page.locator("#confidence-meaning")
    expect(meaning).to_contain_text("weighted box fusion")
    expect(meaning).not_to_contain_text("Dawid")
    # and the rects sit where the boxes are: ava's box spans 100 of the image's 400 px of width (the measured
    # rectangle includes its 2 px stroke, half of it outside each edge)
    image = page.locator("#box-review-image").bounding_box()
    ava = overlay.locator("g[data-annotator='ava'] rect").bounding_box()
    scale = image["width"] / WIDTH
    assert abs(ava["x"] + 1 - (image["x"] + 10 * scale)) < 1 and abs(ava["width"] - 2 - 100 * scale) < 1
    page.screenshot(path=str(artifacts_dir / "review_boxes_item.png"), full_page=True)

    # When they hide cy's boxes in the legend
    page.get_by_label("show cy's boxes").uncheck()
    # Then cy's layer is hidden and the others stay
    expect(overlay.locator("g[data-annotator='cy']")).to_be_hidden()
    expect(overlay.locator("g[data-annotator='ava']")).to_be_visible()

    # When they open the editor (m) on the consensus, select its box and move it by keyboard
    page.keyboard.press("m")
    stage = page.locator("#box-stage")
    expect(stage).to_have_attribute("data-ready", "1")
    expect(stage).to_have_attribute("data-boxes", "1")
    page.locator("#box-list .box-row").first.click()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.locator("#box-list .box-row")).to_have_text("iguana: x 32, y 11, 100 × 102 px")
    page.screenshot(path=str(artifacts_dir / "review_boxes_edit.png"), full_page=True)
    # and accept with Enter
    with page.expect_response(lambda r: r.url.endswith("/reviews/") and r.request.method == "POST") as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201, sent.value.json()

    # Then the item is accepted with the moved box, within 1 px of the hand-computed one
    detail = api(reviewer).get(f"/api/projects/{pid}/items/{item.pk}/").json()
    assert detail["item"]["status"] == ItemStatus.ACCEPTED
    (stored,) = detail["item"]["final_label"]
    assert stored["label"] == "iguana"
    for name in ("x", "y", "w", "h"):
        assert abs(stored[name] - EDITED[name]) <= 1, (name, stored)
