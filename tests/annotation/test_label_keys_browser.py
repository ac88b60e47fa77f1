"""The labelling page's shortcuts stay out of the top bar and the project navigation: a key pressed while one of
their controls has focus does what that control does, never labels or submits."""

import pytest

from annotation.models import Annotation, Role
from tests.factories import UserFactory, add_items, add_member, make_project

from .test_browser_annotate import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_label_hotkey_and_enter_on_the_navigation_neither_pick_nor_submit_a_label(page):
    from playwright.sync_api import expect

    manager = UserFactory(username="maria")
    project = make_project(manager=manager, k=1)
    add_items(project, 3)
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="annie"))
    hotkey = project.labels.get(value="neg").hotkey
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#item-view .item-text")).to_be_visible()
    neg = page.locator(".label-btn[data-value='neg']")
    # A label hotkey pressed while the navigation's current link has focus picks nothing
    page.locator("#project-nav a[aria-current='page']").focus()
    page.keyboard.press(hotkey)
    expect(neg).not_to_have_class("label-btn selected")
    # The same key with the focus back on the page picks the label; Enter on the navigation does not submit it
    page.locator("#item-view").click()
    page.keyboard.press(hotkey)
    expect(neg).to_have_class("label-btn selected")
    page.locator("#project-nav a[aria-current='page']").focus()
    page.keyboard.press("Enter")  # follows the link to this same page
    page.wait_for_load_state("load")
    expect(page.locator("#item-view .item-text")).to_be_visible()
    assert Annotation.objects.filter(annotator=annotator).count() == 0
