"""Priority set, target set, reopen and route to review: how the active-learning layer's decisions reach the
queue. Arrays in; chunked set-based statements out (a handful per chunk, never one per item); every changed row's
``updated_at`` is bumped."""

from __future__ import annotations

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from annotation.models import Item, ItemStatus
from annotation.services.item_state.copy_text import ID_RANGE, copy_floats, copy_ints, id_range, rows_table

CHUNK = 2000
# Labelled items whose votes may still be asked more annotations for (no reviewer decision yet).
OVERLAP_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)


def items_priority_set(*, item_ids: np.ndarray, priority: np.ndarray) -> None:
    """Set ``Item.priority`` per item (chunked)."""
    now = timezone.now()
    ids = np.asarray(item_ids).tolist()
    values = np.asarray(priority).tolist()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for start in range(0, len(ids), CHUNK):
                part = ids[start : start + CHUNK]
                rows_table(
                    cursor,
                    "item_priority_rows",
                    "id bigint, priority double precision",
                    [copy_ints(part), copy_floats(np.asarray(values[start : start + CHUNK]), len(part))],
                )
                cursor.execute(
                    f"UPDATE {Item._meta.db_table} AS i SET priority = t.priority, updated_at = %s "
                    f"FROM item_priority_rows AS t WHERE i.id = t.id AND {ID_RANGE}",
                    [now, *id_range(part)],
                )
        return
    for start in range(0, len(ids), CHUNK):
        objects = [
            Item(pk=pk, priority=float(value), updated_at=now)
            for pk, value in zip(ids[start : start + CHUNK], values[start : start + CHUNK], strict=True)
        ]
        Item.objects.bulk_update(objects, ["priority", "updated_at"], batch_size=500)


def items_target_set_for_new(*, item_ids: np.ndarray, target: int) -> int:
    """Set the annotation target of items still ``new`` (never leased, so no annotator can be cut short)."""
    updated = 0
    ids = np.asarray(item_ids).tolist()
    for start in range(0, len(ids), CHUNK):
        updated += (
            Item.objects.filter(pk__in=ids[start : start + CHUNK], status=ItemStatus.NEW)
            .exclude(target_annotations=target)
            .update(target_annotations=target, updated_at=timezone.now())
        )
    return updated


def items_reopen(
    *, item_ids: np.ndarray, seen_count: np.ndarray, target: np.ndarray, priority: np.ndarray
) -> int:
    """Raise targets and send labelled items back to the queue (``in_progress``) with the given priorities.

    Only items still labelled / needing review, not gold, without a reviewer's final label and with the
    annotation count the decision was made on are touched, so a concurrent vote or review is never overridden.
    Grouped by (count, target): a handful of UPDATEs, whatever the number of items.
    """
    now = timezone.now()
    reopened = 0
    groups: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for pk, count, new_target, value in zip(
        np.asarray(item_ids).tolist(),
        np.asarray(seen_count).tolist(),
        np.asarray(target).tolist(),
        np.asarray(priority).tolist(),
        strict=True,
    ):
        groups.setdefault((count, new_target), []).append((pk, value))
    for (count, new_target), members in groups.items():
        for start in range(0, len(members), CHUNK):
            part = members[start : start + CHUNK]
            with transaction.atomic():
                # Locked, so a reviewer's decision or a new vote landing meanwhile is seen, never overwritten.
                touched = list(
                    Item.objects.select_for_update()
                    .filter(
                        pk__in=[pk for pk, _ in part],
                        status__in=OVERLAP_STATUSES,
                        annotation_count=count,
                        is_gold=False,
                        final_label__isnull=True,
                    )
                    .values_list("pk", flat=True)
                )
                if not touched:
                    continue
                reopened += Item.objects.filter(pk__in=touched).update(
                    target_annotations=new_target, status=ItemStatus.IN_PROGRESS, updated_at=now
                )
                values = dict(part)
                Item.objects.bulk_update(
                    [Item(pk=pk, priority=values[pk]) for pk in touched], ["priority"], batch_size=500
                )
    return reopened


def item_reopen(*, item_id: int, target: int, priority: float) -> None:
    """``items_reopen`` for one item whose row the caller holds locked and has checked (one UPDATE)."""
    Item.objects.filter(pk=item_id).update(
        target_annotations=int(target),
        status=ItemStatus.IN_PROGRESS,
        priority=float(priority),
        updated_at=timezone.now(),
    )


def items_route_to_review(*, item_ids: np.ndarray, seen_count: np.ndarray) -> int:
    """Move ``labelled`` items whose votes stay disputed with no annotator left to ask to ``needs_review``.

    Like ``items_reopen``, only items still labelled, without a reviewer's final label and with the annotation
    count the decision was made on are touched. Grouped by count: a handful of UPDATEs.
    """
    now = timezone.now()
    moved = 0
    groups: dict[int, list[int]] = {}
    for pk, count in zip(np.asarray(item_ids).tolist(), np.asarray(seen_count).tolist(), strict=True):
        groups.setdefault(count, []).append(pk)
    for count, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            moved += Item.objects.filter(
                pk__in=ids[start : start + CHUNK],
                status=ItemStatus.LABELLED,
                annotation_count=count,
                is_gold=False,
                final_label__isnull=True,
            ).update(status=ItemStatus.NEEDS_REVIEW, updated_at=now)
    return moved
