"""Celery beat (``CELERY_BEAT_SCHEDULE``, read by config/celery.py): the schedule holds the job sweep, the lease
sweep and the snapshot tasks, each scheduled name is a registered task, and each entry, sent the way beat sends
it, runs on the real worker. A task renamed on one side only (schedule or ``@shared_task``) fails here."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from celery import beat
from django.conf import settings
from django.utils import timezone

from annotation import tasks as annotation_tasks
from annotation.models import Assignment, AssignmentState, Item
from config.celery import app
from core.models import Job, JobStatus
from quality import tasks as quality_tasks
from quality.dashboard.selectors import LARGE_COUNT
from quality.models import ProjectDashboardSnapshot, ProjectStatusSnapshot
from tests.factories import UserFactory, add_items, make_project

MUST_BE_SCHEDULED = (
    annotation_tasks.job_sweep,
    annotation_tasks.lease_sweep,
    quality_tasks.status_snapshot,
    quality_tasks.dashboard_snapshot,
)


def test_the_beat_schedule_holds_the_sweeps_and_snapshots_and_every_name_is_a_registered_task():
    # Given the schedule as Celery itself reads it from the Django settings, and the tasks the worker registers
    app.loader.import_default_modules()
    scheduled = {key: entry["task"] for key, entry in app.conf.beat_schedule.items()}
    # Then the sweeps and snapshots are in it, under the names their tasks are registered with
    assert {task.name for task in MUST_BE_SCHEDULED} <= set(scheduled.values())
    for key, name in scheduled.items():
        assert name in app.tasks, f"beat entry {key!r} sends {name!r}, which no task is registered as"
    # And beat's own scheduler turns every entry into a positive interval
    entries = beat.Scheduler(app).schedule
    for key in scheduled:
        assert entries[key].schedule.run_every.total_seconds() > 0, key


def _wait_until(check: Callable[[], bool], *, what: str, worker, deadline_seconds: float = 60.0) -> None:
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {deadline_seconds}s.\n{worker.log_tail()}")


@pytest.mark.worker
def test_every_beat_entry_runs_on_the_real_worker(worker):
    # Given work for each scheduled task: a job whose worker died on its last attempt, an expired lease,
    # and a 3-item project that counted as large yesterday (a status snapshot of LARGE_COUNT items)
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS + 3600)
    job = Job.objects.create(
        kind="selftest",
        task_name="annotation.selftest",
        status=JobStatus.RUNNING,
        attempts=settings.LABELGATE_JOB_MAX_ATTEMPTS,
        started_at=stale,
        heartbeat_at=stale,
        enqueued_at=stale,
    )
    project = make_project()
    add_items(project, 3)
    lease = Assignment.objects.create(
        project=project,
        item=Item.objects.filter(project=project).first(),
        annotator=UserFactory(),
        expires_at=now - timedelta(minutes=1),
    )
    ProjectStatusSnapshot.objects.create(
        project=project,
        day=now.date() - timedelta(days=1),
        status="new",
        count=LARGE_COUNT,
        taken_at=now,
    )
    effects = {
        annotation_tasks.job_sweep.name: (
            "the stale job failing",
            lambda: Job.objects.get(pk=job.pk).status == JobStatus.FAILED,
        ),
        annotation_tasks.lease_sweep.name: (
            "the expired lease being marked expired",
            lambda: Assignment.objects.get(pk=lease.pk).state == AssignmentState.EXPIRED,
        ),
        quality_tasks.status_snapshot.name: (
            "today's status snapshot (3 new items)",
            lambda: (
                {
                    status: n
                    for status, n in ProjectStatusSnapshot.objects.filter(
                        project=project, day__gt=now.date() - timedelta(days=1)
                    ).values_list("status", "count")
                    if n
                }
                == {"new": 3}
            ),
        ),
        quality_tasks.dashboard_snapshot.name: (
            "the stored dashboard snapshot of the large project",
            lambda: ProjectDashboardSnapshot.objects.filter(project=project, counts__total=3).exists(),
        ),
    }
    scheduled = {key: entry["task"] for key, entry in app.conf.beat_schedule.items()}
    assert set(scheduled.values()) <= set(effects), "a beat entry this test cannot see run"
    # When each entry is sent by beat's own scheduler, as beat sends it when it is due
    scheduler = beat.Scheduler(app)
    for key in scheduled:
        scheduler.apply_async(scheduler.schedule[key])
    # Then the worker runs each one: its effect shows in the database before the deadline
    for key, name in scheduled.items():
        what, check = effects[name]
        _wait_until(check, what=f"{what} ({key} → {name})", worker=worker)
