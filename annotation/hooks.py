"""Inversion point so the lowest app can notify higher ones without importing them.

Higher apps register Celery task *names* in their AppConfig.ready(); the annotation app sends them by name
after commit. A broker outage never loses a label: the annotation is already committed, and the quality
run recomputes everything from the database.
"""

import logging

from celery import current_app

logger = logging.getLogger(__name__)

ITEM_LABELLED_TASKS: list[str] = []


def register_item_labelled(task_name: str) -> None:
    if task_name not in ITEM_LABELLED_TASKS:
        ITEM_LABELLED_TASKS.append(task_name)


def item_labelled(*, project_id: int, item_id: int) -> None:
    for name in ITEM_LABELLED_TASKS:
        try:
            current_app.send_task(name, kwargs={"project_id": project_id, "item_id": item_id}, retry=False)
        except Exception:  # noqa: BLE001 - the label is stored; the periodic quality run catches up
            logger.warning("could not enqueue %s for item %s; the next quality run will catch up", name, item_id)
