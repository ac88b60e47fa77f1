"""Label colours through the label-change API, and a rename on a span project: the colour stays with the label
and the items' stored span lists (final, consensus) move to the new name."""

import pytest

from annotation.models import Item, Label
from ingress.services.bulk import item_bulk_create
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def manager_of(project):
    return project.memberships.get(role="manager").user


def test_a_label_added_with_a_colour_keeps_it_through_a_rename_and_a_bad_colour_is_refused(api):
    project = make_project(task_type="text_spans", labels=("PER",), k=1)
    client = api(manager_of(project))
    base = f"/api/projects/{project.pk}/label-changes"
    added = client.post(f"{base}/add/", {"value": "ORG", "colour": "#AA00CC"}, format="json")
    assert added.status_code == 201, added.json()
    bad = client.post(f"{base}/add/", {"value": "LOC", "colour": "blue"}, format="json")
    assert bad.status_code == 400 and "#rrggbb" in bad.json()["colour"][0]
    assert not Label.objects.filter(project=project, value="LOC").exists()
    renamed = client.post(f"{base}/rename/", {"label": "ORG", "to": "COMPANY"}, format="json")
    assert renamed.status_code == 201, renamed.json()
    labels = client.get(f"/api/projects/{project.pk}/").json()["labels"]
    assert {label["value"]: label["colour"] for label in labels}["COMPANY"] == "#aa00cc"


def test_a_rename_moves_the_labels_of_stored_span_lists(api):
    project = make_project(task_type="text_spans", labels=("PER", "ORG"), k=1)
    assert not item_bulk_create(project=project, rows=[{"external_id": "a", "text": "Ada at IBM"}]).errors
    spans = [{"start": 0, "end": 3, "label": "PER"}, {"start": 7, "end": 10, "label": "ORG"}]
    Item.objects.filter(project=project).update(final_label=spans, consensus_label=spans)
    client = api(manager_of(project))
    response = client.post(
        f"/api/projects/{project.pk}/label-changes/rename/", {"label": "ORG", "to": "COMPANY"}, format="json"
    )
    assert response.status_code == 201, response.json()
    item = Item.objects.get(project=project)
    expected = [{"start": 0, "end": 3, "label": "PER"}, {"start": 7, "end": 10, "label": "COMPANY"}]
    assert item.final_label == expected and item.consensus_label == expected
