"""The labelling page's image viewer (zoom, pan, brightness/contrast) and audio player (reserved waveform box,
keyboard seek) in headless Chromium, on generated media, with axe on both pages."""

import io
import json
import zipfile

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from annotation.models import Annotation, Role
from tests.factories import PASSWORD, UserFactory, add_member, make_project
from tests.ingress.ingress_fixtures import run_import
from tests.ui.axe import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAGE = "document.getElementById('image-stage')"
IMAGE = "document.getElementById('item-image')"


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def digit_png(seed: int) -> bytes:
    """An 8 x 8 greyscale picture like the digits demo's: a bar and random specks."""
    pixels = np.random.default_rng(seed).integers(0, 60, (8, 8)).astype(np.uint8)
    pixels[1:7, 3:5] = 220
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def wav(seconds: float, rate: int = 8000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, 0.4 * np.sin(2 * np.pi * 660 * t), rate, format="WAV")
    return buffer.getvalue()


def box(page, selector):
    return page.locator(selector).bounding_box()


def image_project():
    project = make_project(task_type="image_classification", labels=("seven", "one"), k=1)
    job = run_import(project, "digits.zip", zip_of({"a.png": digit_png(1), "b.png": digit_png(2)}))
    assert job.result["created"] == 2
    return project


def test_image_zooms_pans_and_adjusts_without_touching_the_answer(page, media_roots, artifacts_dir):
    from playwright.sync_api import expect

    project = image_project()
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="zoe"))
    log_in(page, annotator.username)
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and "/annotations" in r.url else None)
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_function(f"{IMAGE} && {IMAGE}.naturalWidth === 8")
    # Given the 8 x 8 picture fitted to the stage: the stage's smaller side (the picture is square), centred,
    # drawn with square pixels rather than a blur
    stage_w, stage_h = page.evaluate(f"[{STAGE}.clientWidth, {STAGE}.clientHeight]")
    fitted = box(page, "#item-image")
    assert abs(fitted["width"] - min(stage_w, stage_h)) < 1
    assert page.evaluate(f"getComputedStyle({IMAGE}).imageRendering") == "pixelated"
    page.screenshot(path=str(artifacts_dir / "media_image_fitted.png"), full_page=True)

    # When + is pressed the picture grows by the zoom step 1.25 around the stage's centre
    page.keyboard.press("+")
    bigger = box(page, "#item-image")
    assert bigger["width"] > fitted["width"]
    assert abs(bigger["width"] - 1.25 * fitted["width"]) < 1
    centre = lambda b: (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)  # noqa: E731
    assert abs(centre(bigger)[0] - centre(fitted)[0]) < 1 and abs(centre(bigger)[1] - centre(fitted)[1]) < 1
    for key in ("=", "+", "+", "+", "+"):
        page.keyboard.press(key)
    zoomed = box(page, "#item-image")
    assert abs(zoomed["width"] - 1.25**6 * fitted["width"]) < 1
    # and no label was chosen by these keys
    assert page.locator(".label-btn.selected").count() == 0

    # When the picture is dragged 60 px left and 40 px up it follows the pointer
    stage = box(page, "#image-stage")
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 30, cy - 20)
    page.mouse.move(cx - 60, cy - 40)
    page.mouse.up()
    dragged = box(page, "#item-image")
    assert abs(dragged["x"] - (zoomed["x"] - 60)) < 1 and abs(dragged["y"] - (zoomed["y"] - 40)) < 1
    # When the right arrow is pressed the view moves right: the picture moves left by 15 % of the stage
    page.keyboard.press("ArrowRight")
    panned = box(page, "#item-image")
    assert abs(panned["x"] - (dragged["x"] - 0.15 * stage_w)) < 1 and panned["y"] == dragged["y"]

    # When the wheel zooms in with the pointer over a point of the picture, that point stays under the pointer
    px, py = stage["x"] + stage["width"] * 0.3, stage["y"] + stage["height"] * 0.6
    before = box(page, "#item-image")
    u, v = (px - before["x"]) / before["width"], (py - before["y"]) / before["height"]
    page.mouse.move(px, py)
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"{IMAGE}.getBoundingClientRect().width > {before['width'] + 1}")
    after = box(page, "#item-image")
    assert (
        abs(after["x"] + u * after["width"] - px) < 1.5 and abs(after["y"] + v * after["height"] - py) < 1.5
    )
    page.screenshot(path=str(artifacts_dir / "media_image_zoomed.png"), full_page=True)

    # When Home is pressed the picture fits again
    page.keyboard.press("Home")
    assert abs(box(page, "#item-image")["width"] - fitted["width"]) < 1

    # When brightness is raised 20 % by keyboard (Tab to the slider, four presses of the 5 % step)
    page.focus("#image-brightness")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    # Then the picture's computed filter brightens it by 1.2 and contrast is untouched
    assert page.input_value("#image-brightness") == "120"
    filt = page.evaluate(f"getComputedStyle({IMAGE}).filter")
    assert "brightness(1.2)" in filt and "contrast(1)" in filt, filt
    # and the arrows moved the slider, not the picture
    assert abs(box(page, "#item-image")["x"] - fitted["x"]) < 1
    page.focus("#image-contrast")
    page.keyboard.press("ArrowLeft")
    assert "contrast(0.95)" in page.evaluate(f"getComputedStyle({IMAGE}).filter")
    page.screenshot(path=str(artifacts_dir / "media_image_adjusted.png"), full_page=True)
    page.click("#image-adjust-reset")
    assert page.evaluate(f"getComputedStyle({IMAGE}).filter") == "none"
    page.fill("#image-brightness", "150")
    page.dispatch_event("#image-brightness", "input")
    page.keyboard.press("+")

    # When the answer is given with the picture brightened and zoomed
    page.locator("#image-brightness").blur()
    page.keyboard.press(project.labels.get(value="seven").hotkey)
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_contain_text("1 done")
    # Then the stored answer is the label alone: nothing of the view went to the server
    annotation = Annotation.objects.get(annotator=annotator)
    assert (annotation.labels, annotation.unsure, annotation.unusable, annotation.comment) == (
        ["seven"],
        False,
        False,
        "",
    )
    body = json.loads(sent[-1].post_data)
    assert not [
        k for k in body if any(w in k.lower() for w in ("zoom", "bright", "contrast", "filter", "pan"))
    ]
    assert "1.5" not in json.dumps(body)
    # and the next item starts fitted, unfiltered, with the sliders back at 100 %
    page.wait_for_function(f"{IMAGE} && {IMAGE}.complete && {IMAGE}.naturalWidth === 8")
    assert abs(box(page, "#item-image")["width"] - fitted["width"]) < 1
    assert page.evaluate(f"getComputedStyle({IMAGE}).filter") == "none"
    assert page.input_value("#image-brightness") == "100"


