"""The one access check of project pages answers as each page did before: login redirect, 405, 404, 403."""

import pytest
from django.urls import reverse

from annotation.models import Role
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db


def test_an_anonymous_caller_is_sent_to_the_login_page(client):
    project = make_project()
    response = client.get(reverse("quality-page", args=[project.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_caller_who_is_not_a_member_gets_404_and_the_project_is_not_named(client):
    project = make_project(name="Secret name")
    client.force_login(UserFactory())
    response = client.get(reverse("quality-page", args=[project.pk]))
    assert response.status_code == 404 and b"Secret name" not in response.content


def test_a_member_below_the_role_gets_403_saying_which_role_is_needed(client):
    project = make_project()
    client.force_login(add_member(project, Role.ANNOTATOR))
    response = client.get(reverse("quality-page", args=[project.pk]))
    assert response.status_code == 403 and b"reviewer role" in response.content


def test_a_post_only_page_answers_a_get_with_405_before_looking_at_the_project(client):
    project = make_project()
    client.force_login(UserFactory())
    assert client.get(reverse("model-train", args=[project.pk])).status_code == 405


def test_staff_without_a_membership_open_a_manager_page(client):
    project = make_project()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("project-settings", args=[project.pk])).status_code == 200
