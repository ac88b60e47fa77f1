"""Blind labelling in headless Chromium: on every demo project the labelling page shows an annotator the item's
content and none of its external id or tags (the data owner's, which in general may name the answer: a tag
"module:math"). Managers still read them through the item endpoints."""

import pytest

from annotation.models import Item, Project
from ingress.demo.media import AUDIO_PROJECT, IMAGE_PROJECT, seed_audio_project, seed_image_project
from ingress.demo.seed import DEMO_PASSWORD, TEXT_PROJECT, seed_text_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Everything the page puts in an attribute inside the item view (an image's alt and title, a media src).
ATTRIBUTES_IN_VIEW = "els => els.flatMap(e => Array.from(e.attributes, a => a.value))"


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def open_first_item(page, project: Project) -> Item:
    """Open the labelling page, acknowledging the guideline if asked; returns the item the page was served."""
    with page.expect_response(
        lambda r: r.url.endswith(f"/api/projects/{project.pk}/next/") and r.status == 200
    ) as served:
        page.goto(f"/projects/{project.pk}/label/")
        page.wait_for_function(
            "document.querySelector('#item-view').children.length > 0 || !document.querySelector('#ack-dialog').hidden"
        )
        if page.locator("#ack-dialog").is_visible():
            page.click("#ack-btn")
    page.wait_for_function("document.querySelector('#item-view').children.length > 0")
    return Item.objects.get(pk=served.value.json()["item"]["id"])


def test_annotators_see_no_external_id_or_tag_on_any_demo_project(page, media_roots, api, artifacts_dir):
    from playwright.sync_api import expect

    # Given the three demo projects (the media ones cut down), whose ids and tags name the answers
    seed_text_project(simulate_fraction=0.0)
    seed_image_project(n_images=30)
    seed_audio_project(per_label=5)
    log_in(page, "alice")
    for name in (TEXT_PROJECT, IMAGE_PROJECT, AUDIO_PROJECT):
        project = Project.objects.get(name=name)
        # When the annotator opens its labelling page
        item = open_first_item(page, project)
        assert item.external_id and item.tags, "the demo item should have an id and tags to hide"
        # Then the item's content is shown
        if project.task_type == "text_classification":
            expect(page.locator("#item-view .item-text")).to_have_text(item.text)
        elif project.task_type == "image_classification":
            expect(page.locator("#item-image")).to_have_attribute("src", f"/media/items/{item.pk}/")
        else:
            expect(page.locator("#item-audio")).to_have_attribute("src", f"/media/items/{item.pk}/")
        page.screenshot(path=str(artifacts_dir / f"blind_label_{project.task_type}.png"), full_page=True)
        # and its external id is nowhere on the page, neither in its text nor in its markup
        assert item.external_id not in page.locator("body").inner_text(), name
        assert item.external_id not in page.content(), name
        # nor is any of its tags, beside the item or in an attribute of what shows it
        beside = page.locator(".labeller .work").inner_text().replace(item.text or "", "")
        attributes = page.eval_on_selector_all("#item-view *", ATTRIBUTES_IN_VIEW)
        for tag in item.tags:
            assert tag not in beside, (name, tag, beside)
            assert not any(tag in value for value in attributes), (name, tag, attributes)
        # While the project's manager still reads both on the item
        detail = api(project.memberships.get(role="manager").user).get(
            f"/api/projects/{project.pk}/items/{item.pk}/"
        )
        assert detail.status_code == 200
        assert (detail.json()["item"]["external_id"], detail.json()["item"]["tags"]) == (
            item.external_id,
            item.tags,
        )
