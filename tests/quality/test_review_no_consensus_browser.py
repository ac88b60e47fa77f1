"""An item in review that nobody has voted on: Accept is refused in the page with its reason, before any request,
and takes the label the reviewer then chooses."""

import pytest

from annotation.models import Item, ItemStatus, Role
from tests.factories import UserFactory, add_member
from tests.quality.review_helpers import review_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accept_without_a_consensus_is_refused_in_the_page_with_no_failing_request(page, artifacts_dir):
    from playwright.sync_api import expect

    # Given an item in review with no votes and so no consensus label
    project, items, _, _ = review_project([["pos", "neg"], [None, None]])
    bare = items[1]
    assert bare.consensus_label is None
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="nova"))
    errors, failed, review_posts = [], [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on(
        "request",
        lambda r: review_posts.append(r.url) if r.method == "POST" and "/reviews/" in r.url else None,
    )
    log_in(page, reviewer.username)
    # When the reviewer opens it
    page.goto(f"/projects/{project.pk}/review/items/{bare.pk}/")
    # Then the page says before any click why Accept needs a label, and ties the note to the button
    note = page.locator("#must-choose")
    expect(note).to_contain_text("no consensus label yet")
    expect(note).to_contain_text("choose the final label")
    expect(page.locator("#accept-btn")).to_have_attribute("aria-describedby", "must-choose")
    page.screenshot(path=str(artifacts_dir / "review_no_consensus.png"), full_page=True)
    # When they press Accept with no label chosen, the page refuses without a request
    page.locator("#accept-btn").click()
    expect(page.locator("#status-line")).to_contain_text("Choose a label first")
    assert review_posts == [] and failed == [] and errors == []
    # When they choose "neg" and accept, the label is stored
    page.locator(".label-btn[data-value='neg']").click()
    page.locator("#accept-btn").click()
    page.wait_for_url(lambda url: f"/review/items/{bare.pk}/" not in url)
    bare.refresh_from_db()
    assert (bare.status, bare.final_label) == (ItemStatus.ACCEPTED, "neg")
    assert len(review_posts) == 1 and failed == [] and errors == []
    assert Item.objects.filter(pk=items[0].pk, status=ItemStatus.NEEDS_REVIEW).exists()
