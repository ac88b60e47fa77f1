"""The site icon: every page links static/favicon.svg, and /favicon.ico (which browsers ask for regardless)
leads to it, so no page logs a 404 in the browser console."""

import pytest

from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_favicon_ico_leads_to_the_svg_icon(client):
    # When a browser asks for /favicon.ico
    response = client.get("/favicon.ico", follow=True)
    # Then it is redirected to the SVG icon and gets it
    assert response.redirect_chain and response.redirect_chain[-1][0].endswith("favicon.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)


def test_pages_load_with_the_icon_and_no_console_error(page):
    # Given a project with an item and an annotator who has acknowledged its guideline
    project = make_project(k=3)
    add_items(project, 2)
    user = UserFactory()
    user.set_password("pw-for-the-browser")
    user.save()
    add_member(project, user=user)
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    # When they log in and open the home, project and labelling pages
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-the-browser")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    for path in ("/", f"/projects/{project.pk}/", f"/projects/{project.pk}/label/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        # Then each page links the icon, which loads
        href = page.get_attribute("link[rel=icon]", "href")
        assert href and href.endswith("favicon.svg"), (path, href)
        assert page.request.get(href).status == 200
    # the icon the browser asks for on its own loads too
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/svg+xml"
    # and nothing was logged as an error or answered with an error status
    assert errors == [], errors
    assert failed == [], failed
