"""Drawing boxes in headless Chromium: an annotator draws a box by mouse drag on a scaled image, adjusts it by
keyboard, relabels it by hotkey, moves it by drag after zooming in, and submits; the stored box is the one
computed by hand in image pixels. No job is started by this flow (one vote of three leaves the item open), so
no worker is needed."""

import base64
import io

import pytest
from PIL import Image, ImageDraw

from annotation.models import Annotation, Item
from ingress.services.bulk import item_bulk_create
from tests.annotation.test_browser_annotate import log_in
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 400, 300
# The dark rectangle drawn into the test image, corners in image pixels: what the annotator outlines.
OBJECT = (50, 40, 150, 120)


def object_png() -> str:
    image = Image.new("RGB", (WIDTH, HEIGHT), (230, 230, 230))
    ImageDraw.Draw(image).rectangle((OBJECT[0], OBJECT[1], OBJECT[2] - 1, OBJECT[3] - 1), fill=(30, 60, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def settled(page) -> None:
    """The page after a submit: the queue's answer (nothing left) and the counter are in, no request pending."""
    from playwright.sync_api import expect

    expect(page.locator("#empty-state")).to_be_visible()
    expect(page.locator("#progress")).to_have_attribute("data-left", "0")


def test_a_box_drawn_by_mouse_and_adjusted_by_keys_is_stored_in_image_pixels(
    page, media_roots, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a box project with one 400 x 300 image and an annotator on its labelling page
    project = make_project(name="Objects", task_type="image_boxes", labels=("thing", "rock"), k=3)
    result = item_bulk_create(project=project, rows=[{"external_id": "img-1", "file_b64": object_png()}])
    assert result.created == 1, result.errors
    item = Item.objects.get(project=project)
    keys = dict(project.labels.values_list("value", "hotkey"))
    annotator = add_member(project)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    stage = page.locator("#box-stage")
    expect(stage).to_have_attribute("data-ready", "1")
    expect(stage).to_have_attribute("data-width", str(WIDTH))
    image = page.locator("#box-image").bounding_box()
    sx, sy = image["width"] / WIDTH, image["height"] / HEIGHT
    # (the image is shown scaled to the stage, not at its own size)
    assert abs(sx - 1) > 0.2 and abs(sx - sy) < 1e-6

    def screen(x: float, y: float) -> tuple[float, float]:
        return image["x"] + x * sx, image["y"] + y * sy

    # When they drag from the object's top-left corner to its bottom-right corner
    page.mouse.move(*screen(OBJECT[0], OBJECT[1]))
    page.mouse.down()
    page.mouse.move(*screen(100, 80), steps=5)
    page.mouse.move(*screen(OBJECT[2], OBJECT[3]), steps=5)
    page.mouse.up()
    expect(stage).to_have_attribute("data-boxes", "1")
    # and move it 20 px right with Shift+arrows, make it 1 px taller in resize mode, and relabel it by hotkey
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("r")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("r")
    page.keyboard.press(keys["rock"])
    expect(page.locator(".box-row")).to_have_text("rock: x 70, y 40, 100 × 81 px")

    # and, zoomed in twice, drag the box by its middle 10 image pixels to the left and 5 up
    page.keyboard.press("+")
    page.keyboard.press("+")
    zoomed = page.locator("#box-image").bounding_box()
    zx = zoomed["width"] / WIDTH
    assert zx > sx * 1.5
    box = page.locator("#box-overlay .box rect").first.bounding_box()
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 5 * zx, start[1] - 2 * zx, steps=4)
    page.mouse.move(start[0] - 10 * zx, start[1] - 5 * zx, steps=4)
    page.mouse.up()
    page.screenshot(path=str(artifacts_dir / "boxes_label_page.png"), full_page=True)

    # and submit with Enter
    with page.expect_response(
        lambda r: r.url.endswith("/annotations/") and r.request.method == "POST"
    ) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201, sent.value.json()
    settled(page)

    # Then the stored box is the hand-computed one, in pixels of the stored image (within 1 px)
    (stored,) = Annotation.objects.get(item=item, annotator=annotator).labels
    expected = {"x": 60, "y": 35, "w": 100, "h": 81}
    assert stored["label"] == "rock"
    for name, value in expected.items():
        assert abs(stored[name] - value) <= 1, (name, stored)


def test_nothing_to_box_is_an_explicit_answer(page, media_roots):
    from playwright.sync_api import expect

    # Given the labelling page of a box project
    project = make_project(name="Empty", task_type="image_boxes", labels=("thing", "rock"), k=3)
    item_bulk_create(project=project, rows=[{"external_id": "img-1", "file_b64": object_png()}])
    annotator = add_member(project)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#box-stage")).to_have_attribute("data-ready", "1")
    # When they press Enter with nothing drawn, then nothing is sent and they are told why
    page.keyboard.press("Enter")
    expect(page.locator("#status-line")).to_contain_text("Nothing to box")
    assert not Annotation.objects.exists()
    # When they draw a box, delete it, undo the delete, then undo the drawing and answer "nothing to box"
    image = page.locator("#box-image").bounding_box()
    page.mouse.move(image["x"] + 10, image["y"] + 10)
    page.mouse.down()
    page.mouse.move(image["x"] + 60, image["y"] + 60, steps=5)
    page.mouse.up()
    expect(page.locator("#box-stage")).to_have_attribute("data-boxes", "1")
    page.keyboard.press("Delete")
    expect(page.locator("#box-stage")).to_have_attribute("data-boxes", "0")
    page.keyboard.press("z")
    expect(page.locator("#box-stage")).to_have_attribute("data-boxes", "1")
    page.keyboard.press("z")
    expect(page.locator("#box-stage")).to_have_attribute("data-boxes", "0")
    page.keyboard.press("n")
    expect(page.locator("#box-nothing")).to_have_attribute("aria-pressed", "true")
    with page.expect_response(
        lambda r: r.url.endswith("/annotations/") and r.request.method == "POST"
    ) as sent:
        page.keyboard.press("Enter")
    # Then an empty answer is stored
    assert sent.value.status == 201, sent.value.json()
    settled(page)
    assert Annotation.objects.get().labels == []


def test_a_box_on_a_4000_by_3000_image_shown_at_a_fraction_of_its_size_lands_in_its_pixels(page, media_roots):
    from playwright.sync_api import expect

    # Given a box project whose image is 4,000 x 3,000 (shown fitted to the stage, about a fifth of its size)
    big = Image.new("RGB", (4000, 3000), (90, 120, 90))
    ImageDraw.Draw(big).rectangle((1000, 600, 2999, 2399), fill=(200, 40, 40))
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    project = make_project(name="Large", task_type="image_boxes", labels=("thing", "rock"), k=3)
    rows = [{"external_id": "big", "file_b64": base64.b64encode(buffer.getvalue()).decode()}]
    assert item_bulk_create(project=project, rows=rows).created == 1
    annotator = add_member(project)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#box-stage")).to_have_attribute("data-ready", "1")
    image = page.locator("#box-image").bounding_box()
    scale = image["width"] / 4000
    assert scale < 0.3
    # When the annotator drags over the red rectangle's corners, moving through many intermediate points
    page.mouse.move(image["x"] + 1000 * scale, image["y"] + 600 * scale)
    page.mouse.down()
    page.mouse.move(image["x"] + 3000 * scale, image["y"] + 2400 * scale, steps=60)
    page.mouse.up()
    with page.expect_response(
        lambda r: r.url.endswith("/annotations/") and r.request.method == "POST"
    ) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201, sent.value.json()
    settled(page)
    # Then the stored box is the rectangle in the image's own pixels, to within one screen pixel's worth of them
    (stored,) = Annotation.objects.get().labels
    tolerance = 1 / scale
    for name, value in {"x": 1000, "y": 600, "w": 2000, "h": 1800}.items():
        assert abs(stored[name] - value) <= tolerance, (name, stored)
