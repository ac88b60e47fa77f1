"""Annotations made in another tool (a Label Studio export) stored as Labelgate annotations, and the item
counts and statuses that follow, as a submission would move them. Ingress decides which annotations to take;
this module writes them."""

import functools
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotation import hooks, hotpath_cache
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Item,
    ItemStatus,
    Membership,
    Project,
    Role,
)


@dataclass
class ImportedAnnotation:
    """One annotation to store. ``is_live`` is cleared when a later one of the same import supersedes it."""

    item_id: int
    annotator_id: int
    labels: list
    lead_time_ms: int | None
    client_id: uuid.UUID
    supersedes_id: int | None = None
    is_live: bool = True


def imported_annotator_member_ensure(*, project: Project, user_id: int) -> None:
    """Make the imported annotator a member (annotator) of the project unless they are one already. No queue
    side effects: imported accounts are inactive until an admin activates them."""
    if not Membership.objects.filter(user_id=user_id, project=project).exists():
        Membership.objects.create(user_id=user_id, project=project, role=Role.ANNOTATOR)
        hotpath_cache.project_changed(project_id=project.pk)


@transaction.atomic
def imported_annotations_store(
    *, project: Project, rows: list[ImportedAnnotation], superseded: list[int], touched: set[int]
) -> None:
    """Store ``rows``, retire the live annotations in ``superseded``, record finished assignments, and recount
    the ``touched`` items; items that reached their target are handed to the per-item pass after commit.

    Preconditions: the items exist in ``project``; ``superseded`` ids are live annotations the rows replace.
    """
    if not rows:
        return
    if superseded:
        Annotation.objects.filter(pk__in=superseded).update(is_live=False)
    # Rows superseded within this chunk go in first (not live), so the partial unique index never sees two.
    annotations = sorted(
        (
            Annotation(
                project=project,
                item_id=row.item_id,
                annotator_id=row.annotator_id,
                labels=row.labels,
                lead_time_ms=row.lead_time_ms,
                client_id=row.client_id,
                comment="",
                supersedes_id=row.supersedes_id,
                is_live=row.is_live,
            )
            for row in rows
        ),
        key=lambda row: row.is_live,
    )
    created = Annotation.objects.bulk_create(annotations)
    by_key = {(row.item_id, row.annotator_id): row for row in created if row.is_live}
    for row in created:
        if not row.is_live:
            replacement = by_key.get((row.item_id, row.annotator_id))
            if replacement is not None and replacement.supersedes_id is None:
                Annotation.objects.filter(pk=replacement.pk).update(supersedes=row)
    now = timezone.now()
    Assignment.objects.bulk_create(
        [
            Assignment(
                project=project,
                item_id=item_id,
                annotator_id=user_id,
                state=AssignmentState.DONE,
                expires_at=now,
                finished_at=now,
            )
            for item_id, user_id in by_key
        ],
        ignore_conflicts=True,
    )
    reached = _recount(touched)
    project_id = project.pk
    for item_id in reached:
        transaction.on_commit(functools.partial(hooks.item_labelled, project_id=project_id, item_id=item_id))


def _recount(item_ids: set[int]) -> list[int]:
    """Set each item's annotation count from its live annotations and move NEW/IN_PROGRESS items on, as a
    submission does; returns the items that reached their target."""
    counts = dict(
        Item.objects.filter(pk__in=item_ids)
        .annotate(live=Count("annotations", filter=Q(annotations__is_live=True)))
        .values_list("pk", "live")
    )
    reached = []
    for item in Item.objects.filter(pk__in=item_ids).only("id", "status", "is_gold", "target_annotations"):
        count = counts.get(item.pk, 0)
        status = item.status
        if not item.is_gold and status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS):
            status = ItemStatus.LABELLED if count >= item.target_annotations else ItemStatus.IN_PROGRESS
            if status == ItemStatus.LABELLED:
                reached.append(item.pk)
        Item.objects.filter(pk=item.pk).update(
            annotation_count=count, status=status, updated_at=timezone.now()
        )
    return reached


def item_metadata_set(*, item_id: int, metadata: dict) -> None:
    """Replace an item's metadata (e.g. with re-imported Label Studio predictions merged in)."""
    Item.objects.filter(pk=item_id).update(metadata=metadata, updated_at=timezone.now())
