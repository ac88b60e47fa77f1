"""The guideline acknowledgement dialog on the labelling page, driven by keyboard only in headless Chromium: it
says whether it is a first read or a change (with the changed lines), takes focus, answers Enter, keeps Tab
inside itself, and asks once per version."""

import pytest

from annotation.models import Membership, Role
from annotation.services.projects import guideline_create
from tests.annotation.test_browser_annotate import log_in
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused_inside_dialog(page) -> bool:
    return page.evaluate("document.getElementById('ack-dialog').contains(document.activeElement)")


def test_guideline_dialog_by_keyboard_first_read_then_a_change_with_its_diff(page):
    from playwright.sync_api import expect

    # Given a project with guideline v1 and an annotator who never acknowledged it
    manager = UserFactory()
    project = make_project(manager=manager, k=1)
    add_items(project, 3)
    annotator = add_member(project, Role.ANNOTATOR)
    Membership.objects.filter(project=project, user=annotator).update(acknowledged_guideline_version=0)
    log_in(page, annotator.username)

    # When they open the labelling page
    page.goto(f"/projects/{project.pk}/label/")
    dialog = page.locator("#ack-dialog")
    shown = page.locator("#item-view .item-text")
    # Then the dialog says it is a first read, and its button has the focus
    expect(dialog).to_be_visible()
    expect(page.locator("#ack-title")).to_have_text("Guideline v1 — please read before labelling")
    expect(page.locator("#ack-btn")).to_be_focused()
    # And Tab, forwards and backwards, never leaves it (the button is its only control on a first read)
    for key in ("Tab", "Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        assert focused_inside_dialog(page), key
    expect(page.locator("#ack-btn")).to_be_focused()

    # When they press Enter
    page.keyboard.press("Enter")
    # Then the acknowledgement is stored and the first item comes
    expect(dialog).to_be_hidden()
    expect(shown).to_have_text("text number 0")
    assert Membership.objects.get(project=project, user=annotator).acknowledged_guideline_version == 1

    # When the page is opened again, the same version is not asked for again
    page.reload()
    expect(shown).to_have_text("text number 0")
    expect(dialog).to_be_hidden()

    # When the manager publishes v2 with one changed line and the page is opened again
    guideline_create(
        project=project,
        author=manager,
        body="# Rules\nLabel the **overall** sentiment.\nSarcasm counts as neg.",
        change_note="Sarcasm rule",
    )
    page.reload()
    # Then the dialog names the change from v1 to v2 and shows the added line
    expect(dialog).to_be_visible()
    expect(page.locator("#ack-title")).to_have_text("The guideline changed (v1 → v2)")
    expect(page.locator("#ack-diff .insert")).to_have_text("added: + Sarcasm counts as neg.")
    expect(page.locator("#ack-diff-counts")).to_contain_text("1 added, 0 removed, 0 changed lines")
    expect(page.locator("#ack-btn")).to_be_focused()
    # And Tab cycles through its three controls (side-by-side link, full text, button) and back to the button
    for _ in range(3):
        page.keyboard.press("Tab")
        assert focused_inside_dialog(page)
    expect(page.locator("#ack-btn")).to_be_focused()
    # And Enter acknowledges v2
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(shown).to_be_visible()
    assert Membership.objects.get(project=project, user=annotator).acknowledged_guideline_version == 2


def test_first_visit_and_a_changed_guideline_ask_before_next_so_no_request_fails(page):
    from playwright.sync_api import expect

    # Given an annotator who never acknowledged v1
    manager = UserFactory()
    project = make_project(manager=manager, k=1)
    add_items(project, 2)
    annotator = add_member(project, Role.ANNOTATOR)
    Membership.objects.filter(project=project, user=annotator).update(acknowledged_guideline_version=0)
    errors, failed, nexts = [], [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: nexts.append(r.url) if r.url.endswith("/next/") else None)
    log_in(page, annotator.username)
    # When they open the labelling page
    page.goto(f"/projects/{project.pk}/label/")
    # Then the dialog asks first, and next is not called until they acknowledge
    expect(page.locator("#ack-dialog")).to_be_visible()
    assert nexts == []
    page.keyboard.press("Enter")
    expect(page.locator("#item-view .item-text")).to_have_text("text number 0")
    assert len(nexts) == 1

    # When v2 is published and the page is opened again, the dialog names the change, again before next
    guideline_create(
        project=project, author=manager, body="# Rules\nSarcasm counts as neg.", change_note="Sarcasm"
    )
    nexts.clear()
    page.reload()
    expect(page.locator("#ack-dialog")).to_be_visible()
    expect(page.locator("#ack-text")).to_have_text(
        "The guideline changed (version 2: Sarcasm). Read and acknowledge it before the next item."
    )
    assert nexts == []
    page.keyboard.press("Enter")
    expect(page.locator("#item-view .item-text")).to_be_visible()
    # And no request failed and nothing was logged as an error along the way
    assert failed == [] and errors == []
