"""Per-item work after labels: coalesced into one pass per project on its own queue, so user jobs never wait
behind it and no label is lost by coalescing. Expected consensus labels are the majority of hand-chosen votes."""

import time
from collections import Counter
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.utils import timezone

from annotation import hooks
from annotation.models import Annotation, Item, ItemPassSchedule, ItemStatus, LabelledItemMark
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.item_passes import items_pass_run
from core.models import Job, JobStatus
from datasets import services as dataset_services
from tests.conftest import queue_held, wait_for_job
from tests.factories import add_items, add_member, make_project

LABELS = ("pos", "neg", "neutral")


def votes_for(position: int) -> list[str]:
    """Three votes with a clear majority that varies from item to item."""
    major, minor = LABELS[position % 3], LABELS[(position + 1) % 3]
    return [major, major, minor] if position % 2 else [minor, major, major]


def majority(votes: list[str]) -> str:
    return Counter(votes).most_common(1)[0][0]


def labelled_project(n_items: int):
    """A k=3 project whose items each carry three live votes (written in bulk, as a burst would leave them)."""
    project = make_project(labels=LABELS, k=3)
    manager = project.created_by
    add_items(project, n_items)
    annotators = [add_member(project) for _ in range(3)]
    items = list(Item.objects.filter(project=project).order_by("id"))
    Annotation.objects.bulk_create(
        [
            Annotation(project=project, item=item, annotator=user, labels=[label], guideline_version=1)
            for position, item in enumerate(items)
            for user, label in zip(annotators, votes_for(position), strict=True)
        ],
        batch_size=2000,
    )
    Item.objects.filter(project=project).update(status=ItemStatus.LABELLED, annotation_count=3)
    return project, manager, items


def queue_length(name: str) -> int:
    import redis

    from config.celery import app

    return redis.Redis.from_url(app.conf.broker_url).llen(name)


@contextmanager
def items_worker_held():
    """The per-item worker stops taking passes until the block ends (they wait in the broker)."""
    with queue_held(settings.LABELGATE_ITEMS_QUEUE):
        yield


def wait_until_passes_done(project, *, deadline_seconds: float = 180.0) -> None:
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if (
            not LabelledItemMark.objects.filter(project=project).exists()
            and not ItemPassSchedule.objects.filter(project=project).exists()
        ):
            return
        time.sleep(0.2)
    left = LabelledItemMark.objects.filter(project=project).count()
    pytest.fail(f"{left} labelled items still waited for their pass after {deadline_seconds} s")


def test_a_freeze_finishes_while_thousands_of_item_events_wait_and_nothing_is_lost(worker):
    # Given 3,000 items that just got their third vote, and the per-item worker busy elsewhere (held)
    project, manager, items = labelled_project(3000)
    with items_worker_held():
        # When every item fires its event the way a submission does (after commit)
        for item in items:
            hooks.item_labelled(project_id=project.pk, item_id=item.pk)
        # Then 3,000 events are waiting, coalesced into one pass in the broker
        assert LabelledItemMark.objects.filter(project=project).count() == 3000
        assert queue_length(settings.LABELGATE_ITEMS_QUEUE) == 1
        # When a manager freezes the project right after the burst
        job = dataset_services.dataset_freeze_request(project=project, user=manager, params={})
        job = wait_for_job(job.pk, worker=worker)
        # Then the freeze succeeded while every item event was still waiting: it did not run behind them
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert LabelledItemMark.objects.filter(project=project).count() == 3000
        assert not Item.objects.filter(project=project, consensus_label__isnull=False).exists()
    # When the per-item worker takes passes again
    wait_until_passes_done(project)
    # Then every item's consensus is the majority of its votes: nothing was lost by coalescing
    stored = dict(Item.objects.filter(project=project).values_list("pk", "consensus_label"))
    expected = {item.pk: majority(votes_for(position)) for position, item in enumerate(items)}
    assert stored == expected


