"""The create form's Multi label box shows for classification task types and hides (unticked) for span and box
ones, in headless Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_multi_label_box_follows_the_task_type(page):
    user = UserFactory(project_creator=True)
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)

    page.goto("/projects/new/")
    page.select_option("#id_task_type", "text_classification")
    expect(page.locator("#id_multi_label")).to_be_visible()
    page.check("#id_multi_label")

    page.select_option("#id_task_type", "text_spans")
    expect(page.locator("#id_multi_label")).to_be_hidden()
    expect(page.locator("#id_multi_label")).not_to_be_checked()

    page.select_option("#id_task_type", "image_boxes")
    expect(page.locator("#id_multi_label")).to_be_hidden()

    page.select_option("#id_task_type", "image_classification")
    expect(page.locator("#id_multi_label")).to_be_visible()
