"""The labelling page in headless Chromium: hotkeys label items, the progress counter moves, managers see counts."""

import pytest

from annotation.models import Annotation, Role
from tests.factories import PASSWORD, UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_annotator_labels_three_items_by_hotkey_and_the_manager_sees_the_counts(
    page, browser, live_server, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a project (k=1, 5 items) with an annotator
    manager = UserFactory(username="maria")
    project = make_project(manager=manager, k=1)
    add_items(project, 5)
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="annie"))
    hotkey = project.labels.get(value="neg").hotkey
    # When the annotator opens the labelling page and labels three items with the hotkey then Enter
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    progress = page.locator("#progress")
    expect(progress).to_contain_text("0 done")
    for done in range(1, 4):
        expect(page.locator("#item-view .item-text")).to_be_visible()
        page.keyboard.press(hotkey)
        expect(page.locator(".label-btn[data-value='neg']")).to_have_class("label-btn selected")
        page.keyboard.press("Enter")
        # Then the progress counter moves with each submission
        expect(progress).to_contain_text(f"{done} done")
    page.screenshot(path=str(artifacts_dir / "browser_annotate_annotator.png"), full_page=True)
    assert (
        list(Annotation.objects.filter(annotator=annotator).values_list("labels", flat=True)) == [["neg"]] * 3
    )
    # And the manager, in a separate session, sees three labelled items on the project page
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    try:
        manager_page = context.new_page()
        manager_page.set_default_timeout(15000)
        log_in(manager_page, manager.username)
        manager_page.goto(f"/projects/{project.pk}/")
        counts = manager_page.locator("#status-counts")
        expect(counts.locator("tr[data-status='labelled'] td")).to_have_text("3")
        expect(counts.locator("tr[data-status='in_progress'] td")).to_have_text("1")
        expect(counts.locator("tr[data-status='new'] td")).to_have_text("1")
        expect(counts.locator("tr[data-status='total'] td")).to_have_text("5")
        manager_page.screenshot(path=str(artifacts_dir / "browser_annotate_manager.png"), full_page=True)
    finally:
        context.close()


def test_project_page_and_labelling_page_count_the_same_items_left_for_you(page):
    from playwright.sync_api import expect

    from annotation.services.annotations import AnnotationInput, annotation_submit
    from annotation.services.queue import assignment_next_for_annotator
    from ingress.services.bulk import item_bulk_create

    # Given a project (k=2, items t0..t5, one gold item and no gold rate, so gold is never served) where two
    # other annotators labelled t0 (full), one also labelled t1, and the other holds a live lease on t1
    project = make_project(k=2)
    add_items(project, 6)
    item_bulk_create(project=project, rows=[{"external_id": "g0", "text": "gold", "gold_label": "pos"}])
    first, second = add_member(project), add_member(project)
    for user, n_items in ((first, 2), (second, 1)):
        for _ in range(n_items):
            lease = assignment_next_for_annotator(project=project, user=user)
            annotation_submit(
                project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
            )
    held = assignment_next_for_annotator(project=project, user=second)
    assert held.item.external_id == "t1"
    annotator = add_member(project, Role.ANNOTATOR, user=UserFactory(username="lena"))
    # By hand, left for lena: t1 (one vote of two, another's lease does not take it off), t2, t3, t4, t5 = 5
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/")
    expect(page.locator("[data-figure='progress-left']")).to_have_text("5")
    # When she opens the labelling page, the item on screen is one of those five
    page.goto(f"/projects/{project.pk}/label/")
    progress = page.locator("#progress")
    expect(page.locator("#item-view .item-text")).to_have_text("text number 2")
    expect(progress).to_have_text("0 done, 5 left for you, this one included")
    # When she labels it and t3 comes up, both pages say four (t3 on screen, t4, t5, t1)
    page.keyboard.press(project.labels.get(value="neg").hotkey)
    page.keyboard.press("Enter")
    expect(page.locator("#item-view .item-text")).to_have_text("text number 3")
    expect(progress).to_have_text("1 done, 4 left for you, this one included")
    page.goto(f"/projects/{project.pk}/")
    expect(page.locator("[data-figure='progress-done']")).to_have_text("1")
    expect(page.locator("[data-figure='progress-left']")).to_have_text("4")
