"""The labelling page in headless Chromium: hotkeys label items, the progress counter moves, managers see counts."""

import pytest

from annotation.models import Annotation, Role
from tests.factories import PASSWORD, UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_annotator_labels_three_items_by_hotkey_and_the_manager_sees_the_counts(
    page, browser, live_server, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a project (k=1, 5 items) with an annotator
    manager = UserFactory(username="maria")
    project = make_project(manager=manager, k=1)
    add_items(project, 5)
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="annie"))
    hotkey = project.labels.get(value="neg").hotkey
    # When the annotator opens the labelling page and labels three items with the hotkey then Enter
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    progress = page.locator("#progress")
    expect(progress).to_contain_text("0 done")
    for done in range(1, 4):
        expect(page.locator("#item-view .item-text")).to_be_visible()
        page.keyboard.press(hotkey)
        expect(page.locator(".label-btn[data-value='neg']")).to_have_class("label-btn selected")
        page.keyboard.press("Enter")
        # Then the progress counter moves with each submission
        expect(progress).to_contain_text(f"{done} done")
    page.screenshot(path=str(artifacts_dir / "browser_annotate_annotator.png"), full_page=True)
    assert list(Annotation.objects.filter(annotator=annotator).values_list("labels", flat=True)) == [["neg"]] * 3
    # And the manager, in a separate session, sees three labelled items on the project page
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    try:
        manager_page = context.new_page()
        manager_page.set_default_timeout(15000)
        log_in(manager_page, manager.username)
        manager_page.goto(f"/projects/{project.pk}/")
        counts = manager_page.locator("#status-counts")
        expect(counts.locator("tr[data-status='labelled'] td")).to_have_text("3")
        expect(counts.locator("tr[data-status='in_progress'] td")).to_have_text("1")
        expect(counts.locator("tr[data-status='new'] td")).to_have_text("1")
        expect(counts.locator("tr[data-status='total'] td")).to_have_text("5")
        manager_page.screenshot(path=str(artifacts_dir / "browser_annotate_manager.png"), full_page=True)
    finally:
        context.close()
