from django.db.models import QuerySet

from annotation.models import Job, JobKind, JobStatus, Project
from quality.models import AnnotatorQuality, QualityReport


def quality_report_latest(*, project: Project) -> QualityReport | None:
    """The newest stored report of the project (reports exist only for jobs whose results were stored)."""
    return QualityReport.objects.filter(project=project).select_related("job").order_by("-created_at", "-id").first()


def quality_job_latest(*, project: Project) -> Job | None:
    return Job.objects.filter(project=project, kind=JobKind.QUALITY).order_by("-created_at").first()


def quality_job_active(*, project: Project) -> Job | None:
    return (
        Job.objects.filter(project=project, kind=JobKind.QUALITY, status__in=(JobStatus.QUEUED, JobStatus.RUNNING))
        .order_by("-created_at")
        .first()
    )


def annotator_quality_list(*, report: QualityReport) -> QuerySet[AnnotatorQuality]:
    return AnnotatorQuality.objects.filter(report=report).select_related("user").order_by("user__username", "id")
