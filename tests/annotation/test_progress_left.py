""" "Left for you" (``progress_for_annotator``): the items ``next`` can still give the annotator, the one on their
screen included, the same figure on the project page, the labelling page and ``GET /progress/``."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment
from annotation.selectors import progress_for_annotator
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator
from ingress.services.bulk import item_bulk_create
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def _left(project, user) -> int:
    return progress_for_annotator(project=project, user=user)["left"]


def test_the_leased_item_and_unseen_gold_count_as_left_and_the_count_is_what_next_serves():
    # Given k=1, three ordinary items and one gold item, a gold rate (so the queue serves gold to everyone)
    project = make_project(k=1, gold_rate=0.5)
    add_items(project, 3)
    item_bulk_create(project=project, rows=[{"external_id": "g0", "text": "gold", "gold_label": "pos"}])
    annotator = add_member(project)
    # By hand: t0, t1, t2 and g0 = 4
    assert _left(project, annotator) == 4
    # When the annotator is leased an item, it is still left for them (it is on their screen)
    rng = random.Random(0)
    lease = assignment_next_for_annotator(project=project, user=annotator, rng=rng)
    assert _left(project, annotator) == 4
    # When they label it, one fewer
    annotation_submit(
        project=project, user=annotator, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
    )
    assert _left(project, annotator) == 3
    # When their next lease lapses, that item is not served to them again, so it is not left for them
    lapsed = assignment_next_for_annotator(project=project, user=annotator, rng=rng)
    Assignment.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _left(project, annotator) == 2
    # Then ``next`` serves exactly that many more items
    served = 0
    while (lease := assignment_next_for_annotator(project=project, user=annotator, rng=rng)) is not None:
        served += 1
        annotation_submit(
            project=project, user=annotator, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
        )
    assert served == 2
    assert _left(project, annotator) == 0


def test_without_a_gold_rate_gold_items_are_not_left_for_anyone():
    # Given k=1, two ordinary items and a gold item the queue never serves (gold rate 0)
    project = make_project(k=1)
    add_items(project, 2)
    item_bulk_create(project=project, rows=[{"external_id": "g0", "text": "gold", "gold_label": "pos"}])
    annotator = add_member(project)
    # Then two are left, and next serves two
    assert _left(project, annotator) == 2
    served = 0
    while (lease := assignment_next_for_annotator(project=project, user=annotator)) is not None:
        served += 1
        annotation_submit(
            project=project, user=annotator, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
        )
    assert served == 2
