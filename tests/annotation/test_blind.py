"""Blind labelling: labels an importer kept in metadata never reach an annotator (annotation/blind.py)."""

import json

import pytest

from annotation.blind import media_name_for_annotator
from annotation.models import Item, Role
from ingress.services.bulk import item_bulk_create
from tests.factories import add_member, make_project
from tests.ingress.ingress_fixtures import run_import

# Distinctive values so a leak anywhere in a payload or page is found by a plain substring search.
EARLIER_VOTES = ["prior-vote-alpha", "prior-vote-beta"]
DATA_LABEL = "prior-vote-gamma"
PREDICTED = "prior-vote-delta"


def label_studio_export() -> bytes:
    task = {
        "id": 501,
        "data": {
            "text": "The plot was thin but the acting carried it.",
            "source": "forum",
            "label": DATA_LABEL,
        },
        "meta": {"batch": "b1"},
        "annotations": [
            {"result": [{"value": {"choices": [EARLIER_VOTES[0]]}}]},
            {"result": [{"value": {"choices": [EARLIER_VOTES[1]]}}]},
        ],
        "predictions": [{"result": [{"value": {"choices": [PREDICTED]}}], "score": 0.9}],
    }
    return json.dumps([task]).encode()


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("tone-08.wav", "item-7.wav"),
        ("Cat.JPEG", "item-7.jpeg"),
        ("noext", "item-7"),
        (".hidden", "item-7"),
        ("a.b c", "item-7"),
    ],
)
def test_media_name_for_annotator_keeps_only_the_extension(file_name, expected):
    assert media_name_for_annotator(item_id=7, file_name=file_name) == expected


@pytest.mark.django_db
def test_next_gives_the_annotator_no_tags_metadata_or_gold_status(api):
    # Given a gold item whose tags and metadata name its answer
    project = make_project(k=3, gold_rate=1.0)
    row = {
        "external_id": "doc-0001",
        "text": "Return the arc sine of x.",
        "tags": ["module:math"],
        "metadata": {"kind_hint": "math", "source": "stdlib"},
        "gold_label": "pos",
    }
    assert item_bulk_create(project=project, rows=[row]).created == 1
    item = Item.objects.get(project=project, external_id="doc-0001")
    assert item.is_gold
    # When an annotator asks for work
    response = api(add_member(project, Role.ANNOTATOR)).get(f"/api/projects/{project.pk}/next/")
    # Then the body carries the content, the item id and the external id, and nothing else about the item
    assert response.status_code == 200
    body = response.json()
    assert set(body["item"]) == {"id", "external_id", "text", "media_url", "content_type"}
    assert (body["item"]["id"], body["item"]["external_id"]) == (item.pk, "doc-0001")
    assert set(body["assignment"]) == {"id", "expires_at"}
    raw = response.content.decode()
    for leaked in ("module:math", "kind_hint", "stdlib", "is_gold", "tags", "metadata"):
        assert leaked not in raw


@pytest.mark.django_db
def test_label_studio_votes_reach_reviewers_but_never_the_annotator(media_roots, api, client):
    # Given a Label Studio export whose task carries two earlier annotators' choices, imported into a project
    project = make_project(k=3)
    annotator = add_member(project, Role.ANNOTATOR)
    reviewer = add_member(project, Role.REVIEWER)
    job = run_import(project, "export.json", label_studio_export(), labelstudio_annotations="metadata")
    assert job.result["created"] == 1, job.result
    item = Item.objects.get(project=project, external_id="501")
    assert item.metadata["ls_choices"] == [[EARLIER_VOTES[0]], [EARLIER_VOTES[1]]]

    # When the annotator is served the item over the API
    response = api(annotator).get(f"/api/projects/{project.pk}/next/")
    # Then it carries the content and none of the earlier labels
    assert response.status_code == 200
    body = response.json()
    assert body["item"]["id"] == item.pk
    assert "metadata" not in body["item"]
    raw = response.content.decode()
    assert "ls_choices" not in raw
    for leaked in [*EARLIER_VOTES, DATA_LABEL, PREDICTED]:
        assert leaked not in raw

    # And the labelling page holds none of them either
    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/label/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ls_choices" not in html
    for leaked in [*EARLIER_VOTES, DATA_LABEL, PREDICTED]:
        assert leaked not in html

    # While a reviewer still sees the earlier choices on the item detail
    detail = api(reviewer).get(f"/api/projects/{project.pk}/items/{item.pk}/")
    assert detail.status_code == 200
    metadata = detail.json()["item"]["metadata"]
    assert metadata["ls_choices"] == [[EARLIER_VOTES[0]], [EARLIER_VOTES[1]]]
    assert metadata["label"] == DATA_LABEL
