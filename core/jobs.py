"""The one background-job lifecycle every app uses.

A ``Job`` row exists before its task is enqueued (after commit). The task calls ``job_execute``, which moves it
queued → running → succeeded|failed, returns early when it is already terminal, keeps a heartbeat so the sweep can
tell a dead worker from a slow one, and records the error text on failure. Work functions must be idempotent:
they store results under unique constraints (delete-and-insert for the job) so a retried run changes nothing.
"""

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import TERMINAL_STATUSES, Job, JobStatus

if TYPE_CHECKING:
    from annotation.models import Project

logger = logging.getLogger(__name__)


class JobFailed(Exception):
    """Raised by a work function to end its job ``failed`` with a reason written for people (stored as the
    job's ``error`` as it is, with no exception class name) and, optionally, a ``result`` (e.g. the row
    report of an import that could not use any row)."""

    def __init__(self, message: str, *, result: dict | None = None):
        super().__init__(message)
        self.message = message
        self.result = result


class JobContext:
    """Passed to work functions: progress reporting with a heartbeat, throttled to one write per second."""

    def __init__(self, job: Job):
        self.job = job
        self._last_write = timezone.now() - timedelta(seconds=10)

    def progress(self, fraction: float, message: str = "") -> None:
        now = timezone.now()
        if (now - self._last_write).total_seconds() < 1.0 and fraction < 1.0:
            return
        self._last_write = now
        Job.objects.filter(pk=self.job.pk).update(
            progress=max(0.0, min(1.0, fraction)), message=message[:300], heartbeat_at=now
        )


def job_create(
    *,
    kind: str,
    task_name: str,
    project: "Project | None" = None,
    params: dict | None = None,
    user: Any = None,
) -> Job:
    """Create the Job row and enqueue its task after the surrounding transaction commits."""
    job = job_record(kind=kind, task_name=task_name, project=project, params=params, user=user)
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def job_record(
    *,
    kind: str,
    task_name: str,
    project: "Project | None" = None,
    params: dict | None = None,
    user: Any = None,
) -> Job:
    """Create the Job row only: for a job this process runs itself (``job_execute``), nothing enqueued."""
    return Job.objects.create(
        kind=kind,
        task_name=task_name,
        project=project,
        params=params or {},
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def job_enqueue(*, job_id: Any) -> bool:
    """Send the job's task. On a broker outage the job stays queued and the sweep re-sends it; never runs inline."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return False
    try:
        current_app.send_task(job.task_name, kwargs={"job_id": str(job.pk)}, retry=True)
    except Exception as exc:  # noqa: BLE001 - the broker is down; the sweep re-drives the job
        logger.warning("broker unavailable for job %s: %s", job.pk, exc)
        Job.objects.filter(pk=job.pk).update(
            message="Waiting for the task broker; it will be sent when it is back."
        )
        return False
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    return True


def job_execute(*, job_id: str, work: Callable[[Job, JobContext], dict | None]) -> None:
    """Run ``work`` for the job unless it is already terminal or freshly running elsewhere."""
    now = timezone.now()
    stale = timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS)
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in TERMINAL_STATUSES:
            return
        if job.status == JobStatus.RUNNING and job.heartbeat_at and now - job.heartbeat_at < stale:
            return  # a duplicate delivery while the first run is alive
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "error"])
    context = JobContext(job)
    try:
        result = work(job, context)
    except JobFailed as exc:
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            error=exc.message[:4000],
            result=exc.result,
            message="",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
        return
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            error=detail[:4000],
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
        return
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, progress=1.0, result=result or {}, finished_at=timezone.now(), message=""
    )


def jobs_sweep(*, now=None) -> dict:
    """Re-drive jobs a dead worker or a broker outage left behind.

    Queued jobs never sent (or sent long ago and not started) are re-sent; running jobs with a stale heartbeat
    are re-queued until LABELGATE_JOB_MAX_ATTEMPTS, then failed with a reason.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS)
    resent = failed = requeued = 0
    for job in Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=30)).only(
        "pk", "enqueued_at"
    )[:500]:
        if job.enqueued_at is None or job.enqueued_at < stale:
            resent += int(job_enqueue(job_id=job.pk))
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale)[:500]:
        if job.attempts >= settings.LABELGATE_JOB_MAX_ATTEMPTS:
            failed += Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED,
                error=f"The worker running this job stopped responding {job.attempts} times; retry the job.",
                finished_at=now,
            )
        else:
            requeued += Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED
            )
            job_enqueue(job_id=job.pk)
    return {"resent": resent, "requeued": requeued, "failed": failed}
