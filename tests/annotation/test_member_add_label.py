"""The project page's Add member form names its text box with a visible label and a placeholder."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_project

pytestmark = pytest.mark.django_db


def test_add_member_box_has_a_visible_label_and_placeholder():
    project = make_project()
    client = Client()
    assert client.login(username=project.created_by.username, password=PASSWORD)

    html = client.get(f"/projects/{project.pk}/").content.decode()

    assert '<label for="id_username">Add member (username)</label>' in html
    assert 'placeholder="username of an existing account"' in html
    assert '<label for="id_role">as</label>' in html
