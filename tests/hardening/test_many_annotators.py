"""64 annotators on one project at once (PostgreSQL): no item over k, nobody twice on an item, no label lost.

Each simulated annotator has their own user and token and runs a bounded number of rounds of next + submit;
on the way some retry a submission (same client_id, as a flaky network would) and some label an item they
were never served. See tests/annotation/test_concurrency.py for the 32-annotator run that drains the queue.
"""

import random
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count, Q
from rest_framework.authtoken.models import Token

from annotation.models import Annotation, Assignment, AssignmentState, Item
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N_ANNOTATORS = 64
N_ITEMS = 60
K = 3
ROUNDS = 4  # 64 × 4 asks for 180 slots: the queue drains and the late askers get 204
LABELS = ["pos", "neg", "neutral"]


def annotate_for_rounds(project_id, token_key, item_ids, seed, shared, lock, start):
    """One annotator: ROUNDS × (next, submit); a retried first submission; one unserved item in round 1."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_key}")
    url = f"/api/projects/{project_id}/annotations/"
    rng = random.Random(seed)
    tally: Counter = Counter()
    accepted: set[str] = set()
    touched: set[int] = set()

    def submit(kind: str, body: dict):
        response = client.post(url, body, format="json")
        tally[f"{kind} {response.status_code}"] += 1
        if 200 <= response.status_code < 300:
            accepted.add(body["client_id"])
        return response

    try:
        start.wait()
        for round_no in range(ROUNDS):
            served = client.get(f"/api/projects/{project_id}/next/")
            tally[f"next {served.status_code}"] += 1
            if served.status_code == 200:
                item_id = served.json()["item"]["id"]
                touched.add(item_id)
                body = {"item": item_id, "label": rng.choice(LABELS), "client_id": str(uuid.uuid4())}
                first = submit("served", body)
                if round_no == 0 and first.status_code == 201:
                    again = submit("retry", body)
                    tally["retry same annotation"] += int(again.json().get("id") == first.json()["id"])
            elif served.status_code != 204:
                break
            if round_no == 1:
                item_id = rng.choice([pk for pk in item_ids if pk not in touched])
                touched.add(item_id)
                body = {"item": item_id, "label": rng.choice(LABELS), "client_id": str(uuid.uuid4())}
                submit("direct", body)
    except Exception as exc:  # noqa: BLE001 - reported to the main thread as a failure
        tally[f"exception {type(exc).__name__}: {exc}"] += 1
    finally:
        connection.close()  # each thread opened its own connection to the test database
        with lock:
            shared["tally"].update(tally)
            shared["accepted"] |= accepted


def test_64_annotators_at_once_keep_k_one_label_per_annotator_and_lose_nothing():
    # Given one project (k=3, no adaptive extra votes, 60 items) and 64 annotators, each with their own token
    project = make_project(k=K, max_annotations_per_item=K)
    add_items(project, N_ITEMS)
    item_ids = list(Item.objects.filter(project=project).values_list("pk", flat=True))
    tokens = [Token.objects.create(user=add_member(project)).key for _ in range(N_ANNOTATORS)]
    shared: dict = {"tally": Counter(), "accepted": set()}
    lock, start = threading.Lock(), threading.Barrier(N_ANNOTATORS)
    threads = [
        threading.Thread(
            target=annotate_for_rounds, args=(project.pk, key, item_ids, seed, shared, lock, start)
        )
        for seed, key in enumerate(tokens)
    ]
    # When they all ask for work and submit at once for a bounded number of rounds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally = shared["tally"]
    # Then nothing crashed and every answer was one the API promises
    assert not [key for key in tally if key.startswith("exception")], tally
    assert not [key for key in tally if key.split()[-1].startswith("5")], tally
    assert set(tally) <= {
        "next 200",
        "next 204",
        "served 201",
        "retry 200",
        "retry same annotation",
        "direct 201",
        "direct 409",
    }, tally
    # And an item served by the queue could always be submitted; a retry returned the first result
    assert tally["served 201"] == tally["next 200"], tally
    assert tally["retry 200"] == tally["retry same annotation"] == N_ANNOTATORS, tally
    assert tally["next 204"] > 0, tally  # the run reached the empty-queue boundary
    # And the stored annotations are exactly the accepted submissions (2xx), one row per client_id
    annotations = Annotation.objects.filter(project=project)
    assert annotations.count() == len(shared["accepted"]) == tally["served 201"] + tally["direct 201"]
    assert {str(value) for value in annotations.values_list("client_id", flat=True)} == shared["accepted"]
    # And no item is over k, no annotator is twice on an item, and each item's counter matches its rows
    live = Count("annotations", filter=Q(annotations__is_live=True))
    per_item = Item.objects.filter(project=project).annotate(live=live)
    assert max(item.live for item in per_item) <= K
    assert all(item.annotation_count == item.live for item in per_item)
    per_pair = annotations.values("item", "annotator").annotate(n=Count("id"))
    assert max(row["n"] for row in per_pair) == 1
    # And no lease was left hanging
    assert not Assignment.objects.filter(project=project, state=AssignmentState.ACTIVE).exists()
