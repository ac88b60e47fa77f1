"""How many items the review queue holds: in all, among given items, per reason and per status."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from annotation.models import Item, ItemStatus, Project
from quality.review.selectors.queue import REVIEW_REASONS, _in_queue, _reason_q


def review_queue_items(*, project: Project) -> QuerySet[Item]:
    """The items in the review queue now, unordered and unannotated: for other apps' counts over the queue."""
    return Item.objects.filter(project=project).filter(_in_queue(project))


def review_queue_total(*, project: Project) -> int:
    """How many items are in the review queue now (one query): what every page labels "in the review queue
    now", and the ``count`` of ``GET /api/projects/{pid}/review-queue/`` (the same condition)."""
    return review_queue_items(project=project).count()


IN_QUEUE_CHUNK = 5000


def review_queue_total_among(*, project: Project, item_ids: list[int]) -> int:
    """How many of ``item_ids`` are in the review queue now (``review_queue_total``'s condition); one query per
    ``IN_QUEUE_CHUNK`` ids."""
    return sum(
        Item.objects.filter(project=project, pk__in=item_ids[start : start + IN_QUEUE_CHUNK])
        .filter(_in_queue(project))
        .count()
        for start in range(0, len(item_ids), IN_QUEUE_CHUNK)
    )


def review_queue_counts(*, project: Project) -> dict[str, int]:
    """How many queued items carry each reason, plus ``total`` (one query)."""
    queryset = Item.objects.filter(project=project).filter(_in_queue(project))
    aggregates = {reason: Count("id", filter=_reason_q(project, reason)) for reason in REVIEW_REASONS}
    return queryset.aggregate(total=Count("id"), **aggregates)


# Why an item with each status is in the queue, for the breakdown beside the queue's total.
QUEUE_STATUS_WHY: dict[str, str] = {
    ItemStatus.NEEDS_REVIEW: "routed to review, or closed with no vote to go on",
    ItemStatus.LABELLED: "labelled, with a reason to look (a flag, a possible label error, a comment)",
    ItemStatus.NEW: "gold items not yet served, whose votes so far miss the gold label",
    ItemStatus.IN_PROGRESS: "gold items still being served, whose votes so far miss the gold label",
}


def review_queue_status_counts(*, project: Project) -> list[dict]:
    """The review queue by item status, every status with items in it (one query): rows of ``status``, ``n``
    and ``why`` in ``ItemStatus`` order. They add up to ``review_queue_total`` (the same condition): the queue
    is not only ``needs_review`` items."""
    rows = (
        Item.objects.filter(project=project)
        .filter(_in_queue(project))
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
    )
    by_status = {row["status"]: row["n"] for row in rows}
    return [
        {"status": status, "n": by_status[status], "why": QUEUE_STATUS_WHY.get(status, "")}
        for status in ItemStatus.values
        if by_status.get(status)
    ]