def test_image_and_audio_label_pages_pass_axe(page, media_roots, artifacts_dir):
    image = image_project()
    audio = make_project(task_type="audio_classification", labels=("tone", "noise"), k=1)
    run_import(audio, "clips.zip", zip_of({"a.wav": wav(2.0)}))
    annotator = UserFactory(username="axel")
    add_member(image, Role.ANNOTATOR, user=annotator)
    add_member(audio, Role.ANNOTATOR, user=annotator)
    log_in(page, annotator.username)
    found = {}
    for width, scheme in ((1280, "light"), (390, "light"), (1280, "dark")):
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/projects/{image.pk}/label/")
        page.wait_for_function(f"{IMAGE} && {IMAGE}.naturalWidth === 8")
        page.keyboard.press("+")
        found[f"image {width} {scheme}"] = axe_violations(page)
        page.screenshot(path=str(artifacts_dir / f"media_image_{width}_{scheme}.png"), full_page=True)
        if (width, scheme) == (1280, "light"):
            # The ? overlay lists the viewer's keys under Media
            page.keyboard.press("?")
            overlay = page.locator("#shortcuts-overlay")
            for what in ("Zoom in (around the pointer with the mouse wheel)", "Fit the image to the panel"):
                assert what in overlay.inner_text()
            page.screenshot(path=str(artifacts_dir / "media_image_shortcuts.png"))
            page.keyboard.press("Escape")
        page.goto(f"/projects/{audio.pk}/label/")
        page.wait_for_function(
            "document.querySelector('img.waveform') && document.querySelector('img.waveform').naturalWidth === 800"
        )
        found[f"audio {width} {scheme}"] = axe_violations(page)
        page.screenshot(path=str(artifacts_dir / f"media_audio_{width}_{scheme}.png"), full_page=True)
    assert found == {key: [] for key in found}


def test_audio_waveform_box_is_reserved_and_the_arrows_seek_five_seconds(page, media_roots, artifacts_dir):
    # Given a 12 s clip whose waveform is held back until the test releases it
    project = make_project(task_type="audio_classification", labels=("tone", "noise"), k=1)
    run_import(project, "clips.zip", zip_of({"long.wav": wav(12.0)}))
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="sonia"))
    held = []
    page.route("**/waveform.png", lambda route: held.append(route))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_function(
        "document.getElementById('item-audio') && document.getElementById('item-audio').readyState >= 1"
    )
    assert page.evaluate("document.querySelector('img.waveform').complete") is False
    # The box says what is coming while it waits
    assert page.locator(".waveform-wait").is_visible()
    page.screenshot(path=str(artifacts_dir / "media_audio_waiting.png"), full_page=True)
    buttons_before = box(page, "#label-buttons")
    wave_before = box(page, "#waveform-box")
    # When the waveform arrives
    for route in held:
        route.continue_()
    page.wait_for_function("document.querySelector('img.waveform').naturalWidth === 800")
    # Then neither the box nor the label buttons below it moved
    assert box(page, "#label-buttons") == buttons_before
    assert box(page, "#waveform-box") == wave_before
    assert not page.locator(".waveform-wait").is_visible()
    page.screenshot(path=str(artifacts_dir / "media_audio_loaded.png"), full_page=True)

    # When the right arrow is pressed twice and the left once, the clip is at 5, 10 and 5 s
    page.evaluate("""() => { const a = document.getElementById('item-audio'); window.seeks = [];
                             a.addEventListener('seeking', () => window.seeks.push(a.currentTime)); }""")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("window.seeks.length === 1")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("window.seeks.length === 2")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("window.seeks.length === 3")
    assert page.evaluate("window.seeks") == [5, 10, 5]
    # and the playhead on the picture is at 5 / 12 of its width
    page.wait_for_function("document.querySelector('.playhead').hidden === false")
    head = box(page, ".playhead")
    assert abs(head["x"] + 1 - (wave_before["x"] + 1 + (wave_before["width"] - 2) * 5 / 12)) < 2
    # When Space is pressed the clip plays, and again it pauses
    page.keyboard.press(" ")
    page.wait_for_function("!document.getElementById('item-audio').paused")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('item-audio').paused")
    assert not Annotation.objects.filter(annotator=annotator).exists()
