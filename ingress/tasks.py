"""Celery tasks for file imports and duplicate-group refreshes: load the job, run its work function under the
job lifecycle."""

from celery import shared_task

from core import jobs

IMPORT_TASK = "annotation.import"
NEAR_DUP_REFRESH_TASK = "annotation.near_dup_refresh"


@shared_task(name=IMPORT_TASK, acks_late=True)
def import_file(*, job_id: str) -> None:
    from ingress.services.imports import import_run

    jobs.job_execute(job_id=job_id, work=import_run)


@shared_task(name=NEAR_DUP_REFRESH_TASK, acks_late=True)
def near_dup_refresh(*, job_id: str) -> None:
    from ingress.services.near_duplicates import near_dup_refresh_run

    jobs.job_execute(job_id=job_id, work=near_dup_refresh_run)
