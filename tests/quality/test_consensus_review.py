"""A consensus a reviewer can trust, stored and decided: the per-item update keeps the consensus among the votes
and stores the model's pick as a suggestion; Accept (one item or bulk, API or page) never takes a label nobody
voted for by default; the review page says what the confidence is."""

import pytest

from annotation.models import Item, ItemStatus, Role
from quality.models import ReviewDecision
from tests.factories import add_member
from tests.quality.consensus_override import POSTERIOR, overridden_project
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db

OVERRIDE = "model_overrides_annotators"


def test_per_item_update_keeps_the_voted_consensus_and_stores_the_models_pick_as_a_suggestion():
    # Given votes network, network, math (math from an annotator the last fit never saw) and a model at 0.98 on
    # concurrency; When the per-item update runs (inside the builder)
    _, (item,), _ = overridden_project()
    item.refresh_from_db()
    # Then the consensus is network, at its posterior (hand-computed, 0.038), not the unvoted concurrency
    assert item.consensus_label == "network"
    assert item.consensus_confidence == pytest.approx(POSTERIOR["network"])
    # and concurrency is shown as what it is: a suggestion, with its reason, and the item goes to review
    assert item.consensus_suggestion == "concurrency"
    assert OVERRIDE in item.issue_kinds and "low_consensus_confidence" in item.issue_kinds
    assert item.status == ItemStatus.NEEDS_REVIEW


def test_accept_without_a_label_refuses_a_consensus_nobody_voted_for(api):
    # Given an item whose stored consensus has no vote (as an earlier version stored it: pos, pos, neg → neutral)
    project, items, _, reviewer = review_project([["pos", "pos", "neg"], ["neg", "neg", "neg"]])
    Item.objects.filter(pk=items[0].pk).update(consensus_label="neutral", consensus_confidence=0.0)
    client = api(reviewer)
    # When the reviewer accepts it without choosing a label, alone or in bulk with a normal item
    single = client.post(
        f"/api/projects/{project.pk}/reviews/", {"item": items[0].pk, "action": "accept"}, format="json"
    )
    bulk = client.post(
        f"/api/projects/{project.pk}/reviews/bulk/",
        {"items": [items[0].pk, items[1].pk], "action": "accept", "confirm": True},
        format="json",
    )
    # Then both are refused on the label field and nothing was decided
    assert single.status_code == 400 and "label" in single.json()
    assert bulk.status_code == 400 and "label" in bulk.json()
    assert not ReviewDecision.objects.filter(project=project).exists()
    assert Item.objects.get(pk=items[0].pk).final_label is None
    # When the reviewer chooses the label explicitly, it is taken
    chosen = client.post(
        f"/api/projects/{project.pk}/reviews/",
        {"item": items[0].pk, "action": "accept", "label": "neutral"},
        format="json",
    )
    assert chosen.status_code == 201
    assert Item.objects.get(pk=items[0].pk).final_label == "neutral"


def test_accept_without_a_label_refuses_an_overridden_item_and_bulk_page_leaves_it_out(api, client):
    # Given the overridden item and a plain unanimous one, both in review
    project, items, _ = overridden_project(extra_votes=[["math", "math", "math"]])
    Item.objects.filter(pk=items[1].pk).update(
        status=ItemStatus.NEEDS_REVIEW, issue_kinds=["annotators_split"]
    )
    reviewer = add_member(project, Role.REVIEWER)
    # When the reviewer accepts the overridden item through the API without a label
    response = api(reviewer).post(
        f"/api/projects/{project.pk}/reviews/", {"item": items[0].pk, "action": "accept"}, format="json"
    )
    # Then it is refused: the reviewer must choose between the votes and the suggestion
    assert response.status_code == 400 and "label" in response.json()
    # When the reviewer opens the bulk confirmation for "accept each item's consensus"
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.pk}/review/bulk/?action=accept")
    html = page.content.decode()
    # Then the overridden item is left out and named; only the other item would be accepted
    assert page.context["item_ids"] == str(items[1].pk)
    assert 'id="bulk-left-out"' in html and items[0].external_id in html


def test_review_page_shows_votes_suggestion_and_what_confidence_means(client):
    project, (item,), _ = overridden_project()
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/review/items/{item.pk}/").content.decode()
    assert '<strong id="consensus-label">network</strong>' in html
    assert "(2 of 3 votes)" in html
    assert '<strong id="suggestion-label">concurrency</strong> (0 votes)' in html
    assert 'id="confidence-meaning"' in html and "probability that the consensus is right" in html
    assert 'id="must-choose"' in html
