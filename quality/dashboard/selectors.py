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

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from activelearning.models import ModelVersion
from annotation.models import Annotation, Item, Project
from annotation.models.item import ItemStatus
from annotation.selectors import item_list, json_list_has, label_mapping_for, project_status_counts
from core.models import Job, JobStatus
from ingress.job_kinds import IMPORT_JOB
from ingress.models import ImportBatch
from quality.dashboard.figures import DaySpan
from quality.metrics.reason_codes import REASON_CODES  # not label_issues: that one loads cleanlab
from quality.models import (
    AnnotatorQuality,
    ItemQuality,
    ProjectDashboardSnapshot,
    ProjectStatusSnapshot,
    QualityReport,
    ReviewAction,
    ReviewDecision,
)

SERIES_TTL = 300
COUNTS_TTL = 30
LARGE_COUNT = 50_000
# The dashboard-snapshot task runs every 5 minutes; past this age (three missed runs) its row is ignored.
STORED_MAX_AGE = timedelta(minutes=15)
# Past this span the per-day series are bucketed by week so the chart and CSV stay a few hundred rows.
WEEKLY_AFTER_DAYS = 180
REPORT_HISTORY = 100
MODEL_HISTORY = 50
BATCHES_SHOWN = 20
DISCARD_REASONS_SHOWN = 12
CLOSED_STATUSES = (ItemStatus.ACCEPTED, ItemStatus.DISCARDED)
REPORT_SCALARS = (
    "id",
    "created_at",
    "consensus_method",
    "n_items",
    "n_annotations",
    "n_annotators",
    "krippendorff_alpha",
    "krippendorff_alpha_ci_low",
    "krippendorff_alpha_ci_high",
    "fleiss_kappa",
    "fleiss_kappa_ci_low",
    "fleiss_kappa_ci_high",
    "mean_pairwise_cohen_kappa",
    "mean_pairwise_cohen_kappa_ci_low",
    "mean_pairwise_cohen_kappa_ci_high",
    "hlp",
    "hlp_ci_low",
    "hlp_ci_high",
    "model_accuracy",
    "n_issues",
)


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
        .annotate(n=Count("id"), items=Sum("n_created"))
    )
    return {_as_date(row["bucket"]): int(row["items"] or 0) for row in rows}


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


def report_history(*, project: Project) -> list[dict]:
    """Headline statistics of the last ``REPORT_HISTORY`` quality reports, oldest first (one query)."""
    rows = list(
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values(*REPORT_SCALARS)[:REPORT_HISTORY]
    )
    rows.reverse()
    return rows


def report_latest(*, project: Project) -> QualityReport | None:
    """The newest report with the slices the dashboard draws (never the large consensus parameters)."""
    return (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .only(
            *REPORT_SCALARS,
            "per_label",
            "per_tag",
            "per_guideline_version",
            "error_analysis",
            "job_id",
            "accuracy_by_reference",
        )
        .first()
    )


def annotator_rows(*, project: Project) -> list[dict]:
    """The newest report's annotator rows with usernames (one query, also when there is no report yet)."""
    latest = QualityReport.objects.filter(project=project).order_by("-created_at", "-id").values("id")[:1]
    return list(
        AnnotatorQuality.objects.filter(report_id=Subquery(latest))
        .order_by("user__username", "id")
        .values(
            "user_id",
            "n_annotations",
            "median_lead_time_s",
            "agreement_with_consensus",
            "quality_score",
            "confusion",
            username=F("user__username"),
        )
    )


def model_history(*, project: Project) -> list[dict]:
    """The last ``MODEL_HISTORY`` model versions, oldest first, with their curves and stability (one query)."""
    rows = list(
        ModelVersion.objects.filter(project=project)
        .order_by("-version")
        .values(
            "version",
            "created_at",
            "strategy",
            "n_train",
            "cv_accuracy",
            "learning_curve",
            "projection",
            "stability",
            "summary",
            "worth_labelling",
        )[:MODEL_HISTORY]
    )
    rows.reverse()
    return rows


def batches(*, project: Project) -> list[dict]:
    """The newest ``BATCHES_SHOWN`` batches with their compact profile summaries and drift findings."""
    return list(
        ImportBatch.objects.filter(project=project)
        .order_by("-number")
        .values(
            "number",
            "created_at",
            "source",
            "n_created",
            "n_duplicates",
            "n_errors",
            "profile_summary",
            "drift",
        )[:BATCHES_SHOWN]
    )


def batch_flag_counts(*, project: Project) -> list[dict | None]:
    """Every batch's stored flag counts (just that key of the summary; None for batches not summarised)."""
    return list(ImportBatch.objects.filter(project=project).values_list("profile_summary__flags", flat=True))


