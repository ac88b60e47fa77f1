"""The review page in headless Chromium: Relabel is disabled and explained on an item every annotator has already
been served, and live (with how many annotators can still take it) once someone new joins."""

import pytest

from annotation.models import Item, ItemStatus, Role
from annotation.services.projects import membership_set
from quality.models import ReviewDecision
from tests.factories import UserFactory
from tests.quality.test_review_browser import log_in
from tests.quality.test_review_relabel_takers import NOBODY_LEFT, both_seen_by_everyone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_relabel_button_is_disabled_with_nobody_left_and_live_after_a_new_annotator_joins(
    page, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a k=2 item both annotators of the project have labelled
    project, items, reviewer = both_seen_by_everyone()
    url = f"/projects/{project.pk}/review/items/{items['t0'].pk}/"
    log_in(page, reviewer.username)
    # When the reviewer opens its review page
    page.goto(url)
    # Then Relabel is disabled, and the page says why and that nobody can take it
    expect(page.locator("#relabel-btn")).to_be_disabled()
    expect(page.locator("#relabel-takers")).to_have_text("0")
    expect(page.locator("#relabel-note")).to_contain_text(NOBODY_LEFT)
    # and the r hotkey opens no dialog: it repeats the reason, and nothing is stored
    page.keyboard.press("r")
    expect(page.locator("#status-line")).to_contain_text(NOBODY_LEFT)
    expect(page.locator("#reason-dialog")).to_be_hidden()
    page.screenshot(path=str(artifacts_dir / "browser_review_relabel_nobody_left.png"), full_page=True)
    assert not ReviewDecision.objects.exists()
    # When a new annotator joins and the reviewer reloads the page
    membership_set(project=project, user_id=UserFactory().pk, role=Role.ANNOTATOR)
    page.goto(url)
    # Then Relabel is live and one annotator can still take the item
    expect(page.locator("#relabel-btn")).to_be_enabled()
    expect(page.locator("#relabel-takers")).to_have_text("1")
    # and r, Enter relabels it
    page.keyboard.press("r")
    expect(page.locator("#reason-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda current: url not in current)
    assert Item.objects.get(pk=items["t0"].pk).status == ItemStatus.IN_PROGRESS
    assert list(ReviewDecision.objects.values_list("action", flat=True)) == ["relabel"]
