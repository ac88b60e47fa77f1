"""Active-learning reads: the latest model, train jobs, the queue preview and the token model's label issues."""

from __future__ import annotations

from django.db.models import Case, Count, F, FloatField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Floor
from django.utils import timezone

from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import ModelVersion, TokenPrediction
from activelearning.priority import BAND_STARTED
from annotation.models import Assignment, AssignmentState, Item, Project
from annotation.models.item import OPEN_STATUSES
from core.models import Job, JobStatus

QUEUE_MAX = 500


def model_version_latest(*, project: Project) -> ModelVersion | None:
    return ModelVersion.objects.filter(project=project).order_by("-version").first()


def train_job_active(*, project: Project) -> Job | None:
    return (
        Job.objects.filter(project=project, kind=TRAIN_JOB, status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
        .order_by("-created_at")
        .first()
    )


def train_job_latest(*, project: Project) -> Job | None:
    return Job.objects.filter(project=project, kind=TRAIN_JOB).order_by("-created_at").first()


def _active_leases(now) -> Coalesce:
    leases = (
        Assignment.objects.filter(item=OuterRef("pk"), state=AssignmentState.ACTIVE, expires_at__gt=now)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(leases), Value(0))


def queue_preview(*, project: Project, limit: int, strategy: str | None = None) -> list[Item]:
    """The unlabelled items ``next`` would serve, in its order (priority, then id), ``limit`` of them (one query).

    Like ``next``: open, non-gold items with a free annotation slot (target > annotations + live leases); the
    per-annotator "never twice" rule is left out. With ``strategy`` the pool is re-ranked by that strategy's
    stored score (no diversity step) while started and extra-annotation items keep their bands on top.
    """
    queryset = (
        Item.objects.filter(project=project, status__in=OPEN_STATUSES, is_gold=False)
        .annotate(leases=_active_leases(timezone.now()))
        .filter(target_annotations__gt=F("annotation_count") + F("leases"))
        .select_related("al_prediction")
        .only(
            "id",
            "external_id",
            "status",
            "priority",
            "annotation_count",
            "target_annotations",
            "predicted_label",
            "al_prediction__id",
            "al_prediction__score",
            "al_prediction__least_confidence",
            "al_prediction__margin",
            "al_prediction__entropy",
            "al_prediction__bald",
            "al_prediction__random",
            "al_prediction__predicted",
        )
    )
    if strategy is None:
        queryset = queryset.order_by("-priority", "id")
    else:
        band = Case(
            When(priority__gte=BAND_STARTED, then=Floor("priority")),
            default=Value(0.0),
            output_field=FloatField(),
        )
        queryset = queryset.order_by(
            band.desc(), F(f"al_prediction__{strategy}").desc(nulls_last=True), "-priority", "id"
        )
    return list(queryset[: max(1, min(limit, QUEUE_MAX))])


def token_issues_for_project(*, project: Project, limit: int) -> list[TokenPrediction]:
    """Items the token model's last check flagged, least label quality first (then by id)."""
    return list(
        TokenPrediction.objects.filter(project=project, is_issue=True)
        .select_related("item")
        .only(
            "item__id",
            "item__external_id",
            "label_quality",
            "reason",
            "flagged_tokens",
            "predicted_spans",
            "checked_spans",
        )
        .order_by(F("label_quality").asc(nulls_last=True), "item_id")[:limit]
    )
