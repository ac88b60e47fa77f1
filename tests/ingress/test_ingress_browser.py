"""Image and audio labelling end to end in headless Chromium, and the batches page after an import."""

import io
import zipfile

import pytest

from annotation.models import Annotation, Role
from tests.factories import PASSWORD, UserFactory, add_member, make_project
from tests.ingress.ingress_fixtures import png_bytes, run_import, tone, wav_bytes  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def test_image_labelling_with_keyboard_zoom(page, media_roots, artifacts_dir):
    from playwright.sync_api import expect

    project = make_project(task_type="image_classification", labels=("cat", "dog"), k=1)
    job = run_import(
        project, "imgs.zip", zip_of({"a.png": png_bytes(pattern=4), "b.png": png_bytes(pattern=12)})
    )
    assert job.result["created"] == 2
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="imogen"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    image = page.locator("#item-image")
    expect(image).to_be_visible()
    # The image is really served to the member (decoded by the browser), fitted to the panel
    page.wait_for_function("document.getElementById('item-image').naturalWidth === 48")
    expect(image).to_have_attribute("data-zoom", "1.00")
    fitted = image.evaluate("el => el.getBoundingClientRect().width")
    # + zooms in by 1.25 a press from the fitted size (it used to shrink a small image); - steps back
    page.keyboard.press("+")
    page.keyboard.press("+")
    expect(image).to_have_attribute("data-zoom", "1.56")
    assert abs(image.evaluate("el => el.getBoundingClientRect().width") - fitted * 1.5625) < 1
    page.keyboard.press("-")
    expect(image).to_have_attribute("data-zoom", "1.25")
    page.keyboard.press("-")
    expect(image).to_have_attribute("data-zoom", "1.00")
    page.screenshot(path=str(artifacts_dir / "ingress_image_label.png"), full_page=True)
    hotkey = project.labels.get(value="dog").hotkey
    page.keyboard.press(hotkey)
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_contain_text("1 done")
    assert list(Annotation.objects.filter(annotator=annotator).values_list("labels", flat=True)) == [["dog"]]


def test_audio_labelling_plays_the_clip_and_shows_its_waveform(page, media_roots, artifacts_dir):
    from playwright.sync_api import expect

    project = make_project(task_type="audio_classification", labels=("tone", "noise"), k=1)
    run_import(project, "clips.zip", zip_of({"beep.wav": wav_bytes(tone(seconds=1.0))}))
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="audrey"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#item-audio")).to_be_attached()
    # The browser loads the clip's metadata (served with Range support) and the rendered waveform
    page.wait_for_function("document.getElementById('item-audio').readyState >= 1")
    duration = page.evaluate("document.getElementById('item-audio').duration")
    assert abs(duration - 1.0) < 0.05
    page.wait_for_function("document.querySelector('img.waveform').naturalWidth === 800")
    page.screenshot(path=str(artifacts_dir / "ingress_audio_label.png"), full_page=True)
    page.keyboard.press(project.labels.get(value="tone").hotkey)
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_contain_text("1 done")
    assert list(Annotation.objects.filter(annotator=annotator).values_list("labels", flat=True)) == [["tone"]]


def test_batches_page_shows_reports_flags_and_duplicate_groups(page, media_roots, artifacts_dir):
    from playwright.sync_api import expect

    manager = UserFactory(username="mona")
    project = make_project(manager=manager)
    run_import(project, "first.csv", b"external_id,text\nt1,hello there\nt2,   \nt3,hello there\nt1,again\n")
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/")
    expect(page.locator("#ingress-panel")).to_contain_text("first.csv")
    page.goto(f"/projects/{project.pk}/batches/")
    jobs = page.locator("#import-jobs")
    expect(jobs).to_contain_text("first.csv")
    page.locator("#import-jobs details summary").click()
    expect(jobs.locator("table.report")).to_contain_text("duplicate external_id 't1' in this file")
    expect(page.locator("#flagged [data-flag='empty']")).to_contain_text("t2")
    expect(page.locator("#near-duplicates .dup-group")).to_have_count(1)
    expect(page.locator("#near-duplicates")).to_contain_text("t3")
    # Uploading through the page's form starts a job (the test has no worker: it stays queued)
    page.set_input_files(
        "#import-form input[type=file]",
        files=[{"name": "second.csv", "mimeType": "text/csv", "buffer": b"external_id,text\nt9,new\n"}],
    )
    page.click("#import-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Import of “second.csv” started")
    expect(page.locator("#import-jobs tr[data-status='queued']")).to_contain_text("second.csv")
    page.screenshot(path=str(artifacts_dir / "ingress_batches.png"), full_page=True)


