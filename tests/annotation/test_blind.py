"""Blind labelling: labels an importer kept in metadata never reach an annotator (annotation/blind.py)."""

import json

import pytest

from annotation.blind import metadata_for_annotator
from annotation.models import Item, Role
from tests.annotation.ingress_fixtures import run_import
from tests.factories import add_member, make_project

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


def test_metadata_for_annotator_drops_label_bearing_keys_in_any_case():
    # Given metadata mixing context and earlier labels
    metadata = {"source": "web", "ls_choices": [["a"]], "Label": "b", "PREDICTIONS": [1], "n": 3}
    # When it is prepared for an annotator; then only the context stays (and junk shows as nothing)
    assert metadata_for_annotator(metadata) == {"source": "web", "n": 3}
    assert metadata_for_annotator(["not", "a", "dict"]) == {}


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
    # Then it carries the content and context metadata, and none of the earlier labels
    assert response.status_code == 200
    body = response.json()
    assert body["item"]["id"] == item.pk
    assert body["item"]["metadata"] == {"source": "forum", "batch": "b1"}
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
