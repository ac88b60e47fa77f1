"""Profile summaries and drift of the batches the bulk API makes, computed in bulk by the refresh job.

A file import summarises its own batch at its end (``ingress.services.imports``); a bulk-API batch gets
its summary here, from the near-duplicate refresh job every bulk call schedules. All pending batches of the
project are summarised together: one streamed read of their items' profiles, one streamed read of the
earlier summaries that serve as drift baselines, one ``bulk_update``.
"""

from collections import Counter, deque

from annotation.item_flags import DUP_FLAGS
from annotation.models import Item, Project
from ingress.models import ImportBatch
from ingress.profiling_hooks import compact_summary, drift_findings, summary_builder

# Batches summarised per run; more wait for the next run (or the next file import, which summarises them too).
MAX_BATCHES = 200
# Earlier summaries a batch's drift baseline merges, as for imported batches (``imports._store_summary``).
BASELINE_BATCHES = 10
READ_CHUNK = 2000


def bulk_batches_summarise(*, project: Project) -> int:
    """Store ``summary_state``, ``profile_summary`` and ``drift`` of the project's bulk-API batches that have
    none yet, oldest first, each compared with the ``BASELINE_BATCHES`` summarised batches before it (the
    ones summarised in this run included). Returns how many batches were summarised.

    Import batches (with a job) are left to their import, which may still be inserting their items. Memory
    is bounded by the pending batches' summaries plus ``BASELINE_BATCHES`` earlier ones.
    """
    pending = list(
        ImportBatch.objects.filter(project=project, job__isnull=True, summary_state={})
        .order_by("number")
        .values_list("pk", "number")[:MAX_BATCHES]
    )
    if not pending:
        return 0
    builders = {pk: summary_builder() for pk, _ in pending}
    flags: dict[int, Counter] = {pk: Counter() for pk, _ in pending}
    rows = (
        Item.objects.filter(batch_id__in=list(builders))
        .order_by("id")
        .values_list("batch_id", "profile", "flags")
    )
    for batch_id, profile, item_flags in rows.iterator(chunk_size=READ_CHUNK):
        builders[batch_id].add(profile or {})
        flags[batch_id].update(flag for flag in item_flags or [] if flag not in DUP_FLAGS)

    first, last = pending[0][1], pending[-1][1]
    floor = list(
        ImportBatch.objects.filter(project=project, number__lt=first)
        .exclude(summary_state={})
        .order_by("-number")
        .values_list("number", flat=True)[BASELINE_BATCHES - 1 : BASELINE_BATCHES]
    )
    earlier = (
        ImportBatch.objects.filter(project=project, number__gte=floor[0] if floor else 0, number__lt=last)
        .exclude(summary_state={})
        .order_by("number")
        .values_list("number", "summary_state")
        .iterator(chunk_size=BASELINE_BATCHES)
    )
    recent: deque[dict] = deque(maxlen=BASELINE_BATCHES)
    upcoming = next(earlier, None)
    changed = []
    for pk, number in pending:
        while upcoming is not None and upcoming[0] < number:
            recent.append(upcoming[1])
            upcoming = next(earlier, None)
        summary = builders.pop(pk).build()
        state = summary.to_dict()
        changed.append(
            ImportBatch(
                pk=pk,
                summary_state=state,
                profile_summary=compact_summary(summary, flags.pop(pk)),
                # Most recent first, as an import's drift baseline is ordered.
                drift=drift_findings(number=number, summary=summary, earlier=list(reversed(recent))),
            )
        )
        recent.append(state)
    ImportBatch.objects.bulk_update(changed, ["summary_state", "profile_summary", "drift"], batch_size=50)
    return len(changed)
