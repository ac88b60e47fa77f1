"""Label colours on the pages, in headless Chromium: the project page and the Labels page show each label's
colour; a manager changes one on the Labels page and the API then gives it; a colour not written #rrggbb is
refused with the field error in words, and nothing changes."""

import pytest

from annotation.models import Label, Role
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rgb(hex_colour: str) -> str:
    n = int(hex_colour[1:], 16)
    return f"rgb({n >> 16}, {(n >> 8) & 255}, {n & 255})"


def test_manager_changes_a_label_colour_on_the_labels_page(page, api, artifacts_dir):
    from playwright.sync_api import expect

    # Given a span project whose PER label was given #aa3300 and whose LOC label was given none
    manager = UserFactory(username="mona")
    project = make_project(manager=manager, task_type="text_spans", labels=("PER", "LOC"), k=1)
    Label.objects.filter(project=project, value="PER").update(colour="#aa3300")
    loc_palette = api(manager).get(f"/api/projects/{project.pk}/").json()["labels"][1]["colour"]
    assert loc_palette.startswith("#") and len(loc_palette) == 7

    # When the manager opens the project page, then each label chip shows its colour (own or palette)
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/")
    per_chip = page.locator("#project-labels .label-chip[data-label='PER']")
    expect(per_chip.locator(".label-swatch")).to_have_css("background-color", _rgb("#aa3300"))
    expect(page.locator("#project-labels .label-chip[data-label='LOC'] .label-swatch")).to_have_css(
        "background-color", _rgb(loc_palette)
    )

    # When they open the Labels page, then the chips show the colours too
    page.goto(f"/projects/{project.pk}/labels/")
    row = page.locator("#active-labels tr[data-label='LOC']")
    expect(row.locator(".label-swatch")).to_have_css("background-color", _rgb(loc_palette))
    field = page.get_by_label("colour of LOC (#rrggbb)")
    expect(field).to_have_value(loc_palette)

    # When they type a colour that is not #rrggbb and save
    field.fill("blue")
    row.get_by_role("button", name="Save colour").click()
    # Then the field error says why in words, and the label keeps its colour
    expect(row.locator(".label-colour-error")).to_have_text(
        "A colour is written #rrggbb (six hex digits), not 'blue'."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    assert Label.objects.get(project=project, value="LOC").colour == ""

    # When they write a proper colour (upper case) and save
    field.fill("#1F77B4")
    row.get_by_role("button", name="Save colour").click()
    expect(row.locator(".label-colour-error")).to_have_text("Saved.")
    # Then the chip takes it, and the API gives it, stored lower-case
    expect(row.locator(".label-swatch")).to_have_css("background-color", _rgb("#1f77b4"))
    page.screenshot(path=str(artifacts_dir / "labels_page_colours.png"), full_page=True)
    shown = api(manager).get(f"/api/projects/{project.pk}/").json()["labels"]
    labels = {label["value"]: label["colour"] for label in shown}
    assert labels == {"PER": "#aa3300", "LOC": "#1f77b4"}
    # and the project page shows it after a reload
    page.goto(f"/projects/{project.pk}/")
    expect(page.locator("#project-labels .label-chip[data-label='LOC'] .label-swatch")).to_have_css(
        "background-color", _rgb("#1f77b4")
    )


def test_only_managers_see_the_colour_fields(page):
    from playwright.sync_api import expect

    project = make_project(labels=("pos", "neg"), k=1)
    reviewer = add_member(project, Role.REVIEWER)
    log_in(page, reviewer.username)
    page.goto(f"/projects/{project.pk}/labels/")
    expect(page.locator("#active-labels .label-chip")).to_have_count(2)
    expect(page.locator(".label-colour-form")).to_have_count(0)
