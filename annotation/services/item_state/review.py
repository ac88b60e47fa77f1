"""Review applied: what a reviewer's decision does to the items and their votes.

The review app owns the decisions (who decided what, and why); the items' status, final label, counts and
targets follow them here. The caller holds the items' row locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from annotation.models import Annotation, Item, ItemStatus

# A reviewer's outcome → the status the item moves to.
STATUS_AFTER_REVIEW = {
    "accept": ItemStatus.ACCEPTED,
    "relabel": ItemStatus.IN_PROGRESS,
    "discard": ItemStatus.DISCARDED,
    "escalate": ItemStatus.NEEDS_REVIEW,
}
# A relabel takes the old votes out of the count, so the quality fields derived from them go too.
CLEARED_QUALITY: dict[str, object] = {
    "consensus_label": None,
    "consensus_confidence": None,
    "label_quality": None,
    "is_label_issue": False,
    "issue_kinds": [],
    "issue_severity": 0.0,
    "consensus_suggestion": None,
}


@dataclass(frozen=True)
class ReviewApplied:
    """One decision on a set of items. ``outcome`` is a key of ``STATUS_AFTER_REVIEW``; ``final_labels`` (accept)
    maps item id → the label it ends up with; ``target_at_least`` and ``priority`` (relabel) are the annotation
    target the items are raised to at least and the queue priority they get."""

    outcome: str
    item_ids: Sequence[int]
    final_labels: dict[int, object] = field(default_factory=dict)
    target_at_least: int = 0
    priority: float = 0.0


def annotations_supersede(*, item_ids: Sequence[int]) -> dict[int, list[int]]:
    """Take every live annotation of the items out of the count (the rows are kept for history); returns their
    ids by item."""
    rows = Annotation.objects.filter(item_id__in=list(item_ids), is_live=True).values_list("item_id", "id")
    by_item: dict[int, list[int]] = defaultdict(list)
    for item_id, annotation_id in rows:
        by_item[item_id].append(annotation_id)
    ids = [pk for pks in by_item.values() for pk in pks]
    if ids:
        Annotation.objects.filter(pk__in=ids).update(is_live=False)
    return by_item


def items_review_applied(*, review: ReviewApplied, now=None) -> None:
    """Move the items to follow a decision: accept stores each final label (one UPDATE per distinct label);
    relabel clears the final label, the vote count and the quality fields derived from the votes, raises the
    target and sets the priority; discard and escalate clear the final label. Raises KeyError for an unknown
    outcome."""
    now = now or timezone.now()
    status = STATUS_AFTER_REVIEW[review.outcome]
    ids = list(review.item_ids)
    if review.outcome == "accept":
        groups: dict[str, list[int]] = defaultdict(list)
        values: dict[str, object] = {}
        for item_id, final in review.final_labels.items():
            key = repr(final)
            groups[key].append(item_id)
            values[key] = final
        for key, group in groups.items():
            Item.objects.filter(pk__in=group).update(status=status, final_label=values[key], updated_at=now)
    elif review.outcome == "relabel":
        Item.objects.filter(pk__in=ids).update(
            status=status,
            final_label=None,
            annotation_count=0,
            target_annotations=Greatest("target_annotations", Value(review.target_at_least)),
            priority=review.priority,
            updated_at=now,
            **CLEARED_QUALITY,
        )
    else:
        Item.objects.filter(pk__in=ids).update(status=status, final_label=None, updated_at=now)
