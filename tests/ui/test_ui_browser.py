"""The project navigation, dark mode, the "?" overlay and the error pages in headless Chromium, at desktop and
phone widths, with axe-core finding no serious or critical accessibility violation on the main pages."""

import pytest

from annotation.models import Item, ItemStatus, Role
from tests.factories import UserFactory, add_items, add_member, make_project
from tests.quality.dashboard_seed import seed_project
from tests.ui.axe import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-the-browser"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _user(**fields):
    user = UserFactory(**fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def _log_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def _project_with_a_queue():
    """A class project: 7 items, 3 of them needing review (a queue of 3 by hand), and its manager."""
    manager = _user()
    project = make_project(manager=manager, name="Sentiment reviews")
    add_items(project, 7)
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    Item.objects.filter(pk__in=ids[:3]).update(status=ItemStatus.NEEDS_REVIEW)
    return project, manager


def _nav_count(page, key: str) -> int:
    figure = page.locator(f'#project-nav a[data-nav="{key}"] .nav-figure')
    figure.wait_for()
    return int(figure.get_attribute("data-count"))


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls {overflow}px sideways"


def test_nav_counts_are_the_apis_and_the_nav_fits_a_phone(page, api, artifacts_dir):
    # Given a project with 7 items, 3 of which need review
    project, manager = _project_with_a_queue()
    client = api(manager)
    queue = client.get(f"/api/projects/{project.pk}/review-queue/").json()["count"]
    items = client.get(f"/api/projects/{project.pk}/items/").json()["count"]
    assert (queue, items) == (3, 7)
    # When the manager opens the review queue page
    _log_in(page, manager)
    page.goto(f"/projects/{project.pk}/review/")
    # Then the nav marks Review as the current page and shows the API's counts
    current = page.locator('#project-nav [aria-current="page"]')
    assert current.get_attribute("data-nav") == "review"
    assert _nav_count(page, "review") == queue
    assert _nav_count(page, "items") == items
    # and a screen reader hears what the figure counts
    assert current.text_content().replace("Review", "", 1).strip() == "3 items in the review queue"
    # At phone width the nav scrolls inside itself and the page never sideways
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (
        "",
        "review/",
        "items/",
        "dashboard/",
        "quality/",
        "datasets/",
        "batches/",
        "labels/",
        "settings/",
    ):
        page.goto(f"/projects/{project.pk}/{path}")
        nav = page.locator("#project-nav ul")
        assert nav.evaluate("el => getComputedStyle(el).overflowX") == "auto"
        box = page.locator("#project-nav").bounding_box()
        assert box and box["width"] <= 390
        if path in ("", "items/", "settings/", "labels/", "batches/", "datasets/"):
            _no_sideways_scroll(page)
    # the current link is scrolled into the nav's view
    page.goto(f"/projects/{project.pk}/settings/")
    link = page.locator('#project-nav [aria-current="page"]').bounding_box()
    assert link and 0 <= link["x"] and link["x"] + link["width"] <= 390
    page.screenshot(path=str(artifacts_dir / "nav-phone.png"))


def test_the_shortcut_overlay_opens_on_question_mark_traps_focus_and_gives_it_back(page):
    # Given an annotator on the labelling page of a class project
    project = make_project(name="Shortcuts")
    add_items(project, 3)
    annotator = _user()
    add_member(project, Role.ANNOTATOR, user=annotator)
    _log_in(page, annotator)
    page.goto(f"/projects/{project.pk}/label/")
    page.locator(".label-btn").first.wait_for()
    # When they type "?" into the comment box, it is just text
    page.focus("#comment")
    page.keyboard.type("why?")
    assert page.locator("#shortcuts-overlay").count() == 0 or page.locator("#shortcuts-overlay").is_hidden()
    assert page.input_value("#comment") == "why?"
    # When they leave the box and press "?"
    page.keyboard.press("Escape")
    page.focus("#skip-btn")
    page.keyboard.press("?")
    overlay = page.locator("#shortcuts-overlay")
    assert overlay.is_visible()
    # Then the dialog lists the page's keys and the label hotkeys, and has focus
    text = overlay.inner_text()
    for words in (
        "Submit the answer",
        "Skip the item",
        "Show this list of shortcuts",
        "pos",
        "neg",
        "neutral",
    ):
        assert words in text, words
    assert page.evaluate("() => document.activeElement.id") == "shortcuts-close"
    # Tab stays inside the dialog, and Enter there does not submit a label
    for _ in range(3):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('#shortcuts-overlay')")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => !!document.activeElement.closest('#shortcuts-overlay')")
    # Escape closes it and gives focus back to where it was
    page.keyboard.press("Escape")
    assert overlay.is_hidden()
    assert page.evaluate("() => document.activeElement.id") == "skip-btn"
    # The top bar's "?" button opens it too, by keyboard
    page.focus("#shortcuts-open")
    page.keyboard.press("Enter")
    assert overlay.is_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement.id") == "shortcuts-open"


