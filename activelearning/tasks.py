from celery import shared_task
from django.db import OperationalError

from activelearning import services
from activelearning.services.scoring import CONFIDENT
from core.jobs import job_execute


@shared_task(name="activelearning.train", acks_late=True)
def train(*, job_id: str) -> None:
    job_execute(job_id=job_id, work=lambda job, context: services.model_train_run(job=job, context=context))


@shared_task(
    name="activelearning.item_labelled",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def item_labelled(*, project_id: int, item_id: int) -> None:
    """An item reached its target: adaptive overlap for it, then a re-score when enough new labels arrived."""
    services.item_labelled_process(project_id=project_id, item_id=item_id, confidence=CONFIDENT)