def test_labels_submitted_in_a_burst_all_reach_their_items_consensus(worker):
    # Given 40 items and three annotators labelling them through the submit service as fast as it goes
    project = make_project(labels=LABELS, k=3)
    add_items(project, 40)
    annotators = [add_member(project) for _ in range(3)]
    items = list(Item.objects.filter(project=project).order_by("id"))
    # When each annotator submits every item (the third vote of each item fires its event mid-burst)
    for user_position, user in enumerate(annotators):
        for position, item in enumerate(items):
            label = votes_for(position)[user_position]
            annotation_submit(
                project=project, user=user, data=AnnotationInput(item_id=item.pk, labels=[label])
            )
    wait_until_passes_done(project)
    # Then every item holds the consensus of its three votes
    stored = dict(Item.objects.filter(project=project).values_list("pk", "consensus_label"))
    assert stored == {item.pk: majority(votes_for(position)) for position, item in enumerate(items)}


def remark_during_pass(*, project_id: int, item_ids: list[int]) -> dict:
    """A pass handler for the next test: a label for the first item arrives while the pass runs."""
    hooks.item_labelled(project_id=project_id, item_id=item_ids[0])
    return {"seen": len(item_ids)}


@pytest.mark.django_db
def test_a_label_arriving_during_a_pass_keeps_its_mark_for_the_next_one(monkeypatch):
    # Given three marked items
    project, _, items = labelled_project(3)
    hooks.items_labelled(project_id=project.pk, item_ids=[item.pk for item in items])
    monkeypatch.setattr(hooks, "ITEMS_LABELLED_HANDLERS", [f"{__name__}.remark_during_pass"])
    # When a pass runs and the first item is labelled again while it runs
    report = items_pass_run(project_id=project.pk)
    # Then the pass saw all three and deleted the two marks it handled; the re-labelled item waits for the next
    assert report["items"] == 3
    assert list(LabelledItemMark.objects.filter(project=project).values_list("item_id", flat=True)) == [
        items[0].pk
    ]


@pytest.mark.django_db
def test_a_repeated_pass_changes_nothing():
    # Given a project whose marked items were passed once (the real handlers)
    project, _, items = labelled_project(6)
    hooks.items_labelled(project_id=project.pk, item_ids=[item.pk for item in items])
    items_pass_run(project_id=project.pk)
    first = list(
        Item.objects.filter(project=project).order_by("id").values("consensus_label", "status", "issue_kinds")
    )
    # When the same items are marked and passed again (a retried or duplicated delivery)
    hooks.items_labelled(project_id=project.pk, item_ids=[item.pk for item in items])
    items_pass_run(project_id=project.pk)
    # Then nothing changed, and the consensus is each item's majority
    again = list(
        Item.objects.filter(project=project).order_by("id").values("consensus_label", "status", "issue_kinds")
    )
    assert again == first
    assert [row["consensus_label"] for row in first] == [majority(votes_for(p)) for p in range(6)]


@pytest.mark.django_db
def test_a_queued_job_says_how_many_jobs_are_ahead_of_it(api):
    # Given two freezes queued one after the other and no other job queued
    project, manager, _ = labelled_project(2)
    Job.objects.filter(status=JobStatus.QUEUED).update(status=JobStatus.FAILED)
    first = dataset_services.dataset_freeze_request(project=project, user=manager, params={})
    second = dataset_services.dataset_freeze_request(project=project, user=manager, params={})
    client = api(manager)
    # Then the second one has one job ahead, the first none
    assert client.get(f"/api/jobs/{second.pk}/").json()["jobs_ahead"] == 1
    assert client.get(f"/api/jobs/{first.pk}/").json()["jobs_ahead"] == 0
    # And a job that is no longer queued has no place in line
    Job.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING, enqueued_at=timezone.now())
    assert client.get(f"/api/jobs/{first.pk}/").json()["jobs_ahead"] is None
    # And the second still waits behind the first while a worker runs it
    assert client.get(f"/api/jobs/{second.pk}/").json()["jobs_ahead"] == 1
    # But not behind a job a process runs itself (a shell import, never sent to the broker)
    Job.objects.filter(pk=first.pk).update(enqueued_at=None)
    assert client.get(f"/api/jobs/{second.pk}/").json()["jobs_ahead"] == 0
