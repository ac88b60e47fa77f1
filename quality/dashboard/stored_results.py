"""Reads of what jobs stored for the dashboard: quality reports and their annotator rows, model versions, import
batches with their profiles and drift, and the latest import's duplicate scan; one query each, whatever the
project's size. The live figures are in ``quality.dashboard.selectors``."""

from django.db.models import F, Subquery

from activelearning.models import ModelVersion
from annotation.models import Item, Project
from core.models import Job, JobStatus
from ingress.job_kinds import IMPORT_JOB
from ingress.models import ImportBatch
from quality.models import AnnotatorQuality, QualityReport

REPORT_HISTORY = 100
MODEL_HISTORY = 50
BATCHES_SHOWN = 20
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
            "kind_figures",
        )
        .first()
    )


def annotator_rows(*, project: Project) -> list[dict]:
    """The newest report's annotator rows with usernames (one query, also when there is no report yet)."""
    latest = QualityReport.objects.filter(project=project).order_by("-created_at", "-id").values("id")[:1]
    rows = (
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
    return [dict(row) for row in rows]


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
    return [dict(row) for row in rows]


def batches(*, project: Project) -> list[dict]:
    """The newest ``BATCHES_SHOWN`` batches with their compact profile summaries and drift findings."""
    rows = (
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
    return [dict(row) for row in rows]


def batch_flag_counts(*, project: Project) -> list[dict | None]:
    """Every batch's stored flag counts (just that key of the summary; None for batches not summarised)."""
    return list(ImportBatch.objects.filter(project=project).values_list("profile_summary__flags", flat=True))


def unsummarised_item_flags(*, project: Project) -> list[list[str]]:
    """Flags of flagged items in batches whose summary is not written yet (bulk-API batches until the next
    import summarises them); reached through the batch foreign-key index, never a scan of the project."""
    pending = ImportBatch.objects.filter(project=project, profile_summary={}).values("id")
    return list(Item.objects.filter(batch_id__in=pending).exclude(flags=[]).values_list("flags", flat=True))


def duplicate_scan_latest(*, project: Project) -> dict | None:
    """The duplicate counts the latest successful import stored (the scan covers the whole project)."""
    row = (
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
    return dict(row) if row is not None else None
