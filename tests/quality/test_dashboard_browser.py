"""The dashboard in headless Chromium: it loads with its charts, is kept as a screenshot, and a bar leads to the
items behind it."""

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD
from tests.quality.dashboard_seed import seed_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_opens_the_dashboard_and_follows_a_bar_to_its_items(page, live_server, artifacts_dir):
    from playwright.sync_api import expect

    # Given a seeded project and its reviewer
    cache.clear()
    seeded = seed_project(n_items=600, seed=11, days=40, name="Street sounds")
    reviewer = seeded.reviewer
    reviewer.set_password(PASSWORD)
    reviewer.save(update_fields=["password"])
    page.goto("/login/")
    page.fill("#id_username", reviewer.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    # When the reviewer opens the project page and follows its dashboard panel
    page.goto(f"/projects/{seeded.project.pk}/")
    page.click("#open-dashboard")
    page.wait_for_url(f"**/projects/{seeded.project.pk}/dashboard/")
    # Then every chart is drawn
    for chart in (
        "#chart-status",
        "#chart-progress",
        "#chart-agreement",
        "#chart-hlp-tag",
        "#chart-confusion",
        "#chart-learning-curve",
        "#chart-flags",
        "#chart-discards",
    ):
        expect(page.locator(chart)).to_be_visible()
    expect(page.locator("#total-items")).to_have_text("600")
    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)
    # When they click the "needs_review" bar
    bar = page.locator('#chart-status a[data-label="needs_review"]')
    shown = int(bar.get_attribute("data-value"))
    assert shown == seeded.status_counts["needs_review"] > 0
    bar.locator("rect").click()
    # Then the items page lists exactly those items
    page.wait_for_url("**/items/?status=needs_review")
    expect(page.locator("#item-count strong")).to_have_text(str(shown))
    expect(page.locator('#item-count [data-filter="status"]')).to_contain_text("needs_review")
    cells = page.locator("#item-table tbody tr td:nth-child(2)")
    statuses = cells.all_inner_texts()
    # shown in words, with the status code kept for scripts
    assert statuses and set(statuses) == {"needs review"}
    assert {cells.nth(i).get_attribute("data-status") for i in range(cells.count())} == {"needs_review"}
    page.screenshot(path=str(artifacts_dir / "dashboard-items.png"), full_page=True)
