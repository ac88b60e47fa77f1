"""Reads behind the dashboard: one aggregate query per panel, whatever the project's size.

Where the figures come from (and why):
- counts by status, open label issues and discard reasons are indexed aggregates (``item_status_idx``,
  the partial ``item_issue_idx``, ``reviewdecision_action_idx``);
- agreement, HLP, per-label/per-tag slices, error analysis and annotator figures are the stored results of
  quality runs (``QualityReport``, ``AnnotatorQuality``); the learning curve, projection and stability those
  of training runs (``ModelVersion``); batch profiles, drift and flag counts those of imports (``ImportBatch``;
  duplicate counts from the latest import job's result);
- items imported per day are the batches' ``n_created`` by batch date (every item arrives in a batch);
- items by status on past days are the daily snapshots the ``quality.status_snapshot`` beat task stores
  (``ProjectStatusSnapshot``, a few rows per day whatever the project's size); today's are the live counts;
- annotations per day and annotator and review decisions per day are the only aggregates that read every
  row of a project (no index covers ``created_at``); they are cached for ``SERIES_TTL`` seconds, so at most
  one request per process every few minutes pays for them (see bench/results/dashboard_render.md);
- on large projects (``LARGE_COUNT`` rows or more) the counts by status and the label-issue counts are cached
  for ``COUNTS_TTL`` seconds: even as index-only scans they cost ~130 ms each at 1,000,000 items. Small projects
  always show live counts;
- a large project (its latest status snapshot counts ``LARGE_COUNT`` items or more) has all of the above that
  read every row — counts by status, label-issue counts, discard reasons, annotations and decisions per day —
  stored every few minutes by the ``quality.dashboard_snapshot`` beat task (``ProjectDashboardSnapshot``, one
  row): while that row is at most ``STORED_MAX_AGE`` old the dashboard reads it instead (one query, whatever the
  size; the page gives its time) and computes nothing over the items. At 1,000,000 items computing them costs
  0.5–1 s, which every render after a cache expiry paid (bench/results/dashboard_render.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Lower, TruncDate, TruncWeek
from django.utils import timezone

from annotation.models import Annotation, Item, Project
from annotation.models.item import ItemStatus
from annotation.selectors import project_status_counts
from ingress.models import ImportBatch
from kinds.registry import kind_for
from quality.dashboard.item_filters import issue_kind_q
from quality.metrics.reason_codes import REASON_CODES  # not label_issues: that one loads cleanlab
from quality.models import (
    ProjectDashboardSnapshot,
    ProjectStatusSnapshot,
    ReviewAction,
    ReviewDecision,
    SavedItemFilter,
)

SERIES_TTL = 300
COUNTS_TTL = 30
LARGE_COUNT = 50_000
# The dashboard-snapshot task runs every 5 minutes; past this age (three missed runs) its row is ignored.
STORED_MAX_AGE = timedelta(minutes=15)
# Past this span the per-day series are bucketed by week so the chart and CSV stay a few hundred rows.
WEEKLY_AFTER_DAYS = 180
DISCARD_REASONS_SHOWN = 12
CLOSED_STATUSES = (ItemStatus.ACCEPTED, ItemStatus.DISCARDED)


def _counts_cached(key: str, compute) -> dict[str, int]:
    """``compute()``, cached for ``COUNTS_TTL`` seconds once its ``total`` reaches ``LARGE_COUNT``: a manager may
    see a large project's counts up to half a minute old, a small project's are always live."""
    cached = cache.get(key)
    if cached is not None and cached["total"] >= LARGE_COUNT:
        return cached
    counts = compute()
    if counts["total"] >= LARGE_COUNT:
        cache.set(key, counts, COUNTS_TTL)
    return counts


def status_counts_live(*, project: Project) -> dict[str, int]:
    """The counts ``GET /api/projects/{pid}/`` shows, read now (not cached)."""
    return project_status_counts(project=project)


def status_counts(*, project: Project) -> dict[str, int]:
    """``status_counts_live``, cached briefly on large projects (``_counts_cached``)."""
    return _counts_cached(f"dashboard:status:v1:{project.pk}", lambda: status_counts_live(project=project))


def bucket_for(*, project: Project, today: date | None = None) -> str:
    """ "day", or "week" for projects older than ``WEEKLY_AFTER_DAYS`` (decided from the project row alone)."""
    today = today or timezone.now().date()
    return "week" if (today - project.created_at.date()).days > WEEKLY_AFTER_DAYS else "day"


def _trunc(bucket: str, field: str):
    return TruncWeek(field) if bucket == "week" else TruncDate(field)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def items_imported_per_bucket(*, project: Project, bucket: str) -> dict[date, int]:
    """Items created per day (or week), from the batches' ``n_created`` and batch dates."""
    rows = (
        ImportBatch.objects.filter(project=project)
        .order_by()
        .annotate(bucket=_trunc(bucket, "created_at"))
        .values("bucket")
        .annotate(n=Count("id"), n_items=Sum("n_created"))
    )
    return {_as_date(row["bucket"]): int(row["n_items"] or 0) for row in rows}


def status_snapshots(*, project: Project) -> dict[date, dict[str, int]]:
    """Stored counts by status per day, oldest first (one query on the (project, day, status) unique index)."""
    out: dict[date, dict[str, int]] = {}
    rows = (
        ProjectStatusSnapshot.objects.filter(project=project)
        .order_by("day")
        .values_list("day", "status", "count")
    )
    for day, status, count in rows:
        out.setdefault(day, {})[status] = count
    return out


