"""The version page's "Get a download link" control, in headless Chromium: the link it shows downloads the
export without any header, byte for byte the export a signed-in reviewer gets, and says when it expires."""

import urllib.request
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from annotation.models import Role
from tests.datasets.builders import freeze, labelled_items
from tests.factories import PASSWORD, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_download_link_made_in_the_page_downloads_the_export_without_headers(page, live_server):
    from playwright.sync_api import expect

    # Given a frozen version with three splits and a reviewer on its page
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 30, "neg": 70})
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    reviewer = add_member(project, Role.REVIEWER)
    page.goto("/login/")
    page.fill("input[name=username]", reviewer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"/projects/{project.pk}/datasets/{version.pk}/")

    # When they ask for a one-day link to the CSV of the train split
    page.select_option("#link-format", "csv")
    page.select_option("#link-split", "train")
    page.select_option("#link-lifetime", "86400")
    before = timezone.now()
    page.click("#export-link-form button[type=submit]")
    expect(page.locator("#export-link-result")).to_be_visible()
    after = timezone.now()

    # Then the page shows a URL that downloads, with no cookie or header, the same bytes as the signed-in export
    url = page.input_value("#export-link-url")
    assert url.startswith(live_server.url) and "train" in url
    with urllib.request.urlopen(urllib.request.Request(url)) as response:  # noqa: S310 - the test server's own URL
        downloaded = response.read()
    client = Client()
    assert client.login(username=reviewer.username, password=PASSWORD)
    signed_in = client.get(f"/api/dataset-versions/{version.pk}/export/?format=csv&split=train")
    expected = b"".join(signed_in.streaming_content) if signed_in.streaming else signed_in.content
    assert signed_in.status_code == 200 and downloaded == expected
    # 60 train rows (60 % of 100) below the header
    assert len(downloaded.decode().strip().splitlines()) == 61
    # And it expires a day after it was made
    expires_at = datetime.fromisoformat(
        page.get_attribute("#export-link-expiry", "data-expires-at").replace("Z", "+00:00")
    )
    assert (
        before + timedelta(days=1) - timedelta(seconds=1)
        <= expires_at
        <= after + timedelta(days=1) + timedelta(seconds=1)
    )
    expect(page.locator("#export-link-expiry")).to_contain_text("expires")
