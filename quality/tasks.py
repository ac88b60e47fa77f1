from celery import shared_task
from django.db import OperationalError

from core.jobs import job_execute
from quality import services


@shared_task(name="quality.run", acks_late=True)
def run(*, job_id: str) -> None:
    job_execute(job_id=job_id, work=lambda job, context: services.quality_run(job=job, context=context))


@shared_task(
    name="quality.item_labelled",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def item_labelled(*, project_id: int, item_id: int) -> None:
    services.item_consensus_update(project_id=project_id, item_id=item_id)


@shared_task(name="quality.status_snapshot", acks_late=True)
def status_snapshot() -> dict:
    """Hourly (``CELERY_BEAT_SCHEDULE``): today's counts by status of every project. A failed run is not retried;
    the next one an hour later writes the same rows."""
    return services.status_snapshots_take()


@shared_task(name="quality.dashboard_snapshot", acks_late=True)
def dashboard_snapshot() -> dict:
    """Every 5 minutes (``CELERY_BEAT_SCHEDULE``): the dashboard aggregates of every large project. A failed run is
    not retried; the next one writes fresher rows, and until then the dashboard falls back to live reads once the
    stored ones are ``STORED_MAX_AGE`` old."""
    return services.dashboard_snapshots_take()
