"""Celery task for file imports: load the job, run the import work function under the job lifecycle."""

from celery import shared_task

from annotation import jobs

IMPORT_TASK = "annotation.import"


@shared_task(name=IMPORT_TASK, acks_late=True)
def import_file(*, job_id: str) -> None:
    from annotation.services.imports import import_run

    jobs.job_execute(job_id=job_id, work=import_run)
