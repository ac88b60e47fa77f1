"""Reads of jobs for their callers."""

from django.contrib.auth.models import User
from django.db.models import Q

from annotation.models import Membership
from core.models import Job, JobStatus


def job_get_for_user(*, user: User, job_id: str) -> Job | None:
    job = Job.objects.filter(pk=job_id).select_related("project").first()
    if job is None:
        return None
    if user.is_staff or job.created_by_id == user.pk:
        return job
    if (
        job.project_id
        and Membership.objects.filter(
            user=user, project_id=job.project_id, role__in=("reviewer", "manager")
        ).exists()
    ):
        return job
    return None


def job_jobs_ahead(*, job: Job) -> int | None:
    """How many jobs ``job`` waits behind: the running ones and the queued ones created before it (every Job
    sent to the broker runs on the one jobs queue, taken oldest first; per-item passes have their own queue and
    no Job row). A job a process runs itself (a shell import) was never sent and holds no worker. None once it
    is no longer queued."""
    if job.status != JobStatus.QUEUED:
        return None
    return (
        Job.objects.filter(
            Q(status=JobStatus.RUNNING, enqueued_at__isnull=False)
            | Q(status=JobStatus.QUEUED, created_at__lt=job.created_at)
        )
        .exclude(pk=job.pk)
        .count()
    )
