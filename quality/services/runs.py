"""Quality runs: creating the job, and the job's work (load → compute → store in one transaction)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from activelearning.selectors import model_version_latest
from annotation.models import Annotation, Project
from annotation.services.projects import project_lock
from core.errors import Conflict, ValidationFailed
from core.jobs import JobContext, job_create
from core.models import Job, JobStatus
from kinds.registry import kind_for
from quality.adapters import (
    item_features_load,
    item_results_write,
    items_denormalise,
    project_answers_load,
    project_data_load,
)
from quality.job_kinds import QUALITY_JOB
from quality.models import CLASS_AGREEMENT_FIGURES, AnnotatorQuality, ItemQuality, QualityReport
from quality.review.selectors import review_queue_total_among
from quality.services.explain import explanations_for
from quality.services.kind_steps import encoding_for

if TYPE_CHECKING:
    from quality.services.engine import RunOutcome

TASK_NAME = "quality.run"
# Item-level rows are kept for this many latest reports per project; older reports keep their summary.
KEEP_ITEM_ROWS_FOR_REPORTS = 3
MAX_BOOT_REQUEST = 1000
# The quality model (logistic regression + kNN, cross-validated on the consensus, see quality.services.quality_model)
# trains on cached features up to this many annotated items; larger projects use the base model's stored
# out-of-sample probabilities alone, which keeps a 200,000-item run within the scale budget.
QUALITY_MODEL_MAX_ITEMS = 20_000


@transaction.atomic
def quality_run_create(*, project: Project, user: User, n_boot: int | None = None) -> Job:
    """Create a quality job for the project (enqueued after commit).

    Raises:
        Conflict: a quality run of this project is already queued or running.
        ValidationFailed: the project has no annotations yet, or ``n_boot`` is out of range.
    """
    if n_boot is not None and not 0 <= n_boot <= MAX_BOOT_REQUEST:
        raise ValidationFailed(f"n_boot must be between 0 and {MAX_BOOT_REQUEST}.", field="n_boot")
    # Serialise concurrent requests for the same project so only one of them creates a job.
    project_lock(project_id=project.pk)
    active = (
        Job.objects.filter(
            project=project, kind=QUALITY_JOB, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
        )
        .order_by("-created_at")
        .first()
    )
    if active is not None:
        raise Conflict(
            f"A quality run for this project is already {active.status} (job {active.pk}); wait for it to finish.",
            code="quality_run_active",
            extra={"job": str(active.pk)},
        )
    if not Annotation.objects.filter(project=project, is_live=True).exists():
        raise ValidationFailed(
            "This project has no annotations yet, so there is nothing to measure. Label some items first.",
            field="project",
        )
    params = {} if n_boot is None else {"n_boot": n_boot}
    return job_create(kind=QUALITY_JOB, task_name=TASK_NAME, project=project, params=params, user=user)


def _ci(interval, side: int):
    return None if not interval else interval[side]


def _report_fields(outcome: RunOutcome) -> dict:
    s = outcome.scalars
    fields = {
        "consensus_method": outcome.method,
        "n_boot": outcome.n_boot,
        "n_items": s["n_items"],
        "n_annotations": s["n_annotations"],
        "n_annotators": s["n_annotators"],
        "weighted_pairwise_cohen_kappa": s["weighted_pairwise_cohen_kappa"],
        "model_accuracy": s["model_accuracy"],
        "n_issues": s["n_issues"],
        "n_routed_to_review": int(outcome.items.route.sum()),
        "per_label": outcome.per_label,
        "per_tag": outcome.per_tag,
        "per_guideline_version": outcome.per_guideline_version,
        "pairwise": outcome.pairwise,
        "error_analysis": outcome.error_analysis,
        "consensus_params": outcome.consensus_params,
        "kind_figures": outcome.kind_figures,
    }
    for name in CLASS_AGREEMENT_FIGURES:
        fields[name] = s[name]
        fields[f"{name}_ci_low"] = _ci(s[f"{name}_ci"], 0)
        fields[f"{name}_ci_high"] = _ci(s[f"{name}_ci"], 1)
    return fields


def flag_model_name(*, check_model: str, run_number: int, base_version: int | None) -> str:
    """How pages name the model whose predictions the label-issue check used ("" when none was)."""
    # Imported here: the quality model module pulls in scikit-learn, which web processes never need.
    from quality.services.quality_model import CHECK_MODEL_BASE, CHECK_MODEL_QUALITY

    if check_model == CHECK_MODEL_QUALITY:
        return f"quality model · run #{run_number}"
    if check_model == CHECK_MODEL_BASE:
        return base_model_name(base_version=base_version)
    return ""


def base_model_name(*, base_version: int | None) -> str:
    return "base model" if base_version is None else f"base model v{base_version}"


@transaction.atomic
def quality_results_store(
    *, job: Job, outcome: RunOutcome, snapshot_at, base_version: int | None = None
) -> tuple[QualityReport, int]:
    """Replace the job's results (delete-and-insert) and update the items that did not change since
    ``snapshot_at``; returns (report, items moved to review). ``base_version`` is the base model version whose
    stored probabilities the run read (named when the label-issue check used them)."""
    project_id = job.project_id
    if project_id is None:
        raise ValueError(f"Quality job {job.pk} has no project.")
    QualityReport.objects.filter(job=job).delete()
    report = QualityReport.objects.create(project_id=project_id, job=job, **_report_fields(outcome))
    run_number = QualityReport.objects.filter(project_id=project_id, id__lte=report.pk).count()
    report.flag_model = flag_model_name(
        check_model=outcome.check_model, run_number=run_number, base_version=base_version
    )
    # HLP's model is always the base model's stored predictions, whichever model the label-issue check used.
    base_name = base_model_name(base_version=base_version)
    report.accuracy_by_reference = [
        {**row, "model": base_name if row["model_accuracy"] is not None else ""}
        for row in outcome.accuracy_by_reference
    ]
    report.save(update_fields=["flag_model", "accuracy_by_reference"])
    item_results_write(report_id=report.pk, results=outcome.items)
    AnnotatorQuality.objects.bulk_create(
        [
            AnnotatorQuality(
                report=report,
                user_id=row["user_id"],
                n_annotations=row["n_annotations"],
                agreement_with_consensus=row["agreement_with_consensus"],
                agreement_with_others=row["agreement_with_others"],
                n_agreement_with_consensus=row["n_agreement_with_consensus"],
                n_agreement_with_others=row["n_agreement_with_others"],
                kappa_vs_others=row["kappa_vs_others"],
                gold_accuracy=row["gold_accuracy"],
                n_gold=row["n_gold"],
                quality_score=row["quality_score"],
                median_lead_time_s=row["median_lead_time_s"],
                confusion=row["confusion"],
                kind_figures=row.get("kind_figures") or {},
            )
            for row in outcome.annotators
        ],
        batch_size=500,
    )
    moved = items_denormalise(
        project_id=project_id,
        results=outcome.items,
        snapshot_at=snapshot_at,
        flag_model=report.flag_model,
    )
    # "Routed to review" is what the reviewer finds in the queue from this run, counted after the items moved:
    # the engine also marks items it cannot move (still gathering votes, decided by a reviewer, changed while
    # the run read), and counting those made the report promise more items than the queue held.
    routed = outcome.items.item_ids[outcome.items.route.astype(bool)].tolist()
    report.n_routed_to_review = review_queue_total_among(project=report.project, item_ids=routed)
    report.explanations = explanations_for(
        scalars=outcome.scalars,
        method_note=outcome.method_note,
        n_boot=outcome.n_boot,
        per_label=outcome.per_label,
        per_version=outcome.per_guideline_version,
        hlp_lines=outcome.hlp_lines,
        error_rows=outcome.error_analysis,
        n_route=report.n_routed_to_review,
        model_checked=bool(outcome.check_model),
        hlp_absent_note=outcome.hlp_absent_note,
        accuracy_rows=report.accuracy_by_reference,
        kind_figures=outcome.kind_figures,
    )
    report.save(update_fields=["n_routed_to_review", "explanations"])
    keep = list(
        QualityReport.objects.filter(project_id=project_id)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:KEEP_ITEM_ROWS_FOR_REPORTS]
    )
    ItemQuality.objects.filter(report__project_id=project_id).exclude(report_id__in=keep).delete()
    return report, moved


def quality_run(*, job: Job, context: JobContext) -> dict:
    """The work of a ``quality.run`` job. Idempotent: a re-run replaces this job's results.

    Raises:
        ValueError: the project has no usable annotations (the job fails with that message).
    """
    # Imported here: the metrics pull in cleanlab/scikit-learn (seconds), which web processes never need.
    from quality.services.engine import run_quality, run_structured_quality

    if job.project_id is None:
        raise ValueError(f"Quality job {job.pk} has no project.")
    started = time.perf_counter()
    project = Project.objects.get(pk=job.project_id)
    context.progress(0.05, "reading annotations")
    snapshot_at = timezone.now()
    base_model = model_version_latest(project=project)
    encoding = kind_for(project).quality_part.encoding(multi_label=project.multi_label)
    if getattr(encoding, "structured", False):
        # Answers that are no class code each (spans, boxes): the kind computes the run from the stored answers.
        # Decoded into the kind's columns while reading: a list of dicts per answer costs GBs at 100,000 items.
        answers = project_answers_load(project=project, parts=getattr(encoding, "answer_parts", None))
        loaded = time.perf_counter()
        context.progress(0.2, f"read {answers.n_answers} annotations on {answers.item_ids.size} items")
        outcome = run_structured_quality(
            answers=answers,
            encoding=encoding,
            requested_method=project.consensus_method,
            review_threshold=project.review_confidence_threshold,
            route_profile_flags=project.route_flagged_to_review,
            progress=context.progress,
        )
        return _stored(job, outcome, snapshot_at, base_model, started, loaded)
    data = project_data_load(project=project)
    if encoding_for(data).model_free_reason is None and 0 < data.table.n_items <= QUALITY_MODEL_MAX_ITEMS:
        features = item_features_load(project=project, item_ids=data.item_ids)
        if features is not None:
            data = replace(data, features=features)
    loaded = time.perf_counter()
    context.progress(0.2, f"read {data.table.n_annotations} annotations on {data.table.n_items} items")
    outcome = run_quality(
        data=data,
        requested_method=project.consensus_method,
        review_threshold=project.review_confidence_threshold,
        route_profile_flags=project.route_flagged_to_review,
        n_boot=job.params.get("n_boot"),
        progress=context.progress,
    )
    return _stored(job, outcome, snapshot_at, base_model, started, loaded)


def _stored(job: Job, outcome: RunOutcome, snapshot_at, base_model, started: float, loaded: float) -> dict:
    computed = time.perf_counter()
    report, moved = quality_results_store(
        job=job,
        outcome=outcome,
        snapshot_at=snapshot_at,
        base_version=None if base_model is None else base_model.version,
    )
    stored = time.perf_counter()
    return {
        "report": report.pk,
        "consensus_method": outcome.method,
        "n_items": outcome.scalars["n_items"],
        "n_annotations": outcome.scalars["n_annotations"],
        "n_issues": outcome.scalars["n_issues"],
        "moved_to_review": moved,
        "seconds": {
            "read": round(loaded - started, 3),
            "compute": round(computed - loaded, 3),
            "write": round(stored - computed, 3),
        },
    }
