"""PATCH /api/projects/{pid}/labels/{value}/ changes a label's colour: stored lower-case, blank gives the palette
colour back; a colour not written #rrggbb is a 400 on ``colour``, a label the project lacks (or retired) a 404, a
non-manager is refused; answers are untouched."""

import pytest

from annotation.label_colours import PALETTE
from annotation.models import Label, Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def _manager(project):
    return project.memberships.get(role=Role.MANAGER).user


def test_a_manager_sets_and_clears_a_label_colour(api):
    project = make_project(labels=("pos", "neg/mixed"), k=1)
    client = api(_manager(project))
    response = client.patch(f"/api/projects/{project.pk}/labels/pos/", {"colour": "#A1B2C3"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["value"] == "pos" and response.json()["colour"] == "#a1b2c3"
    assert Label.objects.get(project=project, value="pos").colour == "#a1b2c3"
    # A value holding a slash is named whole; blank gives back the palette colour of its place
    order = Label.objects.get(project=project, value="neg/mixed").order
    response = client.patch(f"/api/projects/{project.pk}/labels/neg/mixed/", {"colour": ""}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["colour"] == PALETTE[order % len(PALETTE)]


@pytest.mark.parametrize("bad", ["blue", "#12345", "#1234567", "123456", "#ggg000", 7])
def test_a_colour_not_written_rrggbb_is_a_field_error(api, bad):
    project = make_project(labels=("pos", "neg"), k=1)
    response = api(_manager(project)).patch(
        f"/api/projects/{project.pk}/labels/pos/", {"colour": bad}, format="json"
    )
    assert response.status_code == 400
    assert "#rrggbb" in response.json()["colour"][0]
    assert Label.objects.get(project=project, value="pos").colour == ""


def test_unknown_label_and_non_managers_are_refused(api):
    project = make_project(labels=("pos", "neg"), k=1)
    url = f"/api/projects/{project.pk}/labels/"
    assert (
        api(_manager(project)).patch(url + "nope/", {"colour": "#000000"}, format="json").status_code == 404
    )
    reviewer = add_member(project, Role.REVIEWER)
    assert api(reviewer).patch(url + "pos/", {"colour": "#000000"}, format="json").status_code == 403
    assert Label.objects.get(project=project, value="pos").colour == ""
