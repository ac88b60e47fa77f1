import pytest

from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def test_annotator_labels_k_times_then_item_is_labelled(api):
    # Given a project with k=2 and one item, and two annotators
    project = make_project(k=2)
    add_items(project, 1)
    first, second = add_member(project), add_member(project)
    # When both ask for work and submit
    for user, label in ((first, "pos"), (second, "neg")):
        client = api(user)
        served = client.get(f"/api/projects/{project.pk}/next/")
        assert served.status_code == 200
        response = client.post(
            f"/api/projects/{project.pk}/annotations/",
            {"item": served.json()["item"]["id"], "label": label},
            format="json",
        )
        assert response.status_code == 201, response.json()
    # Then the item is labelled and nobody else is served it
    third = add_member(project)
    assert api(third).get(f"/api/projects/{project.pk}/next/").status_code == 204
    detail = api(project.created_by).get(f"/api/projects/{project.pk}/").json()
    assert detail["counts"]["labelled"] == 1
