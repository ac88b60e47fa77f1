"""In headless Chromium: on an item where the model overrode the annotators, Enter/a (Accept) and bulk accept never
take a label nobody voted for; the reviewer sees the votes, the suggestion and what "confidence" means, and
takes the suggestion only by choosing it."""

import pytest

from annotation.models import Item, ItemStatus, Role
from quality.models import ReviewDecision
from tests.factories import UserFactory, add_member
from tests.quality.consensus_override import overridden_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accept_and_bulk_accept_never_take_the_models_unvoted_label(page, artifacts_dir):
    from playwright.sync_api import expect

    # Given t0 (votes network, network, math; model 0.98 on concurrency) and t1 (math × 3), both in review
    project, items, _ = overridden_project(extra_votes=[["math", "math", "math"]])
    Item.objects.filter(pk=items[1].pk).update(
        status=ItemStatus.NEEDS_REVIEW, issue_kinds=["annotators_split"]
    )
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="rosa"))
    log_in(page, reviewer.username)
    # When the reviewer opens t0
    page.goto(f"/projects/{project.pk}/review/items/{items[0].pk}/")
    # Then the consensus is the voted "network" with its votes, the model's "concurrency" is a separate
    # suggestion, and the confidence is explained
    expect(page.locator("#consensus-label")).to_have_text("network")
    expect(page.locator("#consensus-votes")).to_have_text("(2 of 3 votes)")
    expect(page.locator("#vote-counts")).to_contain_text("math")
    expect(page.locator("#suggestion-label")).to_have_text("concurrency")
    expect(page.locator("#confidence-meaning")).to_contain_text("probability that the consensus is right")
    page.screenshot(path=str(artifacts_dir / "browser_review_override.png"), full_page=True)
    # When the reviewer presses Enter, then a, without choosing a label
    page.keyboard.press("Enter")
    expect(page.locator("#status-line")).to_contain_text("Choose a label first")
    page.keyboard.press("a")
    expect(page.locator("#status-line")).to_contain_text("Choose a label first")
    # Then nothing was decided and the page stayed
    assert page.url.endswith(f"/review/items/{items[0].pk}/")
    assert not ReviewDecision.objects.filter(item=items[0]).exists()

    # When the reviewer bulk-accepts the whole queue with "consensus label"
    page.goto(f"/projects/{project.pk}/review/")
    page.select_option("#bulk-form select[name=action]", "accept")
    page.select_option("#bulk-form select[name=final_label]", "")
    page.click("#bulk-form button[type=submit]")
    # Then the confirmation leaves t0 out and names it
    expect(page.locator("#bulk-left-out")).to_contain_text(items[0].external_id)
    expect(page.locator("#bulk-confirm-btn")).to_contain_text("1 item")
    page.click("#bulk-confirm-btn")
    page.wait_for_url(f"**/projects/{project.pk}/review/")
    # and only t1 was accepted, as its consensus
    stored = {item.pk: item for item in Item.objects.filter(project=project)}
    assert (stored[items[1].pk].status, stored[items[1].pk].final_label) == (ItemStatus.ACCEPTED, "math")
    assert (stored[items[0].pk].status, stored[items[0].pk].final_label) == (ItemStatus.NEEDS_REVIEW, None)

    # When the reviewer chooses the suggestion explicitly on t0 and accepts
    page.goto(f"/projects/{project.pk}/review/items/{items[0].pk}/")
    page.click(".label-btn[data-value='concurrency']")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/review/items/{items[0].pk}/" not in url)
    # Then that choice is stored
    item = Item.objects.get(pk=items[0].pk)
    assert (item.status, item.final_label) == (ItemStatus.ACCEPTED, "concurrency")
