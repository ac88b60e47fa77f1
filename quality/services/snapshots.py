"""Daily snapshots of each project's items by status: the status history the dashboard draws over time.

The ``quality.status_snapshot`` beat task runs ``status_snapshots_take`` every hour; each run upserts today's rows,
so a day keeps the counts of its last run, a repeated or retried run changes nothing else, and a day the scheduler
missed stays missing rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from annotation.models import Item, Project
from annotation.models.item import ItemStatus
from quality.models import ProjectStatusSnapshot


@transaction.atomic
def project_status_snapshot_take(*, project_id: int, day: date, taken_at: datetime) -> int:
    """Upsert ``project_id``'s item counts by status for ``day``: one GROUP BY (an index-only scan of
    ``item_status_idx`` on PostgreSQL) and one ``INSERT … ON CONFLICT DO UPDATE``. Every status gets a row, zeros
    included, so a day with rows has all its counts. A project without items is skipped. Returns rows written."""
    counts = dict.fromkeys(ItemStatus.values, 0)
    rows = Item.objects.filter(project_id=project_id).order_by().values("status").annotate(n=Count("*"))
    for row in rows:
        counts[row["status"]] = row["n"]
    if not any(counts.values()):
        return 0
    ProjectStatusSnapshot.objects.bulk_create(
        [ProjectStatusSnapshot(project_id=project_id, day=day, status=status, count=n, taken_at=taken_at)
         for status, n in counts.items()],
        update_conflicts=True, unique_fields=["project", "day", "status"], update_fields=["count", "taken_at"],
    )
    return len(counts)


def status_snapshots_take(*, now: datetime | None = None) -> dict:
    """Today's snapshot of every project (one transaction per project, so one failure keeps the others)."""
    now = now or timezone.now()
    day = now.date()
    projects = rows = 0
    for project_id in Project.objects.order_by("id").values_list("id", flat=True).iterator():
        rows += project_status_snapshot_take(project_id=project_id, day=day, taken_at=now)
        projects += 1
    return {"day": day.isoformat(), "projects": projects, "rows": rows}
