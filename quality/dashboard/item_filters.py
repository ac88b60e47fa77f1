"""The item list behind the dashboard's links: ``annotation.selectors.item_list`` narrowed to what a chart point, a
bar or a table cell counted."""

from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from annotation.models import Annotation, Item, Project
from annotation.selectors import item_list, json_list_has, label_mapping_for
from quality.dashboard.figures import DaySpan
from quality.models import ItemQuality, ReviewAction, ReviewDecision


def issue_kind_q(kind: str) -> Q:
    """Items whose ``issue_kinds`` hold this reason, on databases with and without JSON containment."""
    if connection.features.supports_json_field_contains:
        return Q(issue_kinds__contains=[kind])
    return Q(issue_kinds__icontains=f'"{kind}"')


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
        queryset = queryset.filter(issue_kind_q(issue_kind))
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
        "content_type",
        "profile",
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
