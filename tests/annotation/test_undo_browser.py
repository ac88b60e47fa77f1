"""Going back on the labelling page in headless Chromium: Backspace shows the annotator's previous item with their
own label selected; changing it stores a superseding annotation. Waits are Playwright expectations, never sleeps."""

import pytest

from annotation.models import Annotation, Item, Role
from tests.annotation.test_browser_annotate import log_in
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def item_text(n: int) -> str:
    return f"text number {n}"  # what tests.factories.add_items stores as the text of item t<n>


def selected_values(page) -> list[str]:
    return sorted(page.locator(".label-btn.selected").evaluate_all("els => els.map((e) => e.dataset.value)"))


def test_backspace_shows_the_last_item_with_own_label_and_a_change_supersedes_it(page, api):
    from playwright.sync_api import expect

    # Given an annotator on the labelling page of a project (k=1, five items)
    project = make_project(k=1)
    add_items(project, 5)
    annotator = add_member(project, Role.ANNOTATOR)
    keys = dict(project.labels.values_list("value", "hotkey"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#item-view .item-text")
    expect(page.locator("#back-btn")).to_contain_text("Backspace")
    # (nothing to go forward to on the item the queue served)
    expect(page.locator("#forward-btn")).to_be_hidden()

    # When they label three items pos by hotkey
    for n in range(3):
        expect(shown).to_have_text(item_text(n))
        page.keyboard.press(keys["pos"])
        page.keyboard.press("Enter")
    expect(shown).to_have_text(item_text(3))

    # And press Backspace
    page.keyboard.press("Backspace")
    # Then the third item is back on screen with their own label selected, marked as going back
    expect(shown).to_have_text(item_text(2))
    expect(page.locator("#back-banner")).to_be_visible()
    expect(page.locator("#forward-btn")).to_be_visible()
    assert selected_values(page) == ["pos"]

    # When they go back once more and forward again, they are on the third item again
    page.keyboard.press("Backspace")
    expect(shown).to_have_text(item_text(1))
    page.keyboard.press("Shift+Backspace")
    expect(shown).to_have_text(item_text(2))

    # When they change the label to neg and press Enter
    page.keyboard.press(keys["neg"])
    assert selected_values(page) == ["neg"]
    page.keyboard.press("Enter")
    # Then they are back on the item the queue served them, and can continue labelling it
    expect(page.locator("#status-line")).to_have_text("Change saved.")
    expect(page.locator("#back-banner")).to_be_hidden()
    expect(shown).to_have_text(item_text(3))
    page.keyboard.press(keys["pos"])
    page.keyboard.press("Enter")
    expect(shown).to_have_text(item_text(4))

    # And the API shows the changed label for that item, still one live annotation by them on it
    t2 = Item.objects.get(project=project, external_id="t2")
    assert list(Annotation.objects.filter(item=t2, is_live=True).values_list("annotator_id", "labels")) == [
        (annotator.pk, ["neg"])
    ]
    assert Annotation.objects.filter(item=t2).count() == 2
    recent = api(annotator).get(f"/api/projects/{project.pk}/my-recent/").json()
    assert [(row["item"]["external_id"], row["label"]) for row in recent] == [
        ("t3", "pos"),
        ("t2", "neg"),
        ("t1", "pos"),
        ("t0", "pos"),
    ]
