"""Inversion point so the lowest app can notify higher ones without importing them.

Higher apps register, in their AppConfig.ready(), the dotted path of a function
``f(*, project_id: int, item_ids: list[int]) -> dict``; the annotation app calls them from the per-item pass
(``annotation.items_pass``), never from a request. A label only marks its item (``LabelledItemMark``) and, when
no pass of the project is waiting, sends one: however many labels arrive, a project has at most one pass in the
broker, and that pass updates every item marked since the last one in one go. A broker outage never loses a
label: the annotation and its mark are in the database, and the job sweep sends the pass when the broker is back.
"""

import logging
import uuid
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import ItemPassSchedule, LabelledItemMark

logger = logging.getLogger(__name__)

ITEMS_LABELLED_HANDLERS: list[str] = []
PASS_TASK = "annotation.items_pass"


def register_items_labelled(handler_path: str) -> None:
    if handler_path not in ITEMS_LABELLED_HANDLERS:
        ITEMS_LABELLED_HANDLERS.append(handler_path)


def items_labelled(*, project_id: int, item_ids: Iterable[int]) -> None:
    """Mark the items for the project's next per-item pass, and have one sent after commit if none is waiting.

    Call inside the transaction that stored the labels (the marks commit with them) or after it."""
    now = timezone.now()
    marks = [
        LabelledItemMark(project_id=project_id, item_id=pk, token=uuid.uuid4(), marked_at=now)
        for pk in dict.fromkeys(item_ids)
    ]
    if not marks:
        return
    # A new token on an existing mark tells a running pass that this item changed after it read it.
    LabelledItemMark.objects.bulk_create(
        marks,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["item"],
        update_fields=["project", "token", "marked_at"],
    )
    transaction.on_commit(lambda: items_pass_schedule(project_id=project_id))


def item_labelled(*, project_id: int, item_id: int) -> None:
    items_labelled(project_id=project_id, item_ids=[item_id])


def items_pass_schedule(*, project_id: int, countdown: float | None = None) -> bool:
    """Send the project's per-item pass unless one is already waiting; returns whether this call sent it."""
    if ItemPassSchedule.objects.filter(project_id=project_id).exists():
        return False
    try:
        with transaction.atomic():
            ItemPassSchedule.objects.create(project_id=project_id, enqueued_at=timezone.now())
    except IntegrityError:
        return False  # a concurrent label created it first and sends the pass
    delay = settings.LABELGATE_ITEM_PASS_DELAY if countdown is None else countdown
    try:
        current_app.send_task(PASS_TASK, kwargs={"project_id": project_id}, countdown=delay, retry=False)
    except Exception:  # noqa: BLE001 - the marks are stored; the next label or the job sweep sends the pass
        ItemPassSchedule.objects.filter(project_id=project_id).delete()
        logger.warning("could not enqueue the per-item pass of project %s; the job sweep will", project_id)
        return False
    return True