def unsummarised_item_flags(*, project: Project) -> list[list[str]]:
    """Flags of flagged items in batches whose summary is not written yet (bulk-API batches until the next
    import summarises them); reached through the batch foreign-key index, never a scan of the project."""
    pending = ImportBatch.objects.filter(project=project, profile_summary={}).values("id")
    return list(Item.objects.filter(batch_id__in=pending).exclude(flags=[]).values_list("flags", flat=True))


def _kind_filter(kind: str) -> Q:
    if connection.features.supports_json_field_contains:
        return Q(issue_kinds__contains=[kind])
    return Q(issue_kinds__icontains=f'"{kind}"')


def issue_counts_live(*, project: Project) -> dict[str, int]:
    """Items whose label is probably wrong (``is_label_issue``): all and still open (not accepted or discarded);
    and per reason (``kind_<reason>``), items carrying that reason, label issue or not — most reasons are
    reasons to look, not label errors."""
    issue = Q(is_label_issue=True)
    counts = {
        "total": Count("id", filter=issue),
        "open": Count("id", filter=issue & ~Q(status__in=CLOSED_STATUSES)),
    }
    counts.update({f"kind_{kind}": Count("id", filter=_kind_filter(kind)) for kind in REASON_CODES})
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


def duplicate_scan_latest(*, project: Project) -> dict | None:
    """The duplicate counts the latest successful import stored (the scan covers the whole project)."""
    return (
        Job.objects.filter(
            project=project,
            kind=IMPORT_JOB,
            status=JobStatus.SUCCEEDED,
            result__near_duplicates__isnull=False,
        )
        .order_by("-created_at")
        .values("created_at", near=F("result__near_duplicates"))
        .first()
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _within(field: str, span: DaySpan) -> Q:
    """``field`` (a datetime) falls on one of ``span``'s days in the current time zone (the one the per-day
    series are truncated in)."""
    zone = timezone.get_current_timezone()
    condition = Q()
    if span.first is not None:
        condition &= Q(**{f"{field}__gte": datetime.combine(span.first, time.min, tzinfo=zone)})
    if span.last is not None:
        condition &= Q(
            **{f"{field}__lt": datetime.combine(span.last + timedelta(days=1), time.min, tzinfo=zone)}
        )
    return condition


def items_filtered(
    *,
    project: Project,
    issue_kind: str | None = None,
    annotator_label: str | None = None,
    discard_reason: str | None = None,
    imported: DaySpan | None = None,
    annotated: DaySpan | None = None,
    decided: DaySpan | None = None,
    quality_run: int | None = None,
    guideline_version: int | None = None,
    **filters,
) -> QuerySet[Item]:
    """``annotation.selectors.item_list`` plus the filters only the dashboard's links need: one label-issue
    reason; some annotator's live annotation carrying a label (a confusion cell: its old names before a merge or
    rename count too, as in the quality run; one more query for the mapping); a current discard with a reason
    (a bar of the discard-reason chart); imported (batch date), annotated (any annotation, superseded ones too)
    or given its current review decision on given days (points of the per-day charts); scored by a quality run
    (its item rows, kept for the latest runs only); a live annotation made under a guideline version. Each is one
    ``EXISTS``, join or condition in the items query."""
    queryset = item_list(project=project, **filters)
    if issue_kind:
        queryset = queryset.filter(_kind_filter(issue_kind))
    if annotator_label:
        aliases = [
            annotator_label,
            *(old for old, new in label_mapping_for(project=project).items() if new == annotator_label),
        ]
        said = Q()
        for value in aliases:
            said |= json_list_has("labels", value)
        queryset = queryset.filter(Exists(Annotation.objects.filter(said, item=OuterRef("pk"), is_live=True)))
    if discard_reason:
        queryset = queryset.filter(
            Exists(
                ReviewDecision.objects.filter(
                    item=OuterRef("pk"), is_current=True, action=ReviewAction.DISCARD, reason=discard_reason
                )
            )
        )
    if imported:
        queryset = queryset.filter(_within("batch__created_at", imported))
    if annotated:
        queryset = queryset.filter(
            Exists(Annotation.objects.filter(_within("created_at", annotated), item=OuterRef("pk")))
        )
    if decided:
        queryset = queryset.filter(
            Exists(
                ReviewDecision.objects.filter(
                    _within("created_at", decided), item=OuterRef("pk"), is_current=True
                )
            )
        )
    if quality_run:
        queryset = queryset.filter(
            Exists(ItemQuality.objects.filter(report_id=quality_run, item=OuterRef("pk")))
        )
    if guideline_version is not None:
        queryset = queryset.filter(
            Exists(
                Annotation.objects.filter(
                    item=OuterRef("pk"), is_live=True, guideline_version=guideline_version
                )
            )
        )
    return queryset.select_related("batch").only(
        "id",
        "external_id",
        "status",
        "text",
        "tags",
        "flags",
        "consensus_label",
        "consensus_confidence",
        "final_label",
        "predicted_label",
        "label_quality",
        "is_label_issue",
        "issue_kinds",
        "flag_model",
        "flag_model_label",
        "created_at",
        "batch__number",
    )
