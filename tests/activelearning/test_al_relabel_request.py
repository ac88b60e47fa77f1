"""A reviewer's "send back for relabelling" puts the item in the EXTRA band, before new items, and re-scoring (by a
model or by the cold-start rule) keeps it there until it is labelled again."""

import pytest

from activelearning import priority
from activelearning.services import scoring
from annotation.models import Item, ItemStatus, Role
from annotation.services.queue import assignment_next_for_annotator
from tests.activelearning.al_helpers import al_project, vote
from tests.activelearning.test_al_train import run_train
from tests.factories import add_member

pytestmark = pytest.mark.django_db


def _labelled_then_sent_back(api, project, item):
    """Three annotators label ``item``; a reviewer sends it back through the API. Returns the annotators."""
    annotators = vote(project, item, ["pos", "pos", "pos"])
    Item.objects.filter(pk=item.pk).update(consensus_label="pos")  # what the quality layer's hook would set
    assert Item.objects.get(pk=item.pk).status == ItemStatus.LABELLED
    add_member(project)  # a relabel needs an annotator who has not seen the item yet
    reviewer = add_member(project, Role.REVIEWER)
    response = api(reviewer).post(
        f"/api/projects/{project.pk}/reviews/",
        {"item": item.pk, "action": "relabel", "reason": "sarcasm?"},
        format="json",
    )
    assert response.status_code in (200, 201), response.json()
    return annotators


def test_a_relabel_request_is_served_before_pool_and_batch_items_after_a_rescore(api, monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given a trained project and a pool item three annotators then labelled
    project, _, pool = al_project(k=3)
    run_train(project)
    item = pool[0]
    annotators = _labelled_then_sent_back(api, project, item)
    # When the reviewer's request lands, the item is open again with no live votes, at the top of EXTRA
    sent_back = Item.objects.get(pk=item.pk)
    assert (sent_back.status, sent_back.annotation_count) == (ItemStatus.IN_PROGRESS, 0)
    assert sent_back.priority == pytest.approx(priority.RELABEL_REQUESTED)
    # and the model re-scores the project
    _, result = run_train(project)
    assert result["mode"] == "model" and result["n_batch"] == 4
    # Then the item is still in the EXTRA band, above the batch
    rescored = Item.objects.get(pk=item.pk)
    assert priority.BAND_EXTRA <= rescored.priority < priority.BAND_EXTRA + 1
    # and the queue preview lists it first, before every batch and pool item
    rows = api(project.created_by).get(f"/api/projects/{project.pk}/queue/").json()["results"]
    assert (rows[0]["id"], rows[0]["band"]) == (item.pk, "extra")
    assert {row["band"] for row in rows[1:]} == {"batch", "pool"} and len(rows) == len(pool)
    # and an annotator who has not seen it is served it first; one who labelled it before gets a pool item
    assert assignment_next_for_annotator(project=project, user=annotators[0]).item_id != item.pk
    assert assignment_next_for_annotator(project=project, user=add_member(project)).item_id == item.pk


def test_the_cold_start_rule_keeps_a_relabel_request_in_the_extra_band(api):
    # Given a project with too few labels for a model, and an item a reviewer sent back
    project, _, pool = al_project(k=3, n_labelled_per_label=2)
    item = pool[0]
    _labelled_then_sent_back(api, project, item)
    # When the training job re-orders the queue by the cold-start rule
    _, result = run_train(project)
    assert result["mode"] == "cold_start"
    # Then the item keeps its place in the EXTRA band (it has no annotations left to tell it apart by), above
    # the cold-start batch
    rescored = Item.objects.get(pk=item.pk)
    assert priority.BAND_EXTRA <= rescored.priority < priority.BAND_EXTRA + 1
    others = Item.objects.filter(pk__in=[p.pk for p in pool[1:]]).values_list("priority", flat=True)
    assert max(others) < priority.BAND_BATCH + 1
    assert assignment_next_for_annotator(project=project, user=add_member(project)).item_id == item.pk
