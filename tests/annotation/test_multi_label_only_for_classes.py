"""Multi-label belongs to classification: the create form offers it only for those task types, and a span or box
project asked to be multi-label is refused on that field in words (form and API alike)."""

from html import unescape

import pytest

from annotation.models import Project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _post(client, task_type: str, labels: str):
    client.force_login(UserFactory(project_creator=True))
    return client.post(
        "/projects/new/",
        {
            "name": "Kinds",
            "task_type": task_type,
            "multi_label": "on",
            "labels": labels,
            "annotations_per_item": 3,
            "gold_rate": 0,
        },
    )


def test_the_form_lists_only_classification_task_types_for_multi_label(client):
    client.force_login(UserFactory(project_creator=True))
    html = unescape(client.get("/projects/new/").content.decode())
    allowed = html.split('data-task-types="')[1].split('"')[0].split(",")
    assert "text_classification" in allowed
    assert "text_spans" not in allowed and "image_boxes" not in allowed
    assert "js/project-create.js" in html


@pytest.mark.parametrize(
    ("task_type", "name"), [("text_spans", "Text spans"), ("image_boxes", "Image boxes")]
)
def test_span_and_box_projects_refuse_multi_label_in_words(client, api, task_type, name):
    response = _post(client, task_type, "PER\nLOC")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "projects have no multi-label mode" in html
    assert not Project.objects.exists()

    manager = UserFactory(project_creator=True)
    body = {"name": "K", "task_type": task_type, "multi_label": True, "labels": [{"value": "PER"}]}
    refused = api(manager).post("/api/projects/", body, format="json")
    assert refused.status_code == 400, refused.json()
    assert "no multi-label mode" in refused.json()["multi_label"][0]


def test_classification_stays_multi_label(client):
    response = _post(client, "text_classification", "sport\npolitics")
    assert response.status_code == 302
    assert Project.objects.get().multi_label is True
