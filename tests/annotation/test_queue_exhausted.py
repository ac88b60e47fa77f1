"""A queue that always finishes (annotation/services/queue.py): an in-progress item nobody is left to annotate
(skips, lapsed leases, annotators leaving the role) is closed when ``next`` has nothing for someone, and goes
back to the queue when a new annotator can give it the votes the project asks for."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment, Item, ItemStatus, Role
from annotation.selectors import progress_for_annotator
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.projects import membership_set
from annotation.services.queue import (
    assignment_next_for_annotator,
    assignment_skip,
    items_close_exhausted,
    leases_expire,
)
from ingress.services.bulk import item_bulk_create
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def _one_item_project(n_annotators: int = 3, k: int = 3):
    project = make_project(k=k)
    add_items(project, 1)
    return project, Item.objects.get(project=project), [add_member(project) for _ in range(n_annotators)]


def _label(project, user, label="pos"):
    lease = assignment_next_for_annotator(project=project, user=user)
    annotation_submit(project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=[label]))
    return lease


def _refresh(item) -> Item:
    return Item.objects.get(pk=item.pk)


def test_an_item_the_last_annotator_skips_closes_as_labelled_with_the_votes_it_has():
    # Given k = 3, three annotators; two labelled the item, the third is served it
    project, item, (a, b, c) = _one_item_project()
    _label(project, a)
    _label(project, b)
    lease = assignment_next_for_annotator(project=project, user=c)
    # While the third holds the lease, nobody's empty queue closes the item
    assert assignment_next_for_annotator(project=project, user=a) is None
    assert _refresh(item).status == ItemStatus.IN_PROGRESS
    # When the third skips it and asks again
    assignment_skip(project=project, user=c, assignment_id=lease.pk)
    assert assignment_next_for_annotator(project=project, user=c) is None
    # Then the item is labelled with its two votes (its target stays 3: it was closed short), nothing is left
    item = _refresh(item)
    assert (item.status, item.annotation_count, item.target_annotations) == (ItemStatus.LABELLED, 2, 3)
    assert [progress_for_annotator(project=project, user=user)["left"] for user in (a, b, c)] == [0, 0, 0]


def test_an_item_everyone_skipped_goes_to_review():
    # Given one item and two annotators who both skip it
    project, item, (a, b) = _one_item_project(n_annotators=2)
    for user in (a, b):
        lease = assignment_next_for_annotator(project=project, user=user)
        assignment_skip(project=project, user=user, assignment_id=lease.pk)
    # When the last of them finds nothing left
    assert assignment_next_for_annotator(project=project, user=b) is None
    # Then the item, with no vote at all, waits for a reviewer's decision
    assert _refresh(item).status == ItemStatus.NEEDS_REVIEW


def test_an_item_is_not_closed_while_an_annotator_has_not_seen_it():
    # Given two of three annotators labelled the item
    project, item, (a, b, c) = _one_item_project()
    _label(project, a)
    _label(project, b)
    # When the first finds nothing left for them, and a sweep runs over the project
    assert assignment_next_for_annotator(project=project, user=a) is None
    assert items_close_exhausted(project=project) == []
    # Then the item stays in progress: the third can still be served it
    assert _refresh(item).status == ItemStatus.IN_PROGRESS
    assert progress_for_annotator(project=project, user=c)["left"] == 1


def test_a_lapsed_last_lease_closes_the_item_in_the_lease_sweep():
    # Given two of three annotators labelled the item and the third's lease on it lapsed
    project, item, (a, b, c) = _one_item_project()
    _label(project, a)
    _label(project, b)
    lease = assignment_next_for_annotator(project=project, user=c)
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # When the periodic sweep expires it (nobody asks for work again)
    assert leases_expire() == 1
    # Then the item closes: the queue never serves it to the third annotator again
    assert _refresh(item).status == ItemStatus.LABELLED


def test_an_annotator_moved_to_another_role_no_longer_keeps_items_open():
    # Given two of three annotators labelled the item
    project, item, (a, b, c) = _one_item_project()
    _label(project, a)
    _label(project, b)
    # When the third becomes a reviewer
    membership_set(project=project, user_id=c.pk, role=Role.REVIEWER)
    # Then the item closes with its two votes
    assert (_refresh(item).status, _refresh(item).annotation_count) == (ItemStatus.LABELLED, 2)


def test_an_item_closed_short_goes_back_to_the_queue_for_a_new_annotator():
    # Given an item closed with two votes of three after the third annotator skipped it
    project, item, (a, b, c) = _one_item_project()
    _label(project, a)
    _label(project, b)
    lease = assignment_next_for_annotator(project=project, user=c)
    assignment_skip(project=project, user=c, assignment_id=lease.pk)
    assert assignment_next_for_annotator(project=project, user=c) is None
    assert _refresh(item).status == ItemStatus.LABELLED
    # When a new annotator joins the project
    newcomer = UserFactory()
    membership_set(project=project, user_id=newcomer.pk, role=Role.ANNOTATOR)
    # Then the item is back in the queue, served to them, and labelled once their vote is in
    assert _refresh(item).status == ItemStatus.IN_PROGRESS
    assert progress_for_annotator(project=project, user=newcomer)["left"] == 1
    assert _label(project, newcomer).item_id == item.pk
    item = _refresh(item)
    assert (item.status, item.annotation_count) == (ItemStatus.LABELLED, 3)


def test_a_project_without_annotators_closes_what_its_manager_labelled_and_reopens_it_when_annotators_join():
    # Given a k = 3 project whose manager labels both items before inviting anyone
    project = make_project(k=3)
    add_items(project, 2)
    manager = project.created_by
    _label(project, manager)
    _label(project, manager)
    # When the manager finds nothing left
    assert assignment_next_for_annotator(project=project, user=manager) is None
    # Then both items are closed as labelled: no annotator exists to give them more votes
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {ItemStatus.LABELLED}
    # and once an annotator joins, they go back to the queue for the votes the project asks for
    membership_set(project=project, user_id=UserFactory().pk, role=Role.ANNOTATOR)
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {
        ItemStatus.IN_PROGRESS
    }


def test_new_items_are_never_closed_for_lack_of_annotators():
    # Given a project with three items nobody was served and no annotator yet
    project = make_project(k=3)
    add_items(project, 3)
    # When exhausted items are closed
    closed = items_close_exhausted(project=project)
    # Then none is: items nobody was served wait for the annotators to come
    assert closed == []
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {ItemStatus.NEW}


def test_gold_items_are_served_before_nothing_is_left_and_close_once_every_annotator_saw_them():
    # Given a gold rate of 0.1, one ordinary item and one gold item, two annotators
    project = make_project(k=2, gold_rate=0.1)
    add_items(project, 1)
    item_bulk_create(project=project, rows=[{"external_id": "g0", "text": "gold", "gold_label": "pos"}])
    gold = Item.objects.get(project=project, is_gold=True)
    crowd = [add_member(project) for _ in range(2)]
    # When each labels whatever they are served until nothing is left (the 0.1 draw below the rate never comes)
    rng = random.Random(3)
    served = {user.pk: [] for user in crowd}
    for user in crowd:
        while (lease := assignment_next_for_annotator(project=project, user=user, rng=rng)) is not None:
            served[user.pk].append(lease.item_id)
            annotation_submit(
                project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
            )
    # Then each was served the gold item too, and nothing is left in progress: the gold item is closed
    assert all(gold.pk in items for items in served.values())
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {ItemStatus.LABELLED}
    # and a new annotator gets the gold item back in the queue
    membership_set(project=project, user_id=UserFactory().pk, role=Role.ANNOTATOR)
    assert _refresh(gold).status == ItemStatus.IN_PROGRESS
