"""Annotator flows in headless Chromium: multi-label toggling, skip, guideline acknowledgement, nothing-left state.

Each test drives the real labelling page (static/js/label.js) and checks both what the annotator sees and the
rows the server stored. Waits are Playwright expectations on the DOM, never sleeps.
"""

import pytest

from annotation.models import Annotation, Assignment, AssignmentState, Item, Membership, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.projects import guideline_create
from tests.annotation.test_browser_annotate import log_in
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def item_text(n: int) -> str:
    return f"text number {n}"  # what tests.factories.add_items stores as the text of item t<n>


def hotkeys_of(project) -> dict[str, str]:
    return dict(project.labels.values_list("value", "hotkey"))


def selected_values(page) -> list[str]:
    return sorted(page.locator(".label-btn.selected").evaluate_all("els => els.map((e) => e.dataset.value)"))


def test_multi_label_hotkeys_toggle_and_the_stored_annotation_has_exactly_the_chosen_labels(page):
    from playwright.sync_api import expect

    # Given a multi-label project with three labels and two items, and an annotator on the labelling page
    project = make_project(labels=("sports", "politics", "tech"), multi_label=True, k=1)
    add_items(project, 2)
    annotator = add_member(project, Role.ANNOTATOR)
    keys = hotkeys_of(project)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    progress = page.locator("#progress")
    expect(page.locator("#item-view .item-text")).to_have_text(item_text(0))
    expect(progress).to_contain_text("0 done")

    # When they toggle sports and politics, un-toggle sports, then toggle it back on
    page.keyboard.press(keys["sports"])
    page.keyboard.press(keys["politics"])
    expect(page.locator(".label-btn.selected")).to_have_count(2)
    page.keyboard.press(keys["sports"])
    expect(page.locator(".label-btn.selected")).to_have_count(1)
    assert selected_values(page) == ["politics"]
    page.keyboard.press(keys["sports"])
    expect(page.locator(".label-btn.selected")).to_have_count(2)
    assert selected_values(page) == ["politics", "sports"]
    # And submit with Enter
    page.keyboard.press("Enter")

    # Then the counter moves, the next item comes with nothing pre-selected
    expect(progress).to_contain_text("1 done")
    expect(page.locator("#item-view .item-text")).to_have_text(item_text(1))
    expect(page.locator(".label-btn.selected")).to_have_count(0)
    # When on the second item they toggle tech and politics, then un-toggle tech, and submit
    page.keyboard.press(keys["tech"])
    page.keyboard.press(keys["politics"])
    page.keyboard.press(keys["tech"])
    expect(page.locator(".label-btn.selected")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(progress).to_contain_text("2 done")

    # Then each stored annotation holds exactly the labels left selected, never the un-toggled ones
    stored = dict(
        Annotation.objects.filter(annotator=annotator, is_live=True).values_list(
            "item__external_id", "labels"
        )
    )
    assert stored == {"t0": ["politics", "sports"], "t1": ["politics"]}


def test_skipped_items_are_not_stored_go_back_to_the_pool_and_never_return_to_the_annotator(page, api):
    from playwright.sync_api import expect

    # Given a project (k=1) with three items and an annotator looking at the first one
    project = make_project(k=1)
    add_items(project, 3)
    annotator = add_member(project, Role.ANNOTATOR)
    other = add_member(project, Role.ANNOTATOR)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    expect(shown).to_have_text(item_text(0))

    # When they skip it with the hotkey, and the next one with the Skip button
    page.keyboard.press("s")
    expect(shown).to_have_text(item_text(1))
    page.click("#skip-btn")
    # Then each skip shows a different item
    expect(shown).to_have_text(item_text(2))

    # And nothing was stored for the skipped items; their leases are closed as skipped, not left active
    assert not Annotation.objects.filter(item__external_id__in=["t0", "t1"]).exists()
    states = dict(Assignment.objects.filter(annotator=annotator).values_list("item__external_id", "state"))
    assert states == {
        "t0": AssignmentState.SKIPPED,
        "t1": AssignmentState.SKIPPED,
        "t2": AssignmentState.ACTIVE,
    }
    # And the slot was given back: another annotator is served the first skipped item at once (k=1)
    response = api(other).get(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 200
    assert response.json()["item"]["external_id"] == "t0"

    # When the annotator labels the last item
    page.keyboard.press(hotkeys_of(project)["pos"])
    page.keyboard.press("Enter")
    # Then the skipped items are not served to them again: nothing is left for them
    expect(page.locator("#empty-state")).to_be_visible()
    expect(shown).to_have_count(0)
    assert list(
        Annotation.objects.filter(annotator=annotator).values_list("item__external_id", "labels")
    ) == [("t2", ["pos"])]


def test_a_guideline_published_mid_session_must_be_acknowledged_before_the_next_item(page):
    from playwright.sync_api import expect

    # Given an annotator (who acknowledged v1) labelling the first of two items
    manager = UserFactory()
    project = make_project(manager=manager, k=1)
    add_items(project, 2)
    annotator = add_member(project, Role.ANNOTATOR)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    expect(shown).to_have_text(item_text(0))
    dialog = page.locator("#ack-dialog")
    expect(dialog).to_be_hidden()

    # When the manager publishes version 2 while the page is open, and the annotator then submits the item
    guideline_create(
        project=project,
        author=manager,
        body="# Rules v2\nSarcasm counts as **neg**.",
        change_note="Sarcasm rule",
    )
    page.keyboard.press(hotkeys_of(project)["neg"])
    page.keyboard.press("Enter")

    # Then the dialog asks for version 2, showing version 2's text, and no next item is shown or leased
    expect(dialog).to_be_visible()
    expect(page.locator("#ack-text")).to_contain_text("version 2: Sarcasm rule")
    expect(dialog.locator(".markdown")).to_contain_text("Sarcasm counts as neg.")
    expect(page.locator("#ack-btn")).to_have_text("I have read version 2")
    expect(shown).to_have_count(0)
    assert not Assignment.objects.filter(annotator=annotator, item__external_id="t1").exists()
    membership = Membership.objects.get(project=project, user=annotator)
    assert membership.acknowledged_guideline_version == 1
    assert list(
        Annotation.objects.filter(annotator=annotator).values_list("item__external_id", flat=True)
    ) == ["t0"]

    # When they acknowledge it
    page.click("#ack-btn")
    # Then the dialog closes, the next item is shown, and the acknowledgement is stored
    expect(dialog).to_be_hidden()
    expect(shown).to_have_text(item_text(1))
    membership.refresh_from_db()
    assert membership.acknowledged_guideline_version == 2
    assert Assignment.objects.get(annotator=annotator, item__external_id="t1").state == AssignmentState.ACTIVE


def test_when_nothing_is_left_the_page_says_so_and_the_label_controls_are_inert(page):
    from playwright.sync_api import expect

    # Given a project (k=1, three items): one labelled by someone else, one already labelled by the annotator
    project = make_project(k=1)
    add_items(project, 3)
    annotator = add_member(project, Role.ANNOTATOR)
    other = add_member(project, Role.ANNOTATOR)
    items = {item.external_id: item.pk for item in Item.objects.filter(project=project)}
    annotation_submit(project=project, user=other, data=AnnotationInput(item_id=items["t0"], labels=["neg"]))
    annotation_submit(
        project=project, user=annotator, data=AnnotationInput(item_id=items["t1"], labels=["pos"])
    )
    keys = hotkeys_of(project)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    # The only item available to them is t2
    expect(shown).to_have_text(item_text(2))

    # When they label it
    page.keyboard.press(keys["neutral"])
    page.keyboard.press("Enter")

    # Then the page says clearly that nothing is left, and the counter agrees
    empty = page.locator("#empty-state")
    expect(empty).to_be_visible()
    expect(empty.locator("h2")).to_have_text("Nothing left for you in this project")
    expect(page.locator("#progress")).to_have_text("2 done, 0 left for you")
    expect(shown).to_have_count(0)
    # And no label, skip or submit control is on screen
    expect(page.locator("#controls")).to_be_hidden()
    for value in ("pos", "neg", "neutral"):
        expect(page.locator(f".label-btn[data-value='{value}']")).to_be_hidden()
    # And their hotkeys do nothing: no selection, no new annotation
    page.keyboard.press(keys["pos"])
    page.keyboard.press("Enter")
    expect(page.locator(".label-btn.selected")).to_have_count(0)
    # A fresh load of the page lands on the same state (so any stray request above has finished)
    page.reload()
    expect(empty).to_be_visible()
    expect(page.locator("#progress")).to_have_text("2 done, 0 left for you")
    labels = dict(Annotation.objects.filter(annotator=annotator).values_list("item__external_id", "labels"))
    assert labels == {"t1": ["pos"], "t2": ["neutral"]}


def test_nothing_left_says_when_the_remaining_items_are_with_other_annotators(page):
    from playwright.sync_api import expect

    from annotation.services.queue import assignment_next_for_annotator

    # Given a project (k=1, two items) where another annotator holds the lease on one of them
    project = make_project(k=1)
    add_items(project, 2)
    annotator = add_member(project, Role.ANNOTATOR)
    other = add_member(project, Role.ANNOTATOR)
    held = assignment_next_for_annotator(project=project, user=other)
    assert held is not None
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    expect(shown).to_have_count(1)
    # When the annotator labels the only item free for them
    page.keyboard.press(hotkeys_of(project)["pos"])
    page.keyboard.press("Enter")
    # Then nothing is left for them now, and the page explains the item the counter still shows as left
    expect(page.locator("#empty-state")).to_be_visible()
    expect(page.locator("#progress")).to_have_text("1 done, 1 left for you")
    expect(page.locator("#empty-held")).to_have_text(
        "1 item is with other annotators right now; it comes back here if they do not finish it."
    )
    assert Annotation.objects.filter(annotator=annotator).count() == 1
    assert Assignment.objects.get(pk=held.pk).state == AssignmentState.ACTIVE


def test_nothing_left_with_nothing_held_shows_no_note(page):
    from playwright.sync_api import expect

    # Given a project (k=1, one item) that nobody else holds
    project = make_project(k=1)
    add_items(project, 1)
    annotator = add_member(project, Role.ANNOTATOR)
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#item-view .item-text")).to_have_count(1)
    # When they label it
    page.keyboard.press(hotkeys_of(project)["neg"])
    page.keyboard.press("Enter")
    # Then the nothing-left state has no note about other annotators
    expect(page.locator("#progress")).to_have_text("1 done, 0 left for you")
    expect(page.locator("#empty-state")).to_be_visible()
    expect(page.locator("#empty-held")).to_be_hidden()


def test_the_counter_is_kept_locally_between_items_and_matches_the_server_when_it_refreshes(page):
    from playwright.sync_api import expect

    # Given a project (k=1, six items) and an annotator whose page records every /progress/ request
    project = make_project(k=1)
    add_items(project, 6)
    annotator = add_member(project, Role.ANNOTATOR)
    progress_calls = []
    page.on(
        "request", lambda request: progress_calls.append(request.url) if "/progress/" in request.url else None
    )
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    progress = page.locator("#progress")
    # The item on screen is still left for them, as on the project page: all six
    expect(progress).to_have_text("0 done, 6 left for you, this one included")
    assert len(progress_calls) == 1
    key = hotkeys_of(project)["neg"]

    # When they label two items and skip one
    for n in range(2):
        expect(page.locator("#item-view .item-text")).to_have_text(item_text(n))
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        expect(progress).to_have_text(f"{n + 1} done, {5 - n} left for you, this one included")
    expect(page.locator("#item-view .item-text")).to_have_text(item_text(2))
    page.keyboard.press("s")
    expect(page.locator("#item-view .item-text")).to_have_text(item_text(3))

    # Then the counter moved without asking the server again: a skip takes an item off "left" but adds no "done"
    expect(progress).to_have_text("2 done, 3 left for you, this one included")
    assert len(progress_calls) == 1
    # And the local count equals what the server reports for the annotator now (items 3, 4, 5)
    assert progress_for(project, annotator) == {"done": 2, "left": 3}

    # When they label the remaining three items, the queue runs dry and the page asks the server once more
    for n in range(3, 6):
        expect(page.locator("#item-view .item-text")).to_have_text(item_text(n))
        page.keyboard.press(key)
        page.keyboard.press("Enter")
    expect(page.locator("#empty-state")).to_be_visible()
    expect(progress).to_have_text("5 done, 0 left for you")
    assert len(progress_calls) == 2


def progress_for(project, user) -> dict[str, int]:
    from annotation.selectors import progress_for_annotator

    return progress_for_annotator(project=project, user=user)
