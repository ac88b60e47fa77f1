"""The labelling page's "done / left" counter stays true when a submission lands while the page is still reading
the counts: the server's figure then already holds that submission and the page must not add it again. The
slow count is made by holding the progress request in the browser, never by sleeping."""

import time

import pytest

from annotation.models import Role
from tests.annotation.test_browser_annotate import log_in
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_submission_made_while_the_counts_load_is_counted_once(page):
    from playwright.sync_api import expect

    # Given an annotator on the labelling page of a project with four items (k=1), whose first count request
    # the browser holds back
    project = make_project(k=1)
    add_items(project, 4)
    annotator = add_member(project, Role.ANNOTATOR)
    keys = dict(project.labels.values_list("value", "hotkey"))
    held_counts, held_next = [], []

    def hold_first_count(route):
        if not held_counts:
            held_counts.append(route)
        else:
            route.continue_()

    def hold_second_next(route):
        nexts.append(route)
        if len(nexts) == 2:
            held_next.append(route)
        else:
            route.continue_()

    nexts = []
    page.route("**/progress/", hold_first_count)
    page.route("**/next/", hold_second_next)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    expect(shown).to_be_visible()
    page.wait_for_function("() => true")
    assert len(held_counts) == 1

    # When they label the item on screen: the submission is stored, the next item is asked for (held), and only
    # then does the first count arrive, read after the submission was stored
    first = shown.inner_text()
    with page.expect_response(lambda r: r.url.endswith("/annotations/") and r.request.method == "POST"):
        page.keyboard.press(keys["pos"])
        page.keyboard.press("Enter")
    page.wait_for_function("() => true")
    assert len(held_next) == 1
    with page.expect_response(lambda r: r.url.endswith("/progress/")):
        held_counts[0].continue_()
    held_next[0].continue_()
    expect(shown).not_to_have_text(first)

    # Then the counter says one done and three left (this one included), as counted by hand: four items, one
    # labelled; not the submission twice
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-done", "1")
    expect(progress).to_have_attribute("data-left", "3")
    expect(progress).to_have_text("1 done, 3 left for you, this one included")


def test_counts_read_across_submission_after_submission_stop_at_three_reads(page):
    from playwright.sync_api import expect

    # Given an annotator on the labelling page (k=1, six items) whose counts were read once, and a page clock
    # moved past the counts' maximum age so the next item asks for them again
    project = make_project(k=1)
    add_items(project, 6)
    annotator = add_member(project, Role.ANNOTATOR)
    keys = dict(project.labels.values_list("value", "hotkey"))
    mode = {"hold": False}
    reads, held = [], []

    def count(route):
        reads.append(route)
        if mode["hold"]:
            held.append(route)
        else:
            route.continue_()

    page.clock.install()
    page.route("**/progress/", count)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-left", "6")
    page.clock.fast_forward("01:01")

    def until(condition):
        # Route handlers run while Playwright processes events, so the held list is polled, with a deadline.
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, "the page asked for no further read"
            page.wait_for_timeout(25)

    def label_and_wait_for_next():
        before = shown.inner_text()
        with page.expect_response(lambda r: r.url.endswith("/annotations/") and r.request.method == "POST"):
            page.keyboard.press(keys["pos"])
            page.keyboard.press("Enter")
        expect(shown).not_to_have_text(before)
        page.wait_for_function("() => true")

    # When every read of one refresh is crossed by a submission: the first read is held, a second submission's
    # own refresh is answered at once (so later items ask for nothing), and each re-read is held while one more
    # item is labelled
    mode["hold"] = True
    label_and_wait_for_next()
    until(lambda: len(held) == 1)
    mode["hold"] = False
    label_and_wait_for_next()
    until(lambda: len(reads) == 3)
    mode["hold"] = True
    for _ in (2, 3):
        held.pop(0).continue_()
        until(lambda: len(held) == 1)
        label_and_wait_for_next()
    # and the third read answers with a figure of its own
    held.pop(0).fulfill(json={"done": 40, "left": 2})
    page.wait_for_function("() => true")

    # Then the page stops after three reads of that refresh and shows the third one's figure as the server gave
    # it: four submissions, all held by that figure (40 done, 2 left), and no fourth read is asked for
    expect(progress).to_have_attribute("data-done", "40")
    expect(progress).to_have_attribute("data-left", "2")
    assert len(reads) == 5 and not held
