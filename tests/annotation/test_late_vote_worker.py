"""A late vote on an item closed short runs the item-labelled hooks like any other, on the real worker: the item's
consensus after it equals the one computed by hand from all its votes."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment, Item, ItemStatus, LabelledItemMark
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator, leases_expire
from tests.conftest import wait_until_worker_idle
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.worker]


def _passes_done(item, *, worker, deadline_seconds: float = 120.0) -> Item:
    """Wait (bounded) until no per-item pass is pending for ``item`` and the worker holds nothing."""
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        wait_until_worker_idle()
        if not LabelledItemMark.objects.filter(item_id=item.pk).exists():
            return Item.objects.get(pk=item.pk)
        time.sleep(0.2)
    pytest.fail(
        f"the per-item pass of {item.external_id} did not run in {deadline_seconds}s\n{worker.log_tail()}"
    )


def _label(project, user, label):
    lease = assignment_next_for_annotator(project=project, user=user)
    annotation_submit(project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=[label]))


def test_a_late_vote_on_an_item_closed_short_updates_its_consensus(worker):
    # Given k = 3, majority-vote consensus, three annotators: a votes neg, b votes pos, c is served the item
    project = make_project(k=3, consensus_method="majority_vote", rescore_every=0)
    add_items(project, 1)
    item = Item.objects.get(project=project)
    a, b, c = (add_member(project) for _ in range(3))
    _label(project, a, "neg")
    _label(project, b, "pos")
    lease = assignment_next_for_annotator(project=project, user=c)
    assert lease.item_id == item.pk
    # and c's lease lapses: the sweep closes the item short with its two votes, and the worker's pass gives it
    # the consensus of a 1-1 tie (confidence 1/2, whichever label the tie-break takes); a tie nobody is left to
    # break goes to review
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    leases_expire()
    closed = _passes_done(item, worker=worker)
    assert (closed.annotation_count, closed.target_annotations) == (2, 3)
    assert closed.status in (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)
    assert closed.consensus_label in ("neg", "pos")
    assert closed.consensus_confidence == pytest.approx(1 / 2)
    # When c submits late (the item still has room for a third vote) with "pos"
    _, created = annotation_submit(
        project=project, user=c, data=AnnotationInput(item_id=item.pk, labels=["pos"])
    )
    assert created
    # Then the worker updates the item: votes neg, pos, pos -> "pos" by 2 of 3
    after = _passes_done(item, worker=worker)
    assert after.annotation_count == 3
    assert (after.consensus_label, after.consensus_confidence) == ("pos", pytest.approx(2 / 3))