def _annotation_series(project: Project, bucket: str) -> list[dict]:
    # Grouped on the annotation table alone (joining users first doubles the cost at 1,000,000 annotations);
    # the few usernames are read afterwards (always with one query, even for no rows, so the count stays pinned).
    rows = list(
        Annotation.objects.filter(project=project)
        .order_by()
        .annotate(bucket=_trunc(bucket, "created_at"))
        .values("bucket", "annotator_id")
        .annotate(n=Count("*"))
    )
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[r["annotator_id"] for r in rows] or [0])
        .values_list("pk", "username")
    )
    return [
        {
            "bucket": _as_date(r["bucket"]),
            "annotator_id": r["annotator_id"],
            "username": names.get(r["annotator_id"], str(r["annotator_id"])),
            "n": r["n"],
        }
        for r in rows
    ]


def _decision_series(project: Project, bucket: str) -> list[dict]:
    rows = (
        ReviewDecision.objects.filter(project=project)
        .order_by()
        .annotate(bucket=_trunc(bucket, "created_at"))
        .values("bucket", "action", "is_current")
        .annotate(n=Count("*"))
    )
    return [
        {"bucket": _as_date(r["bucket"]), "action": r["action"], "is_current": r["is_current"], "n": r["n"]}
        for r in rows
    ]


def series_cache_key(project: Project, bucket: str) -> str:
    return f"dashboard:series:v1:{project.pk}:{bucket}"


def activity_series_live(*, project: Project, bucket: str) -> dict:
    """Annotations per bucket and annotator, and review decisions per bucket and action (two full aggregates
    over the project's annotations and decisions)."""
    return {
        "annotations": _annotation_series(project, bucket),
        "decisions": _decision_series(project, bucket),
        "computed_at": timezone.now(),
    }


def activity_series(*, project: Project, bucket: str) -> dict:
    """``activity_series_live``, cached for ``SERIES_TTL`` seconds per project."""
    key = series_cache_key(project, bucket)
    cached = cache.get(key)
    if cached is not None:
        return cached
    value = activity_series_live(project=project, bucket=bucket)
    cache.set(key, value, SERIES_TTL)
    return value


def issue_counts_live(*, project: Project) -> dict[str, int]:
    """Items whose label is probably wrong (``is_label_issue``): all and still open (not accepted or discarded);
    and per reason (``kind_<reason>``), items carrying that reason, label issue or not — most reasons are
    reasons to look, not label errors."""
    issue = Q(is_label_issue=True)
    counts = {
        "total": Count("id", filter=issue),
        "open": Count("id", filter=issue & ~Q(status__in=CLOSED_STATUSES)),
    }
    codes = dict.fromkeys([*REASON_CODES, *kind_for(project).reason_words])
    counts.update({f"kind_{kind}": Count("id", filter=issue_kind_q(kind)) for kind in codes})
    return Item.objects.filter(project=project).filter(issue | ~Q(issue_kinds=[])).aggregate(**counts)


def issue_counts(*, project: Project) -> dict[str, int]:
    """``issue_counts_live``, cached briefly once there are ``LARGE_COUNT`` issues (``_counts_cached``)."""
    return _counts_cached(f"dashboard:issues:v1:{project.pk}", lambda: issue_counts_live(project=project))


def discard_reasons(*, project: Project) -> list[dict]:
    """Current discard decisions grouped by reason, most frequent first."""
    return list(
        ReviewDecision.objects.filter(project=project, action=ReviewAction.DISCARD, is_current=True)
        .order_by()
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:DISCARD_REASONS_SHOWN]
    )


@dataclass(frozen=True)
class StoredFigures:
    """What the ``quality.dashboard_snapshot`` task stored, in the shapes of the live selectors above.
    ``activity`` is None when it was bucketed otherwise than the page now is (the project just passed
    ``WEEKLY_AFTER_DAYS``)."""

    taken_at: datetime
    counts: dict[str, int]
    issues: dict[str, int]
    discards: list[dict]
    activity: dict | None


def stored_figures(*, project: Project, bucket: str) -> StoredFigures | None:
    """The project's stored dashboard snapshot if taken within ``STORED_MAX_AGE``, else None (one query)."""
    row = ProjectDashboardSnapshot.objects.filter(
        project=project, taken_at__gte=timezone.now() - STORED_MAX_AGE
    ).first()
    if row is None:
        return None
    activity = None
    if row.bucket == bucket:
        activity = {
            "annotations": [
                {
                    "bucket": date.fromisoformat(day),
                    "annotator_id": annotator_id,
                    "username": username,
                    "n": n,
                }
                for day, annotator_id, username, n in row.annotations
            ],
            "decisions": [
                {"bucket": date.fromisoformat(day), "action": action, "is_current": is_current, "n": n}
                for day, action, is_current, n in row.decisions
            ],
            "computed_at": row.taken_at,
        }
    return StoredFigures(
        taken_at=row.taken_at,
        counts=row.counts,
        issues=row.issues,
        discards=row.discard_reasons,
        activity=activity,
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def item_consensus_values(*, project: Project) -> Iterator[object]:
    """The stored consensus (``Item.consensus_label``) of each non-discarded item that has one, streamed: for a
    kind whose consensus is a list of parts (spans, boxes) the quality run stores it there. Reads every such item
    (the kinds' panels, ``quality.dashboard.kind_panels``)."""
    return (
        Item.objects.filter(project=project, consensus_label__isnull=False)
        .exclude(status=ItemStatus.DISCARDED)
        .order_by()
        .values_list("consensus_label", flat=True)
        .iterator(chunk_size=2000)
    )


def saved_filter_list(*, project: Project) -> QuerySet[SavedItemFilter]:
    return (
        SavedItemFilter.objects.filter(project=project)
        .select_related("created_by")
        .only("id", "name", "query", "created_at", "created_by__username")
        .order_by(Lower("name"), "id")
    )
