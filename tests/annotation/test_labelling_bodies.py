"""The next and submit endpoints build their JSON by hand (annotation/api/annotating.py): the bodies stay exactly
what their documented output serializers render."""

import json
import uuid

import pytest
from rest_framework.renderers import JSONRenderer

from annotation.api import serializers as s
from annotation.models import Annotation, Assignment, Item
from annotation.selectors import suggestion_for_annotator
from annotation.services.projects import project_update
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def rendered(data) -> dict:
    return json.loads(JSONRenderer().render(data))


def test_next_body_is_what_the_next_serializer_renders(api):
    # Given an item with a file, label-bearing metadata, tags and a model suggestion shown to annotators
    project = make_project(k=3)
    add_items(project, 1, tags=["slice-a"])
    Item.objects.filter(project=project).update(
        file="projects/1/ab/abc/photo.png",
        content_type="image/png",
        metadata={"source": "web", "Label": "pos"},
        predicted_label="neg",
        predicted_probs={"pos": 0, "neg": 0.75, "neutral": 0.25},
    )
    project = project_update(project=project, preannotation_for_annotators=True)
    annotator = add_member(project)
    # When the annotator asks for work
    response = api(annotator).get(f"/api/projects/{project.pk}/next/")
    # Then the body equals the serializer's rendering of the same lease, suggestion included
    assert response.status_code == 200
    lease = Assignment.objects.select_related("item").get(annotator=annotator)
    suggestion = suggestion_for_annotator(project=project, item=lease.item)
    served = {"assignment": lease, "item": lease.item, "suggestion": suggestion}
    expected = rendered(s.NextOutputSerializer(served).data)
    assert response.json() == expected
    assert "metadata" not in expected["item"] and expected["suggestion"]["probs"]["pos"] == 0.0


def test_next_body_without_suggestion_or_file_is_what_the_serializer_renders(api):
    # Given a plain text item and pre-annotation off
    project = make_project(k=3)
    add_items(project, 1)
    annotator = add_member(project)
    # When the annotator asks for work
    response = api(annotator).get(f"/api/projects/{project.pk}/next/")
    # Then the body equals the serializer's rendering, with no suggestion key
    lease = Assignment.objects.select_related("item").get(annotator=annotator)
    assert response.json() == rendered(s.NextOutputSerializer({"assignment": lease, "item": lease.item}).data)
    assert "suggestion" not in response.json()


@pytest.mark.parametrize("multi_label", [False, True])
def test_submit_bodies_are_what_the_annotation_serializer_renders(api, multi_label):
    # Given an annotator holding a lease
    project = make_project(k=3, multi_label=multi_label)
    add_items(project, 1)
    annotator = add_member(project)
    client = api(annotator)
    item_id = client.get(f"/api/projects/{project.pk}/next/").json()["item"]["id"]
    first = {
        "item": item_id,
        "client_id": str(uuid.uuid4()),
        "lead_time_ms": 1200,
        "comment": "?",
        "unsure": True,
    }
    first.update({"labels": ["pos", "neg"]} if multi_label else {"label": "pos"})
    correction = {"item": item_id, "unusable": True, **({"labels": []} if multi_label else {"label": "neg"})}
    # When they submit, retry the same submission, then correct it without a client_id
    responses = []
    for body in (first, first, correction):
        response = client.post(f"/api/projects/{project.pk}/annotations/", body, format="json")
        # Then each body equals the serializer's rendering of the row as stored at that moment
        stored = Annotation.objects.get(pk=response.json()["id"])
        assert response.json() == rendered(s.AnnotationOutputSerializer(stored).data)
        responses.append(response)
    created, retried, corrected = responses
    assert (created.status_code, retried.status_code, corrected.status_code) == (201, 200, 201)
    assert corrected.json()["supersedes"] == created.json()["id"] and corrected.json()["client_id"] is None
