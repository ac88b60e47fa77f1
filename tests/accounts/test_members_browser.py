"""People in the browser: a manager invites by link, the invitee joins in a fresh browser, the link then fails;
an expired link fails; a password is reset through the e-mail; a plain user cannot create a project. Each new
page passes axe at desktop and phone widths."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Invite
from annotation.models import Membership, Role
from tests.e2e.loop_steps import log_in
from tests.factories import UserFactory, add_member, make_project
from tests.ui.axe import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _context(browser, live_server, width: str = "desktop"):
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _axe_both_widths(page, path: str, found: dict, name: str) -> None:
    for width, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        page.goto(path)
        if problems := axe_violations(page):
            found[f"{name}@{width}"] = problems
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_manager_invites_by_link_and_the_invitee_joins_once(browser, live_server, artifacts_dir):
    # Given a manager of a project with one annotator
    manager = UserFactory(username="mia")
    project = make_project(manager=manager, name="Reviews")
    add_member(project, Role.ANNOTATOR, user=UserFactory(username="ann"))
    context, page = _context(browser, live_server)
    found: dict[str, list[str]] = {}
    try:
        log_in(page, "mia")
        # When the manager opens Members from the project navigation and asks for a link invite
        page.goto(f"/projects/{project.pk}/")
        page.locator("#project-nav a[data-nav=members]").click()
        expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/members/$"))
        page.locator("#id_invite-role").select_option("annotator")
        page.locator("#invite-submit").click()
        link = page.locator("#invite-link").input_value()
        assert re.fullmatch(rf"{re.escape(live_server.url)}/invites/[\w-]{{40,}}/", link)
        # And the manager changes ann's role to reviewer
        row = page.locator("#member-table tr[data-username=ann]")
        row.get_by_label("Role of ann").select_option("reviewer")
        row.get_by_role("button", name="Change role").click()
        expect(page.locator(".messages")).to_contain_text("ann is now reviewer")

        # Then the invitee, in a fresh browser context, opens the link and sets a password
        fresh, invitee = _context(browser, live_server)
        try:
            invitee.goto(link)
            expect(invitee.get_by_role("heading", name="Join Reviews")).to_be_visible()
            _axe_both_widths(invitee, link, found, "invite-accept")
            invitee.get_by_label("Username").fill("newbie")
            invitee.get_by_label("Password", exact=True).fill("a-long-pass-1")
            invitee.get_by_label("Password again").fill("a-long-pass-1")
            invitee.locator("#join-submit").click()
            # And lands on the project, as annotator
            expect(invitee).to_have_url(f"{live_server.url}/projects/{project.pk}/")
            expect(invitee.locator(".messages")).to_contain_text("you joined as annotator")
            assert Membership.objects.get(project=project, user__username="newbie").role == Role.ANNOTATOR
        finally:
            fresh.close()
        # And the link fails a second time, in another fresh context
        again, second = _context(browser, live_server)
        try:
            second.goto(link)
            expect(second.locator("#invite-error-reason")).to_contain_text("already been used")
        finally:
            again.close()

        # Given a second link invite whose expiry is moved into the past
        page.goto(f"/projects/{project.pk}/members/")
        page.locator("#invite-submit").click()
        expired_link = page.locator("#invite-link").input_value()
        Invite.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - timedelta(minutes=1))
        late, third = _context(browser, live_server)
        try:
            third.goto(expired_link)
            expect(third.locator("#invite-error-reason")).to_contain_text("has expired")
            _axe_both_widths(third, expired_link, found, "invite-invalid")
        finally:
            late.close()

        # Then the members page lists who did what, and is drawn at both widths
        page.goto(f"/projects/{project.pk}/members/")
        history = page.locator("#member-events")
        expect(history).to_contain_text("Role changed from annotator to reviewer")
        expect(history).to_contain_text("Accepted an invite")
        expect(history.locator("tr[data-kind=invited]")).to_have_count(2)
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            page.goto(f"/projects/{project.pk}/members/")
            page.screenshot(path=str(artifacts_dir / f"members-{width}.png"), full_page=True)
            if problems := axe_violations(page):
                found[f"members@{width}"] = problems
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), width
    finally:
        context.close()
    assert not found, found


def test_a_password_is_reset_with_the_link_from_the_email(browser, live_server, mailoutbox):
    UserFactory(username="kim", email="kim@example.org")
    context, page = _context(browser, live_server)
    found: dict[str, list[str]] = {}
    try:
        # Given the login page, someone follows "Forgot your password?" and gives the account's address
        page.goto("/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        _axe_both_widths(page, "/password-reset/", found, "password-reset")
        page.get_by_label("E-mail").fill("kim@example.org")
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        _axe_both_widths(page, "/password-reset/sent/", found, "password-reset-sent")
        # When they open the link from the e-mail and choose a new password
        (mail,) = mailoutbox
        link = re.search(r"https?://\S+/password-reset/\S+/", mail.body).group(0)
        page.goto(link)
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        page.get_by_label("New password", exact=True).fill("brand-new-pass-9")
        page.get_by_label("New password again").fill("brand-new-pass-9")
        if problems := axe_violations(page):
            found["password-reset-confirm"] = problems
        page.get_by_role("button", name="Set the password").click()
        expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()
        # Then the new password logs in
        page.get_by_role("link", name="Log in").last.click()
        page.fill("#id_username", "kim")
        page.fill("#id_password", "brand-new-pass-9")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        # And the link does not work twice
        page.goto(link)
        expect(page.locator("main")).to_contain_text("This link is not valid")
    finally:
        context.close()
    assert not found, found


def test_a_plain_user_cannot_create_a_project_on_the_page_or_in_the_api(browser, live_server):
    UserFactory(username="pat")
    context, page = _context(browser, live_server)
    try:
        log_in(page, "pat")
        # The project list shows no create button
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        expect(page.get_by_role("link", name="New project")).to_have_count(0)
        # The form answers 403 in words
        response = page.goto("/projects/new/")
        assert response.status == 403
        expect(page.locator("main")).to_contain_text("project creators")
        # The API (the signed-in session) answers 403 too
        csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
        api = page.request.post(
            "/api/projects/",
            data={
                "name": "x",
                "task_type": "text_classification",
                "labels": [{"value": "a"}, {"value": "b"}],
            },
            headers={"X-CSRFToken": csrf, "Referer": live_server.url + "/"},
        )
        assert api.status == 403 and "project creators" in api.json()["detail"]
    finally:
        context.close()
