"""The per-item pass: what runs after labels, for every item of a project labelled since the last pass.

Mark and sweep: the pass reads up to ``PASS_BATCH`` marks (item, token), hands the items to the registered
handlers, then deletes exactly the marks it read. A label that arrives meanwhile has rewritten its item's token
(or added a mark) and scheduled the next pass, so nothing is lost; a retried or duplicated pass recomputes from
the database and changes nothing more. Handlers must be idempotent and set-based.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string

from annotation import hooks
from annotation.models import ItemPassSchedule, LabelledItemMark

PASS_BATCH = 5000
DELETE_CHUNK = 500
# Marks this old without a pass in the broker were left by a failed send or a pass that gave up.
ORPHANED_AFTER = timedelta(seconds=30)


def items_pass_run(*, project_id: int) -> dict:
    """Run the registered handlers over the project's marked items; returns how many items and what each
    handler reported. A handler's error propagates and leaves the marks for the retry."""
    # Deleted before the marks are read: a label committed after this schedules the next pass itself.
    ItemPassSchedule.objects.filter(project_id=project_id).delete()
    marks = list(
        LabelledItemMark.objects.filter(project_id=project_id)
        .order_by("id")
        .values_list("item_id", "token")[:PASS_BATCH]
    )
    if not marks:
        return {"items": 0}
    item_ids = sorted(item_id for item_id, _ in marks)
    reports = {
        path: import_string(path)(project_id=project_id, item_ids=item_ids)
        for path in hooks.ITEMS_LABELLED_HANDLERS
    }
    tokens = [token for _, token in marks]
    for start in range(0, len(tokens), DELETE_CHUNK):
        LabelledItemMark.objects.filter(token__in=tokens[start : start + DELETE_CHUNK]).delete()
    if len(marks) == PASS_BATCH:
        hooks.items_pass_schedule(project_id=project_id, countdown=0)
    return {"items": len(item_ids), "handlers": reports}


def item_passes_resend(*, now=None) -> int:
    """Send the pass of every project whose marks wait with no pass in the broker (a failed send, a lost
    message, a pass that exhausted its retries). Returns how many were sent."""
    now = now or timezone.now()
    ItemPassSchedule.objects.filter(
        enqueued_at__lt=now - timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS)
    ).delete()
    waiting = (
        LabelledItemMark.objects.filter(marked_at__lt=now - ORPHANED_AFTER)
        .exclude(Exists(ItemPassSchedule.objects.filter(project_id=OuterRef("project_id"))))
        .values_list("project_id", flat=True)
        .distinct()
    )
    return sum(hooks.items_pass_schedule(project_id=pk, countdown=0) for pk in list(waiting))
