from collections.abc import Iterable

from django.db.models import QuerySet

from activelearning.selectors import model_version_latest
from annotation.models import Item, Project
from core.models import Job, JobStatus
from quality.job_kinds import QUALITY_JOB
from quality.models import AnnotatorQuality, QualityReport


def quality_report_latest(*, project: Project) -> QualityReport | None:
    """The newest stored report of the project (reports exist only for jobs whose results were stored)."""
    return (
        QualityReport.objects.filter(project=project)
        .select_related("job")
        .order_by("-created_at", "-id")
        .first()
    )


def quality_job_latest(*, project: Project) -> Job | None:
    return Job.objects.filter(project=project, kind=QUALITY_JOB).order_by("-created_at").first()


def quality_job_active(*, project: Project) -> Job | None:
    return (
        Job.objects.filter(
            project=project, kind=QUALITY_JOB, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        )
        .order_by("-created_at")
        .first()
    )


def annotator_quality_list(*, report: QualityReport) -> QuerySet[AnnotatorQuality]:
    return (
        AnnotatorQuality.objects.filter(report=report).select_related("user").order_by("user__username", "id")
    )


def base_model_column(*, project: Project, items: Iterable[Item]) -> str | None:
    """The heading of a separate base-model column ("Base model v3"), needed when some of ``items`` show the
    quality model's prediction beside their flags while the project also has a base model; None otherwise
    (one query when needed)."""
    if not any(item.flag_model and not item.flag_model.startswith("base model") for item in items):
        return None
    latest = model_version_latest(project=project)
    return None if latest is None else f"Base model v{latest.version}"


def quality_report_model_accuracy_row(*, report: QualityReport) -> dict | None:
    """The ``accuracy_by_reference`` row the report's legacy ``model_accuracy`` was measured on: gold when a gold
    item has a prediction, else the consensus; None for reports stored before the rows existed or without a model."""
    scored = {
        row["reference"]: row for row in report.accuracy_by_reference if row.get("model_accuracy") is not None
    }
    return scored.get("gold") or scored.get("consensus")
