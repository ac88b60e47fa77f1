"""The labelling page's "done / left" counter stays true when a submission lands while the page is still reading
the counts: the server's figure then already holds that submission and the page must not add it again. The
slow count is made by holding the progress request in the browser, never by sleeping."""

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
