"""Snapshots the dashboard reads instead of aggregating live.

Daily snapshots of each project's items by status, the status history the dashboard draws over time: the
``quality.status_snapshot`` beat task runs ``status_snapshots_take`` every hour; each run upserts today's rows,
so a day keeps the counts of its last run, a repeated or retried run changes nothing else, and a day the scheduler
missed stays missing rather than guessed.

Dashboard snapshots of large projects: the ``quality.dashboard_snapshot`` beat task runs
``dashboard_snapshots_take`` every few minutes and upserts, per project whose latest status snapshot counts
``LARGE_COUNT`` items or more, the aggregates that read every item, annotation or decision row (about a second at
1,000,000 items), so no page view pays for them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from annotation.models import Project
from annotation.selectors import project_status_counts
from quality.dashboard import selectors as dashboard
from quality.models import ProjectDashboardSnapshot, ProjectStatusSnapshot
from quality.review import selectors as review_selectors


@transaction.atomic
def project_status_snapshot_take(*, project_id: int, day: date, taken_at: datetime) -> int:
    """Upsert ``project_id``'s item counts by status for ``day``: one GROUP BY (an index-only scan of
    ``item_status_idx`` on PostgreSQL) and one ``INSERT … ON CONFLICT DO UPDATE``. Every status gets a row, zeros
    included, so a day with rows has all its counts. A project without items is skipped. Returns rows written."""
    counts = project_status_counts(project=Project(pk=project_id))
    if not counts.pop("total"):
        return 0
    ProjectStatusSnapshot.objects.bulk_create(
        [
            ProjectStatusSnapshot(project_id=project_id, day=day, status=status, count=n, taken_at=taken_at)
            for status, n in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["project", "day", "status"],
        update_fields=["count", "taken_at"],
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


@transaction.atomic
def project_dashboard_snapshot_take(*, project_id: int, taken_at: datetime) -> bool:
    """Compute ``project_id``'s dashboard aggregates with the dashboard's own live selectors and upsert its one
    ``ProjectDashboardSnapshot`` row. Returns False (nothing written) when the project no longer exists."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return False
    bucket = dashboard.bucket_for(project=project, today=taken_at.date())
    counts = {
        **dashboard.status_counts_live(project=project),
        "review_queue": review_selectors.review_queue_total(project=project),
    }
    issues = dashboard.issue_counts_live(project=project)
    reasons = dashboard.discard_reasons(project=project)
    activity = dashboard.activity_series_live(project=project, bucket=bucket)
    ProjectDashboardSnapshot.objects.bulk_create(
        [
            ProjectDashboardSnapshot(
                project=project,
                taken_at=taken_at,
                bucket=bucket,
                counts=counts,
                issues=issues,
                discard_reasons=reasons,
                annotations=[
                    [r["bucket"].isoformat(), r["annotator_id"], r["username"], r["n"]]
                    for r in activity["annotations"]
                ],
                decisions=[
                    [r["bucket"].isoformat(), r["action"], r["is_current"], r["n"]]
                    for r in activity["decisions"]
                ],
            )
        ],
        update_conflicts=True,
        unique_fields=["project"],
        update_fields=[
            "taken_at",
            "bucket",
            "counts",
            "issues",
            "discard_reasons",
            "annotations",
            "decisions",
        ],
    )
    return True


def dashboard_snapshots_take(*, now: datetime | None = None) -> dict:
    """The dashboard snapshot of every project whose status snapshot of today or yesterday counts
    ``LARGE_COUNT`` items or more (one transaction per project, so a failure keeps the rows already written;
    small projects are always read live)."""
    now = now or timezone.now()
    large = (
        ProjectStatusSnapshot.objects.filter(day__gte=now.date() - timedelta(days=1))
        .order_by()
        .values("project_id", "day")
        .annotate(total=Sum("count"))
        .filter(total__gte=dashboard.LARGE_COUNT)
    )
    project_ids = sorted({row["project_id"] for row in large})
    # Each row carries the time its own reads began, which the page shows (a long run must not age its last rows).
    written = sum(
        project_dashboard_snapshot_take(project_id=project_id, taken_at=timezone.now())
        for project_id in project_ids
    )
    return {"taken_at": now.isoformat(), "projects": written}
