"""Import batches: opening one (numbered per project), and its profile summary and drift.

Bulk-API batches not summarised yet are summarised together by ``ingress.services.batch_summaries``.
"""

from collections import Counter

from django.db import models, transaction
from django.db.models import Max

from annotation.item_flags import DUP_FLAGS
from annotation.models import Item, Project
from annotation.services.projects import project_lock
from core.models import Job
from ingress.models import ImportBatch
from ingress.profiling_hooks import compact_summary, drift_findings, summary_builder


def batch_open(*, project: Project, source: str) -> ImportBatch:
    with transaction.atomic():
        project_lock(project_id=project.pk)
        number = (ImportBatch.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        return ImportBatch.objects.create(project=project, number=number, source=source[:300])


def batch_open_for_job(*, job: Job, project: Project, source: str) -> ImportBatch:
    with transaction.atomic():
        batch = batch_open(project=project, source=source)
        batch.job = job
        batch.save(update_fields=["job"])
    return batch


def batch_discard_if_empty(*, job: Job) -> None:
    """Remove the job's batch when no item landed in it (an import that failed before its first insert)."""
    ImportBatch.objects.filter(job=job).exclude(
        models.Exists(Item.objects.filter(batch_id=models.OuterRef("pk")))
    ).delete()


def batch_summary_store(
    *, batch: ImportBatch, summary, flags: dict, n_duplicates: int | None = None, n_errors: int | None = None
) -> None:
    """Store the batch's item count, summary, compact profile and drift against the ten batches before it."""
    earlier = list(
        ImportBatch.objects.filter(project_id=batch.project_id, number__lt=batch.number)
        .exclude(summary_state={})
        .order_by("-number")
        .values_list("summary_state", flat=True)[:10]
    )
    fields = {
        "n_created": Item.objects.filter(batch=batch).count(),
        "summary_state": summary.to_dict(),
        "profile_summary": compact_summary(summary, flags),
        "drift": drift_findings(number=batch.number, summary=summary, earlier=earlier),
    }
    if n_duplicates is not None:
        fields["n_duplicates"] = n_duplicates
    if n_errors is not None:
        fields["n_errors"] = n_errors
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def batch_summarise(
    *, batch: ImportBatch, n_duplicates: int | None = None, n_errors: int | None = None
) -> None:
    """Profile summary and drift of a batch read back from its items (streamed, chunk by chunk)."""
    builder = summary_builder()
    flags: Counter = Counter()
    rows = Item.objects.filter(batch=batch).order_by("id").values_list("profile", "flags")
    for profile, item_flags in rows.iterator(chunk_size=2000):
        builder.add(profile or {})
        flags.update(flag for flag in item_flags or [] if flag not in DUP_FLAGS)
    batch_summary_store(
        batch=batch, summary=builder.build(), flags=flags, n_duplicates=n_duplicates, n_errors=n_errors
    )
