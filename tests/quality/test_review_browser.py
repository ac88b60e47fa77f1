"""The review flow in headless Chromium: a reviewer opens the queue, accepts one item by hotkey, discards another
with a reason, and the counts and item statuses change."""

import pytest

from annotation.models import Item, ItemStatus, Role
from quality.models import ReviewDecision
from tests.factories import PASSWORD, UserFactory, add_member
from tests.quality.review_helpers import review_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_reviewer_accepts_by_hotkey_and_discards_with_a_reason(page, artifacts_dir):
    from playwright.sync_api import expect

    # Given three items in review, most severe first: t1 (0.9), t0 (0.6), t2 (0.3)
    project, items, _, _ = review_project(
        [["pos", "pos", "neg"], ["neg", "neutral", "neg"], ["pos", "neg", "neutral"]],
        severities=[0.6, 0.9, 0.3],
    )
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="rita"))
    neg_key = project.labels.get(value="neg").hotkey
    # When the reviewer opens the queue
    log_in(page, reviewer.username)
    page.goto(f"/projects/{project.pk}/review/")
    expect(page.locator("#queue-total")).to_have_text("3")
    expect(page.locator("#queue-table tbody tr").first).to_have_attribute("data-item", str(items[1].pk))
    # and opens the first item with Enter, selects "neg" with its hotkey and accepts with Enter
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/items/{items[1].pk}/")
    expect(page.locator("#item-status")).to_have_text("needs review")
    page.keyboard.press(neg_key)
    expect(page.locator(".label-btn[data-value='neg']")).to_have_class("label-btn selected")
    page.keyboard.press("Enter")
    # Then the page moves on to the next item in the queue
    page.wait_for_url(f"**/review/items/{items[0].pk}/")
    # When the reviewer presses d, gives a reason and confirms
    page.keyboard.press("d")
    expect(page.locator("#reason-dialog")).to_be_visible()
    page.keyboard.press("Enter")  # an empty reason is refused in the page
    expect(page.locator("#reason-error")).to_have_text("A reason is required.")
    page.locator("#reason-presets .preset[data-reason='out of scope']").click()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/items/{items[2].pk}/")
    page.screenshot(path=str(artifacts_dir / "browser_review_item.png"), full_page=True)
    # Then back on the queue one item is left and the status counts moved
    page.goto(f"/projects/{project.pk}/review/")
    expect(page.locator("#queue-total")).to_have_text("1")
    expect(page.locator("#status-counts td[data-status='accepted']")).to_have_text("1")
    expect(page.locator("#status-counts td[data-status='discarded']")).to_have_text("1")
    expect(page.locator("#status-counts td[data-status='needs_review']")).to_have_text("1")
    page.screenshot(path=str(artifacts_dir / "browser_review_queue.png"), full_page=True)
    # and the items carry the decisions
    stored = {item.pk: item for item in Item.objects.filter(project=project)}
    assert (stored[items[1].pk].status, stored[items[1].pk].final_label) == (ItemStatus.ACCEPTED, "neg")
    assert stored[items[0].pk].status == ItemStatus.DISCARDED
    assert stored[items[2].pk].status == ItemStatus.NEEDS_REVIEW
    discard = ReviewDecision.objects.get(item=items[0])
    assert (discard.action, discard.reason, discard.reviewer_id) == ("discard", "out of scope", reviewer.pk)
