"""The items browser in headless Chromium: searching by a metadata word, filters as labelled controls, lazily
loaded thumbnails of image items, a saved filter applied again, no serious or critical axe violation, and the items page and the review queue
without sideways scroll at 390 px (kept as screenshots)."""

import base64

import pytest
from django.core.cache import cache

from annotation.models import Item
from ingress.services.bulk import item_bulk_create
from tests.factories import PASSWORD, UserFactory, make_project
from tests.ingress.ingress_fixtures import png_bytes
from tests.ui.axe import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed():
    manager = UserFactory()
    manager.set_password(PASSWORD)
    manager.save(update_fields=["password"])
    project = make_project(
        manager=manager, task_type="image_classification", labels=("cat", "dog"), name="Pets"
    )
    rows = [
        {
            "external_id": f"photo-{i}",
            "file_b64": base64.b64encode(
                png_bytes(value=40 * i + 30, size=(120, 80), pattern=i + 2)
            ).decode(),
            "file_name": f"photo-{i}.png",
            "metadata": {"place": place, "camera": "Pixel reflex"},
            "tags": ["street"] if place != "harbour" else ["sea"],
        }
        for i, place in enumerate(["market square", "harbour", "market hall"])
    ]
    result = item_bulk_create(project=project, rows=rows)
    assert result.created == 3, result
    # Two of them wait for review, so the queue has rows to lay out.
    Item.objects.filter(project=project, external_id__in=["photo-0", "photo-1"]).update(
        status="needs_review", is_label_issue=True, issue_kinds=["low_agreement"]
    )
    return manager, project


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_manager_searches_items_sees_thumbnails_and_the_pages_fit_a_phone(page, live_server, artifacts_dir):
    from playwright.sync_api import expect

    # Given an image project of three photos and its manager, signed in
    cache.clear()
    manager, project = _seed()
    page.goto("/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    # When they open the items browser
    page.goto(f"/projects/{project.pk}/items/")
    # Then the filters are labelled controls: label pickers with the project's labels, date pickers, yes/no
    expect(page.get_by_label("Search")).to_be_visible()
    assert page.locator("#id_label option").all_inner_texts() == ["any", "cat", "dog"]
    assert page.locator("#id_imported_from").get_attribute("type") == "date"
    assert page.locator("#id_has_issue option").all_inner_texts() == ["either", "yes", "no"]
    # And every image's thumbnail loads (lazily, with alt text)
    thumbs = page.locator("img.item-thumb")
    expect(thumbs).to_have_count(3)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.item-thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert thumbs.first.get_attribute("loading") == "lazy"
    assert thumbs.first.get_attribute("alt") == "Image photo-0"
    widths = page.evaluate("() => [...document.querySelectorAll('img.item-thumb')].map(i => i.naturalWidth)")
    assert widths == [96, 96, 96]  # 120×80 scaled into the 96 px box keeps its width at 96
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "items-browser.png"), full_page=True)
    # When they search for a metadata word
    page.get_by_label("Search").fill("market")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**q=market**")
    # Then only the two market photos are listed
    expect(page.locator("#item-count strong")).to_have_text("2")
    assert sorted(page.locator("#item-table tbody tr a").all_inner_texts()) == ["photo-0", "photo-2"]
    # When they save this search under a name, go back to all items and apply the saved filter
    page.fill("#saved-filter-name", "Market photos")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved the filters as “Market photos”")
    page.get_by_role("link", name="clear all").click()
    expect(page.locator("#item-count strong")).to_have_text("3")
    page.locator("#saved-filters").get_by_role("link", name="Market photos").click()
    # Then the same two photos are listed again
    expect(page.locator("#item-count strong")).to_have_text("2")
    expect(page.get_by_label("Search")).to_have_value("market")
    # And with the date pickers a span of days is a filter: nothing was imported before 2000
    page.fill("#id_imported_to", "1999-12-31")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.locator("#item-count strong")).to_have_text("0")
    # When the page is seen on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/projects/{project.pk}/items/")
    # Then it does not scroll sideways, and neither does the review queue
    assert _no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.screenshot(path=str(artifacts_dir / "items-browser-390.png"), full_page=True)
    page.goto(f"/projects/{project.pk}/review/")
    expect(page.locator("#queue-table tbody tr")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#queue-table img.item-thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert _no_sideways_scroll(page)
    box = page.locator("#queue-filters select[name=reason]").bounding_box()
    card = page.locator("#review-queue").bounding_box()
    assert box["x"] + box["width"] <= card["x"] + card["width"]
    page.screenshot(path=str(artifacts_dir / "review-queue-390.png"), full_page=True)