def _luminance(css_rgb: str) -> float:
    """WCAG 2 relative luminance of a computed ``rgb(r, g, b)`` colour."""
    channels = [
        int(part) / 255 for part in css_rgb[css_rgb.index("(") + 1 : css_rgb.index(")")].split(",")[:3]
    ]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_dark_mode_follows_the_system_setting(page, artifacts_dir):
    project, manager = _project_with_a_queue()
    _log_in(page, manager)
    page.goto(f"/projects/{project.pk}/")
    read = (
        "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color,"
        " getComputedStyle(document.querySelector('.card')).backgroundColor]"
    )
    light_bg, light_ink, _ = (_luminance(c) for c in page.evaluate(read))
    page.emulate_media(color_scheme="dark")
    dark_bg, dark_ink, dark_card = (_luminance(c) for c in page.evaluate(read))
    # A light page is light and a dark one dark (WCAG luminance, not colours read from the stylesheet), and the
    # text on either keeps AA contrast (4.5:1) against the page and the cards.
    assert light_bg > 0.8 and dark_bg < 0.05
    assert dark_card < 0.1
    assert _contrast(light_bg, light_ink) >= 4.5
    assert _contrast(dark_bg, dark_ink) >= 4.5 and _contrast(dark_card, dark_ink) >= 4.5


def _main_pages(seeded, small_project, spans_project) -> dict[str, str]:
    """The pages axe checks: the seeded project's (quality reports, model versions, batches, a review queue, so
    the charts and tables are drawn) and the labelling pages of a class and a spans project."""
    pid = seeded.project.pk
    queued = (
        Item.objects.filter(project=seeded.project, status=ItemStatus.NEEDS_REVIEW).order_by("id").first()
    )
    pages = {
        "projects": "/",
        "hub": f"/projects/{pid}/",
        "label": f"/projects/{small_project.pk}/label/",
        "label-spans": f"/projects/{spans_project.pk}/label/",
        "items": f"/projects/{pid}/items/",
        "review": f"/projects/{pid}/review/",
        "quality": f"/projects/{pid}/quality/",
        "dashboard": f"/projects/{pid}/dashboard/",
        "model": f"/projects/{pid}/model/",
        "datasets": f"/projects/{pid}/datasets/",
        "imports": f"/projects/{pid}/batches/",
        "labels": f"/projects/{pid}/labels/",
        "settings": f"/projects/{pid}/settings/",
        "feedback": f"/projects/{pid}/my-feedback/",
        "members": f"/projects/{pid}/#members",
        "not-found": "/projects/987654321/",
    }
    if queued is not None:
        pages["review-item"] = f"/projects/{pid}/review/items/{queued.pk}/"
    return pages


@pytest.mark.parametrize("width", list(WIDTHS))
def test_main_pages_have_no_serious_or_critical_axe_violation_in_light_and_dark(
    browser, live_server, width, artifacts_dir
):
    # Given a seeded project with everything its pages draw, and class and spans projects to label, all managed
    # by one user
    seeded = seed_project(n_items=300, seed=5, days=20)
    manager = seeded.manager
    manager.set_password(PASSWORD)
    manager.save()
    small_project = make_project(manager=manager, name="Sentiment reviews")
    add_items(small_project, 5)
    spans_project = make_project(
        manager=manager, name="Entities", task_type="text_spans", labels=("PER", "ORG")
    )
    add_items(spans_project, 3)
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    found: dict[str, list[str]] = {}
    try:
        # The login page, before logging in
        page.goto("/login/")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            found[f"login {scheme}"] = axe_violations(page)
        _log_in(page, manager)
        for name, path in _main_pages(seeded, small_project, spans_project).items():
            page.goto(path)
            page.wait_for_load_state("networkidle")
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                found[f"{name} {scheme}"] = axe_violations(page)
                if name in (
                    "hub",
                    "label",
                    "label-spans",
                    "review",
                    "dashboard",
                    "quality",
                    "items",
                    "not-found",
                ):
                    page.screenshot(
                        path=str(artifacts_dir / f"ui-{name}-{width}-{scheme}.png"), full_page=True
                    )
            if width == "phone" and name in ("hub", "items", "imports", "datasets", "not-found", "projects"):
                _no_sideways_scroll(page)
        # The "?" overlay itself
        page.goto(f"/projects/{small_project.pk}/label/")
        page.locator(".label-btn").first.wait_for()
        page.locator("body").press("?")
        page.locator("#shortcuts-overlay").wait_for()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            found[f"overlay {scheme}"] = axe_violations(page)
            page.screenshot(path=str(artifacts_dir / f"ui-shortcuts-{width}-{scheme}.png"))
    finally:
        context.close()
    problems = {page_name: lines for page_name, lines in found.items() if lines}
    assert not problems, "\n".join(f"{name}: {line}" for name, lines in problems.items() for line in lines)
