"""The annotator queue (annotation/services/queue.py): order, k, leases, gold mixing, exhaustion."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation import hotpath_sql
from annotation.models import Assignment, AssignmentState, Item, ItemStatus
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator, assignment_skip, leases_expire
from ingress.services.bulk import item_bulk_create
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def next_for(project, user, **kwargs):
    return assignment_next_for_annotator(project=project, user=user, **kwargs)


def submit(project, user, item, label="pos"):
    return annotation_submit(
        project=project, user=user, data=AnnotationInput(item_id=item.pk, labels=[label])
    )


def add_gold(project, n, *, prefix="g"):
    rows = [{"external_id": f"{prefix}{i}", "text": f"gold {i}", "gold_label": "pos"} for i in range(n)]
    result = item_bulk_create(project=project, rows=rows)
    assert not result.errors and result.created == n


def expire(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_serves_highest_priority_first_then_oldest():
    # Given three items: two share the top priority, the older of them has the lower id
    project = make_project(k=3)
    add_items(project, 3)
    low, old_high, new_high = Item.objects.filter(project=project).order_by("id")
    Item.objects.filter(pk__in=[old_high.pk, new_high.pk]).update(priority=5.0)
    annotator = add_member(project)
    # When the annotator works through the queue
    served = []
    for _ in range(3):
        assignment = next_for(project, annotator)
        served.append(assignment.item_id)
        submit(project, annotator, assignment.item)
    # Then priority wins, ties go to the older item
    assert served == [old_high.pk, new_high.pk, low.pk]


def test_serves_a_new_item_and_marks_it_in_progress():
    # Given a project with one new item
    project = make_project(k=2)
    add_items(project, 1)
    annotator = add_member(project)
    # When the annotator asks for work
    assignment = next_for(project, annotator)
    # Then they hold an active lease for the project's lease length and the item is in progress
    item = Item.objects.get(project=project)
    assert assignment.item_id == item.pk
    assert assignment.state == AssignmentState.ACTIVE
    assert assignment.expires_at > timezone.now() + timedelta(seconds=project.lease_seconds - 60)
    assert item.status == ItemStatus.IN_PROGRESS


def test_returns_the_current_unexpired_lease_again():
    # Given an annotator holding a lease
    project = make_project(k=3)
    add_items(project, 5)
    annotator = add_member(project)
    first = next_for(project, annotator)
    # When they ask again before answering
    again = next_for(project, annotator)
    # Then they get the same assignment, and no second lease was taken
    assert again.pk == first.pk
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_a_lease_on_an_item_discarded_since_is_not_returned_again():
    # Given an annotator holding a lease on an item that a reviewer then discarded
    project = make_project(k=3)
    add_items(project, 2)
    annotator = add_member(project)
    lease = next_for(project, annotator)
    Item.objects.filter(pk=lease.item_id).update(status=ItemStatus.DISCARDED)
    # When they ask for work again
    served = next_for(project, annotator)
    # Then they get the other item instead of the dead lease
    assert served is not None and served.pk != lease.pk
    assert served.item_id != lease.item_id


def test_an_item_whose_slots_filled_since_the_pick_began_is_passed_over(monkeypatch):
    # Given two items with k=1: the top one is leased, but the pick's lease count is stale and misses that
    # lease (what a PostgreSQL snapshot taken just before a concurrent lease committed looks like)
    project = make_project(k=1)
    add_items(project, 2)
    top, other = Item.objects.filter(project=project).order_by("id")
    Item.objects.filter(pk=top.pk).update(priority=9.0)
    assert next_for(project, add_member(project)).item_id == top.pk
    real_count = hotpath_sql._active_leases
    stale = {"left": 1}

    def first_count_is_stale(item_column):
        if stale["left"]:
            stale["left"] -= 1
            return "(SELECT 0 WHERE %s IS NOT NULL)"  # no leases seen; still takes the "now" parameter
        return real_count(item_column)

    monkeypatch.setattr(hotpath_sql, "_active_leases", first_count_is_stale)
    # When a second annotator asks
    served = next_for(project, add_member(project))
    # Then the re-count under the row lock rejects the full item and the other one is served
    assert stale["left"] == 0
    assert served.item_id == other.pk


def test_never_serves_the_same_item_twice_to_one_annotator():
    # Given two items with k=3 and one annotator who has labelled the first one (and another who has not started)
    project = make_project(k=3)
    add_items(project, 2)
    annotator = add_member(project)
    add_member(project)
    first = next_for(project, annotator)
    submit(project, annotator, first.item)
    # When they ask for the next two items
    second = next_for(project, annotator)
    submit(project, annotator, second.item)
    third = next_for(project, annotator)
    # Then they get the other item, then nothing — though both items still need annotations
    assert second.item_id != first.item_id
    assert third is None
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {
        ItemStatus.IN_PROGRESS
    }


def test_never_serves_a_skipped_item_again_to_the_same_annotator():
    # Given one item, skipped by the annotator (another has not started yet)
    project = make_project(k=3)
    add_items(project, 1)
    annotator = add_member(project)
    other = add_member(project)
    assignment = next_for(project, annotator)
    assignment_skip(project=project, user=annotator, assignment_id=assignment.pk)
    # When they ask again
    again = next_for(project, annotator)
    # Then nothing is left for them, while another annotator still gets the item
    assert again is None
    assert next_for(project, other).item_id == assignment.item_id


def test_never_more_than_k_live_annotations_plus_unexpired_leases():
    # Given one item with k=2: one annotator labelled it, another holds a lease
    project = make_project(k=2)
    add_items(project, 1)
    labeller, holder, third = add_member(project), add_member(project), add_member(project)
    submit(project, labeller, next_for(project, labeller).item)
    assert next_for(project, holder) is not None
    # When a third annotator asks
    served = next_for(project, third)
    # Then the item is full (1 annotation + 1 lease = k) and nothing is served
    assert served is None


def test_an_expired_lease_returns_the_item_to_the_queue():
    # Given one item with k=1 leased by an annotator whose lease then expired
    project = make_project(k=1)
    add_items(project, 1)
    slow, other = add_member(project), add_member(project)
    lease = next_for(project, slow)
    assert next_for(project, other) is None
    expire(lease)
    # When another annotator asks
    served = next_for(project, other)
    # Then the item is theirs
    assert served is not None and served.item_id == lease.item_id


def test_an_expired_own_lease_is_not_returned_as_current():
    # Given an annotator whose lease on the only item expired
    project = make_project(k=1)
    add_items(project, 1)
    annotator = add_member(project)
    expire(next_for(project, annotator))
    # When they ask again
    served = next_for(project, annotator)
    # Then they are not served the same item twice
    assert served is None


def test_leases_expire_marks_expired_leases_only():
    # Given two leases, one expired
    project = make_project(k=3)
    add_items(project, 2)
    fresh = next_for(project, add_member(project))
    stale = next_for(project, add_member(project))
    expire(stale)
    # When the lease sweep runs
    n = leases_expire()
    # Then only the stale lease changed state
    assert n == 1
    assert Assignment.objects.get(pk=stale.pk).state == AssignmentState.EXPIRED
    assert Assignment.objects.get(pk=fresh.pk).state == AssignmentState.ACTIVE


def test_gold_items_are_served_when_the_gold_rate_is_one():
    # Given a project with gold rate 1.0, ordinary items of high priority and one gold item
    project = make_project(k=3, gold_rate=1.0)
    add_items(project, 3)
    Item.objects.filter(project=project).update(priority=10.0)
    add_gold(project, 1)
    annotator = add_member(project)
    # When the annotator asks with a seeded rng
    assignment = next_for(project, annotator, rng=random.Random(7))
    # Then the gold item comes first, marked gold on the assignment
    assert assignment.item.is_gold
    assert assignment.is_gold


def test_gold_items_are_never_served_when_the_gold_rate_is_zero():
    # Given a project with gold rate 0.0, one ordinary item and gold items of higher priority
    project = make_project(k=3, gold_rate=0.0)
    add_items(project, 1)
    add_gold(project, 2)
    Item.objects.filter(project=project, is_gold=True).update(priority=10.0)
    annotator = add_member(project)
    # When the annotator works until nothing is left
    served = []
    rng = random.Random(7)
    while (assignment := next_for(project, annotator, rng=rng)) is not None:
        served.append(assignment.item)
        submit(project, annotator, assignment.item)
    # Then only the ordinary item was served
    assert [item.is_gold for item in served] == [False]


def test_gold_items_are_mixed_in_at_the_project_rate():
    # Given a gold rate of 0.5 and plenty of ordinary and gold items
    project = make_project(k=1, gold_rate=0.5)
    add_items(project, 40)
    add_gold(project, 40)
    annotator = add_member(project)
    seed_rng, expected_rng = random.Random(11), random.Random(11)
    # When the annotator takes 20 items with a seeded rng
    gold_flags = []
    for _ in range(20):
        assignment = next_for(project, annotator, rng=seed_rng)
        gold_flags.append(assignment.item.is_gold)
        submit(project, annotator, assignment.item)
    # Then each draw below the rate served a gold item, the rest ordinary ones
    assert gold_flags == [expected_rng.random() < 0.5 for _ in range(20)]
    assert 0 < sum(gold_flags) < 20


def test_gold_falls_back_to_ordinary_items_when_no_gold_is_left():
    # Given gold rate 1.0 but no gold item
    project = make_project(k=3, gold_rate=1.0)
    add_items(project, 1)
    # When an annotator asks
    assignment = next_for(project, add_member(project), rng=random.Random(1))
    # Then an ordinary item is served
    assert assignment is not None and not assignment.item.is_gold


@pytest.mark.parametrize(
    "status", [ItemStatus.DISCARDED, ItemStatus.LABELLED, ItemStatus.ACCEPTED, ItemStatus.NEEDS_REVIEW]
)
def test_closed_items_are_never_served(status):
    # Given one open item and a higher-priority item in a closed status
    project = make_project(k=3)
    add_items(project, 2)
    closed, open_item = Item.objects.filter(project=project).order_by("id")
    Item.objects.filter(pk=closed.pk).update(status=status, priority=100.0)
    annotator = add_member(project)
    # When the annotator asks twice (answering the first)
    first = next_for(project, annotator)
    submit(project, annotator, first.item)
    second = next_for(project, annotator)
    # Then only the open item is served
    assert first.item_id == open_item.pk
    assert second is None


def test_labelled_item_is_not_served_to_a_new_annotator():
    # Given an item that reached its k annotations
    project = make_project(k=1)
    add_items(project, 1)
    first = add_member(project)
    submit(project, first, next_for(project, first).item)
    assert Item.objects.get(project=project).status == ItemStatus.LABELLED
    # When a new annotator asks
    served = next_for(project, add_member(project))
    # Then nothing is served
    assert served is None


def test_next_api_returns_204_when_nothing_is_left(api):
    # Given a project whose only item is taken by its one slot
    project = make_project(k=1)
    add_items(project, 1)
    assert next_for(project, add_member(project)) is not None
    # When another annotator asks over the API
    response = api(add_member(project)).get(f"/api/projects/{project.pk}/next/")
    # Then the answer is 204 with no body
    assert response.status_code == 204
    assert response.content == b""


def test_next_api_hides_gold_status_and_labels_from_the_annotator(api):
    # Given a gold item served at gold rate 1.0
    project = make_project(k=3, gold_rate=1.0)
    add_gold(project, 1)
    # When an annotator asks over the API
    body = api(add_member(project)).get(f"/api/projects/{project.pk}/next/").json()
    # Then the response says nothing about gold and carries no labels
    assert set(body["assignment"]) == {"id", "expires_at"}
    assert set(body["item"]) == {"id", "external_id", "text", "media_url", "content_type"}
