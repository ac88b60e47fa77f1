import time

from celery import shared_task
from django.db import OperationalError

from annotation.services.item_passes import item_passes_resend, items_pass_run
from annotation.services.queue import leases_expire
from core import jobs


def _selftest(job, context) -> dict:
    steps = int(job.params.get("steps", 3))
    # A pause per step holds the jobs worker on purpose, to see how the jobs queued behind it are shown.
    pause = float(job.params.get("step_seconds", 0))
    for step in range(steps):
        time.sleep(pause)
        context.progress((step + 1) / steps, f"step {step + 1} of {steps}")
    return {"steps": steps, "echo": job.params.get("echo")}


@shared_task(name="annotation.selftest", acks_late=True)
def selftest(*, job_id: str) -> None:
    jobs.job_execute(job_id=job_id, work=_selftest)


@shared_task(name="annotation.job_sweep", acks_late=True)
def job_sweep() -> dict:
    return {**jobs.jobs_sweep(), "item_passes": item_passes_resend()}


@shared_task(
    name="annotation.items_pass",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def items_pass(*, project_id: int) -> dict:
    """Every item of the project labelled since the last pass (routed to the items queue)."""
    return items_pass_run(project_id=project_id)


@shared_task(name="annotation.lease_sweep", acks_late=True)
def lease_sweep() -> int:
    return leases_expire()