def test_audio_hotkeys_play_pause_seek_and_replay(page, media_roots):
    # Given an audio item of a 10 s clip on the labelling page
    project = make_project(task_type="audio_classification", labels=("tone", "noise"), k=1)
    run_import(project, "clips.zip", zip_of({"long.wav": wav_bytes(tone(seconds=10.0))}))
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="aurora"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_function(
        "document.getElementById('item-audio') && document.getElementById('item-audio').readyState >= 1"
    )
    # Every seek the page makes is recorded with the position it seeks to
    page.evaluate("""() => { const audio = document.getElementById('item-audio'); window.seeks = [];
                             audio.addEventListener('seeking', () => window.seeks.push(audio.currentTime)); }""")
    assert page.evaluate("document.getElementById('item-audio').paused") is True
    # When space is pressed the clip plays, and a second press pauses it
    page.keyboard.press(" ")
    page.wait_for_function("!document.getElementById('item-audio').paused")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('item-audio').paused")
    # When the right arrow is pressed the clip seeks 5 s ahead (paused)
    position = page.evaluate("document.getElementById('item-audio').currentTime")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("window.seeks.length === 1")
    assert abs(page.evaluate("window.seeks[0]") - (position + 5)) < 0.01
    # When comma is pressed the clip restarts from the beginning and plays
    page.keyboard.press(",")
    page.wait_for_function("window.seeks.length === 2 && !document.getElementById('item-audio').paused")
    assert page.evaluate("window.seeks[1]") == 0
    assert page.evaluate("document.getElementById('item-audio').currentTime") < position + 5
    # And nothing was submitted by these keys
    assert not Annotation.objects.filter(annotator=annotator).exists()


def test_audio_waveform_space_is_reserved_so_the_player_does_not_move_when_it_loads(
    page, media_roots, artifacts_dir
):
    from playwright.sync_api import expect

    # Given an audio item whose waveform is slow to arrive (held until the test releases it)
    project = make_project(task_type="audio_classification", labels=("tone", "noise"), k=1)
    run_import(project, "clips.zip", zip_of({"beep.wav": wav_bytes(tone(seconds=1.0))}))
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="wanda"))
    held = []
    page.route("**/waveform.png", lambda route: held.append(route))
    log_in(page, annotator.username)
    # When the labelling page shows the item before the waveform has come
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#item-audio")).to_be_attached()
    page.wait_for_function("document.querySelector('img.waveform') !== null")
    assert page.evaluate("document.querySelector('img.waveform').complete === false")
    before = page.locator("#item-audio").bounding_box()
    box = page.locator("img.waveform").bounding_box()
    # Then the waveform's box already has the PNG's 800:240 shape at the page's width
    assert box["height"] > 100 and abs(box["width"] / box["height"] - 800 / 240) < 0.05
    # When the waveform arrives
    for route in held:
        route.continue_()
    page.wait_for_function("document.querySelector('img.waveform').naturalWidth === 800")
    # Then the player below it has not moved
    after = page.locator("#item-audio").bounding_box()
    assert abs(after["y"] - before["y"]) < 1
    page.screenshot(path=str(artifacts_dir / "audio_waveform_reserved.png"), full_page=True)
