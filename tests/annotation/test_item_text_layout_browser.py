"""Layout of an item's text in headless Chromium: on the labelling page and on the review page the controls follow
the text closely (no empty band below a short text), and the review page names the item's status in words."""

import pytest

from annotation.models import Item, ItemStatus, Role
from tests.factories import PASSWORD, UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The item view's own padding plus the label buttons' margin: what separates text and controls by design.
MAX_GAP_PX = 32


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def gap_below(page, upper: str, lower: str) -> float:
    """Pixels between the bottom of ``upper`` and the top of the next visible ``lower``."""
    top = page.locator(lower).first.bounding_box()["y"]
    box = page.locator(upper).first.bounding_box()
    return top - (box["y"] + box["height"])


def test_a_short_text_is_followed_by_its_controls_on_the_labelling_and_review_pages(page, artifacts_dir):
    from playwright.sync_api import expect

    # Given a text project with a one-line item, an annotator and a reviewer
    manager = UserFactory(username="mona")
    project = make_project(manager=manager, k=1)
    add_items(project, 2)
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="abel"))
    # When the annotator opens the labelling page
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#item-view .item-text")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "layout_label.png"), full_page=True)
    # Then the label buttons follow the text without an empty band
    assert gap_below(page, "#item-view .item-text", "#label-buttons") <= MAX_GAP_PX

    # Given the first item waiting for review
    item = Item.objects.filter(project=project).order_by("id").first()
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.NEEDS_REVIEW)
    page.context.clear_cookies()
    log_in(page, manager.username)
    # When the manager opens it on the review page
    page.goto(f"/projects/{project.pk}/review/items/{item.pk}/")
    page.screenshot(path=str(artifacts_dir / "layout_review.png"), full_page=True)
    # Then the reasons line follows the text without an empty band, and the status reads in words
    assert gap_below(page, ".item-view .item-text", "#reasons") <= MAX_GAP_PX
    expect(page.locator("#item-status")).to_have_text("needs review")
    expect(page.locator("#item-status")).to_have_attribute("data-status", "needs_review")
