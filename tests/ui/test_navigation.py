"""The project navigation under the top bar and the shortcuts each page declares for the "?" overlay: which
destinations each role sees, which one is marked current, and that every key the label page answers is listed."""

import json
import re

import pytest
from django.urls import reverse

from annotation.models import Role
from annotation.services.projects import reserved_hotkeys
from config.navigation import KIND_KEYS
from kinds.registry import kind_for_task_type
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db

NAV_LINK = re.compile(r'<a href="([^"]+)" data-nav="([a-z]+)"( aria-current="page")?>')


def _nav(html: str) -> list[tuple[str, str, bool]]:
    start = html.index('<nav class="project-nav"')
    block = html[start : html.index("</nav>", start)]
    return [(key, href, bool(current)) for href, key, current in NAV_LINK.findall(block)]


def _shortcuts(html: str) -> list[dict]:
    match = re.search(r'<script id="page-shortcuts" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page declares no shortcuts"
    return json.loads(match.group(1))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ANNOTATOR, ["overview", "label", "feedback"]),
        (
            Role.REVIEWER,
            [
                "overview",
                "label",
                "review",
                "items",
                "dashboard",
                "quality",
                "model",
                "datasets",
                "imports",
                "labels",
                "feedback",
            ],
        ),
        (
            Role.MANAGER,
            [
                "overview",
                "label",
                "review",
                "items",
                "dashboard",
                "quality",
                "model",
                "datasets",
                "imports",
                "labels",
                "feedback",
                "members",
                "settings",
            ],
        ),
    ],
)
def test_each_role_sees_the_destinations_it_may_open_and_each_of_them_opens(client, role, expected):
    # Given a project and a member of the role
    project = make_project()
    user = add_member(project, role)
    client.force_login(user)
    # When they open the project page
    nav = _nav(client.get(f"/projects/{project.pk}/").content.decode())
    # Then the nav lists exactly the destinations of their role, in order
    assert [key for key, _, _ in nav] == expected
    # and every link opens for them (no 403 behind a link they are shown)
    for key, href, _ in nav:
        assert client.get(href.split("#")[0]).status_code == 200, key


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/projects/{pid}/", "overview"),
        ("/projects/{pid}/label/", "label"),
        ("/projects/{pid}/review/", "review"),
        ("/projects/{pid}/items/", "items"),
        ("/projects/{pid}/quality/", "quality"),
        ("/projects/{pid}/dashboard/", "dashboard"),
        ("/projects/{pid}/model/", "model"),
        ("/projects/{pid}/datasets/", "datasets"),
        ("/projects/{pid}/batches/", "imports"),
        ("/projects/{pid}/labels/", "labels"),
        ("/projects/{pid}/settings/", "settings"),
        ("/projects/{pid}/guideline/", "settings"),
    ],
)
def test_the_page_one_is_on_is_the_one_marked_current(client, path, current):
    project = make_project()
    client.force_login(project.memberships.get(role=Role.MANAGER).user)
    html = client.get(path.format(pid=project.pk)).content.decode()
    marked = [key for key, _, is_current in _nav(html) if is_current]
    assert marked == [current]
    assert html.count('aria-current="page"') == 1


def test_pages_outside_a_project_have_no_project_navigation(client):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert 'class="project-nav"' not in html
    # but still declare the shortcuts every page has
    assert [group["title"] for group in _shortcuts(html)] == ["Everywhere"]


def test_counts_name_the_api_list_they_are_the_count_of(client):
    project = make_project()
    client.force_login(project.memberships.get(role=Role.MANAGER).user)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    urls = re.findall(r'data-count-url="([^"]+)"', html)
    assert urls == [
        reverse("api-review-queue", kwargs={"pid": project.pk}),
        reverse("api-items", kwargs={"pid": project.pk}),
    ]


@pytest.mark.parametrize(
    "task_type",
    ["text_classification", "text_spans", "image_boxes", "image_classification", "audio_classification"],
)
def test_the_label_page_lists_every_key_it_answers(client, task_type):
    # Given a project of the kind, whose labels got hotkeys
    labels = ("PER", "ORG") if task_type != "text_classification" else ("pos", "neg", "neutral")
    project = make_project(task_type=task_type, labels=labels)
    client.force_login(project.memberships.get(role=Role.MANAGER).user)
    # When the label page is opened
    groups = _shortcuts(client.get(f"/projects/{project.pk}/label/").content.decode())
    listed = set()
    for group in groups:
        for keys, what in group["keys"]:
            assert what, keys
            for alternative in keys.split(" / "):
                listed.add(alternative.lower())
                listed.update(part.lower() for part in alternative.split("+") if part)
    # Then every label hotkey is listed with its label
    label_rows = {tuple(row) for group in groups if group["title"] == "Labels" for row in group["keys"]}
    expected = {
        (label.hotkey, label.value) for label in project.labels.filter(is_active=True) if label.hotkey
    }
    assert expected and label_rows == expected
    # and every key the page and the kind's widget reserve, Space by its name
    for key in reserved_hotkeys(task_type):
        assert (key.strip() or "space") in listed, key
    assert "enter" in listed and "backspace" in listed and "?" in listed


def test_every_kind_with_reserved_keys_describes_them():
    for task_type in ("text_spans", "image_boxes"):
        kind = kind_for_task_type(task_type)
        described = {
            part.lower()
            for keys, _ in KIND_KEYS[kind.name]
            for alt in keys.split(" / ")
            for part in (alt, *alt.split("+"))
        }
        assert set(kind.reserved_hotkeys) <= described, kind.name
