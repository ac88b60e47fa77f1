"""Reviewers deciding the same item at the same moment: every decision is stored, in one linear chain, the
last one wins, and nobody gets a 500 (the item's row lock serialises them)."""

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from annotation.models import Item, ItemStatus, Role
from quality.models import ReviewDecision
from tests.factories import add_member
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db(transaction=True)

N_REVIEWERS = 6


def _decide(project_id, item_id, key, body, results, lock, start):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    try:
        start.wait()
        response = client.post(
            f"/api/projects/{project_id}/reviews/", {"item": item_id, **body}, format="json"
        )
        outcome = (response.status_code, body["action"])
    except Exception as exc:  # noqa: BLE001 - reported to the main thread
        outcome = (f"exception {exc!r}", body["action"])
    finally:
        connection.close()
    with lock:
        results.append(outcome)


def test_reviewers_deciding_one_item_at_once_all_get_stored_in_order_and_the_last_wins():
    # Given one item and six reviewers, half accepting it, half discarding it
    project, items, _, _ = review_project([["pos", "neg", "pos"]])
    reviewers = [add_member(project, Role.REVIEWER) for _ in range(N_REVIEWERS)]
    keys = [Token.objects.create(user=user).key for user in reviewers]
    bodies = [
        {"action": "accept", "label": "pos"}
        if n % 2 == 0
        else {"action": "discard", "reason": f"reviewer {n}"}
        for n in range(N_REVIEWERS)
    ]
    results: list = []
    lock, start = threading.Lock(), threading.Barrier(N_REVIEWERS)
    threads = [
        threading.Thread(target=_decide, args=(project.pk, items[0].pk, key, body, results, lock, start))
        for key, body in zip(keys, bodies, strict=True)
    ]
    # When they all post their decision at the same moment
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every request succeeded
    assert sorted(status for status, _ in results) == [201] * N_REVIEWERS, results
    # and the decisions form one chain in id order: each supersedes the one before, only the last is current
    chain = list(ReviewDecision.objects.filter(item=items[0]).order_by("id"))
    assert len(chain) == N_REVIEWERS
    assert [d.supersedes_id for d in chain] == [None] + [d.pk for d in chain[:-1]]
    assert [d.is_current for d in chain] == [False] * (N_REVIEWERS - 1) + [True]
    # and the item follows the last decision
    item = Item.objects.get(pk=items[0].pk)
    last = chain[-1]
    expected = (ItemStatus.ACCEPTED, "pos") if last.action == "accept" else (ItemStatus.DISCARDED, None)
    assert (item.status, item.final_label) == expected
    # and each decision saw the status left by the one before it
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.previous_status == (
            ItemStatus.ACCEPTED if before.action == "accept" else ItemStatus.DISCARDED
        )
