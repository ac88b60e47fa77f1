"""End to end with the real Celery worker: three annotators label every item of a k = 3 project through the API
while the worker runs the label hooks (adaptive overlap, per-item consensus). When ``next`` has nothing left for
any of them, no item is left ``in_progress`` and the labelling page's count of items left is 0."""

import time

import pytest

from annotation.models import Item, ItemStatus
from tests.conftest import wait_until_worker_idle
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.worker]

N_ITEMS = 24
SPLIT = {
    0,
    4,
    8,
    12,
    16,
    20,
}  # items the three annotators split three ways: adaptive overlap wants a fourth vote
SKIPPED = 3  # the third annotator skips this item: it can get two votes only


def _label(position: int, annotator: int) -> str:
    if position in SPLIT:
        return ("pos", "neg", "neutral")[annotator]
    return "pos" if annotator < 2 or position % 2 else "neg"


def _wait_for(predicate, *, worker, what: str, deadline_seconds: float = 120.0) -> None:
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what}: not reached in {deadline_seconds}s\n{worker.log_tail()}")


def test_three_annotators_finish_a_k3_project_with_adaptive_overlap_and_nothing_stays_in_progress(
    worker, api
):
    # Given a k = 3 project (up to 5 annotations per item) with exactly three annotators
    project = make_project(k=3, max_annotations_per_item=5, rescore_every=0, consensus_method="majority_vote")
    add_items(project, N_ITEMS)
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    position = {pk: i for i, pk in enumerate(ids)}
    annotators = [add_member(project) for _ in range(3)]
    clients = [api(user) for user in annotators]
    base = f"/api/projects/{project.pk}"

    # When they ask for work and label (or, once, skip) whatever they are served until nobody gets anything
    def work_round() -> int:
        served = 0
        for a, client in enumerate(clients):
            response = client.get(f"{base}/next/")
            if response.status_code == 204:
                continue
            assert response.status_code == 200, response.content
            served += 1
            body = response.json()
            item = body["item"]["id"]
            if a == 2 and position[item] == SKIPPED:
                skipped = client.post(f"{base}/assignments/{body['assignment']['id']}/skip/")
                assert skipped.status_code == 204
                continue
            stored = client.post(
                f"{base}/annotations/", {"item": item, "label": _label(position[item], a)}, format="json"
            )
            assert stored.status_code == 201, stored.content
        return served

    for _ in range(4 * N_ITEMS):
        if not work_round():
            break
    # and the worker has run the hooks of every item that reached its three votes
    split_ids = [ids[i] for i in SPLIT]
    _wait_for(
        lambda: not Item.objects.filter(pk__in=split_ids, status=ItemStatus.LABELLED).exists(),
        worker=worker,
        what="adaptive overlap ran for every split item",
    )
    _wait_for(
        lambda: (
            not Item.objects.filter(project=project, consensus_label__isnull=True)
            .exclude(pk=ids[SKIPPED])
            .exists()
        ),
        worker=worker,
        what="per-item consensus ran for every labelled item",
    )
    wait_until_worker_idle()
    # Then next answers 204 for everyone
    assert [client.get(f"{base}/next/").status_code for client in clients] == [204, 204, 204]
    wait_until_worker_idle()
    # and no item is left in progress: the split items went to review (nobody left to give a fourth vote)
    statuses = dict(Item.objects.filter(project=project).values_list("id", "status"))
    assert [pk for pk, status in statuses.items() if status == ItemStatus.IN_PROGRESS] == []
    split_items = Item.objects.filter(pk__in=split_ids)
    assert {(item.status, item.annotation_count, item.target_annotations) for item in split_items} == {
        (ItemStatus.NEEDS_REVIEW, 3, 3)
    }
    # and the skipped item closed with its two votes
    skipped = Item.objects.get(pk=ids[SKIPPED])
    assert skipped.annotation_count == 2
    assert skipped.status in (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)
    # and the labelling page counts nothing left for anyone
    assert [client.get(f"{base}/progress/").json()["left"] for client in clients] == [0, 0, 0]
    assert [client.get(f"{base}/progress/").json()["done"] for client in clients] == [
        N_ITEMS,
        N_ITEMS,
        N_ITEMS - 1,
    ]
