"""The review queue: which items are in it and why, its filters, order and pages."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from annotation.item_flags import DUP_FLAGS, profiling_flagged
from annotation.models import Annotation, Item, ItemStatus, ItemTag, Project
from annotation.models.item import OPEN_STATUSES
from annotation.selectors import json_list_has
from core.errors import ValidationFailed
from kinds.registry import kind_for, kinds
from quality.metrics.reason_codes import REASON_CODES  # not label_issues: that one loads cleanlab
from quality.models import (
    ReviewAction,
    ReviewDecision,
)

QUEUE_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)
# Reasons the queue adds to the quality run's issue kinds.
EXTRA_REASONS = ("comment", "escalated")
# Reasons only items of one kind carry (a span's missed entity, a missing box), in that kind's words.
KIND_REASON_WORDS = {code: words for kind in kinds() for code, words in kind.reason_words.items()}
REVIEW_REASONS = (
    *REASON_CODES,
    *EXTRA_REASONS,
    *(code for code in KIND_REASON_WORDS if code not in REASON_CODES),
)
REASON_TEXT = {
    **KIND_REASON_WORDS,
    "model_disagrees": "the model's top label (named beside it) differs from the consensus",
    "low_consensus_confidence": "consensus confidence below the project's threshold",
    "annotators_split": "annotators split",
    "gold_mismatch": "consensus differs from the gold label",
    "near_duplicate_conflict": "a near duplicate carries another label",
    "profile_flag": "flagged by profiling at import (corrupt, silent, empty…)",
    "unsure_or_unusable": "an annotator marked it unsure or unusable",
    "model_overrides_annotators": "the consensus method ranks above the annotators' most-voted label one with "
    "fewer votes (or none): the consensus shown is the best label annotators chose, the method's own pick is "
    "a suggestion, and Accept needs a label chosen by the reviewer",
    "comment": "an annotator left a comment",
    "escalated": "escalated to the guideline",
}


def project_review_reasons(project: Project) -> tuple[str, ...]:
    """The reasons an item of ``project`` can carry: the shared ones and its own kind's."""
    own = kind_for(project).reason_words
    return tuple(code for code in REVIEW_REASONS if code not in KIND_REASON_WORDS or code in own)


@dataclass(frozen=True)
class QueueFilters:
    reason: str = ""
    label: str = ""
    tag: str = ""

    def as_query(self) -> dict[str, str]:
        return {
            key: value
            for key, value in (("reason", self.reason), ("label", self.label), ("tag", self.tag))
            if value
        }


def queue_filters_clean(*, reason: str = "", label: str = "", tag: str = "") -> QueueFilters:
    """Raises ValidationFailed (field ``reason``) for an unknown reason."""
    reason, label, tag = (reason or "").strip(), (label or "").strip(), (tag or "").strip()
    if reason and reason not in REVIEW_REASONS:
        raise ValidationFailed(
            f"Unknown reason {reason!r}; choose one of {', '.join(REVIEW_REASONS)}.", field="reason"
        )
    return QueueFilters(reason=reason, label=label, tag=tag)


def _has_comment() -> Exists:
    return Exists(Annotation.objects.filter(item=OuterRef("pk"), is_live=True).exclude(comment=""))


def _escalated() -> Exists:
    return Exists(
        ReviewDecision.objects.filter(item=OuterRef("pk"), is_current=True, action=ReviewAction.ESCALATE)
    )


# Conditions use the Exists expressions themselves, not annotations: an aggregate over an annotated queryset
# becomes a subquery on PostgreSQL, and its FILTER clauses could not see the annotation columns.
def _profiled() -> Q:
    """Items the profiler flagged: some flag besides the duplicate flags, which are no profiling flag (a near
    duplicate is a reason only as ``near_duplicate_conflict``; ``annotation.item_flags.profiling_flagged``)."""
    only_duplicates: list[list[str]] = [
        list(p) for n in range(len(DUP_FLAGS) + 1) for p in permutations(sorted(DUP_FLAGS), n)
    ]
    q = Q()
    for flags in only_duplicates:
        q &= ~Q(flags=flags)
    return q


def _in_queue(project: Project) -> Q:
    # Any reason the quality layer gave queues an item, not only a probable label error.
    reasons = ~Q(issue_kinds=[])
    if project.route_flagged_to_review:
        reasons |= _profiled()
    else:
        # A profile flag alone is no reason to queue in a project that does not route flags: the run does not
        # route such an item either, and queueing it made the queue exceed what the run said it routed.
        reasons &= ~Q(issue_kinds=["profile_flag"])
    needs = Q(status=ItemStatus.NEEDS_REVIEW) | Q(is_label_issue=True) | reasons | Q(_has_comment())
    # Gold items stay new/in_progress while some annotator can still be served them (they measure annotators),
    # and routing never moves them; a gold mismatch the quality run found is queued where it stands, and the gold
    # item stays servable until a reviewer decides it. Once every annotator saw it, it is labelled (the queue's
    # exhausted-item rule) and queued like any labelled item with a reason.
    gold_mismatch = Q(is_gold=True, status__in=OPEN_STATUSES) & json_list_has("issue_kinds", "gold_mismatch")
    return (Q(status__in=QUEUE_STATUSES) & needs) | gold_mismatch


def _reason_q(project: Project, reason: str) -> Q:
    if reason == "comment":
        return Q(_has_comment())
    if reason == "escalated":
        return Q(_escalated())
    q = json_list_has("issue_kinds", reason)
    if reason == "profile_flag":
        q |= _profiled()
    return q


def review_queue(*, project: Project, filters: QueueFilters | None = None) -> QuerySet[Item]:
    """Items needing a decision, most severe first: ``labelled``/``needs_review`` items that the quality layer
    routed or flagged, that carry an annotator comment, or (when the project routes them) profile flags; and
    open gold items whose consensus differs from their gold label.
    Rows carry ``has_comment`` and ``escalated``; use :func:`item_reasons` for the reason list."""
    filters = filters or QueueFilters()
    queryset = (
        Item.objects.filter(project=project)
        .annotate(has_comment=_has_comment(), escalated=_escalated())
        .filter(_in_queue(project))
    )
    if filters.reason:
        queryset = queryset.filter(_reason_q(project, filters.reason))
    if filters.label:
        queryset = queryset.filter(
            kind_for(project).value_schema.stored_label_query(
                "consensus_label", filters.label, project=project
            )
        )
    if filters.tag:
        queryset = queryset.filter(Exists(ItemTag.objects.filter(item=OuterRef("pk"), tag=filters.tag)))
    return queryset.order_by("-issue_severity", "id")


def review_queue_ids(*, project: Project, filters: QueueFilters, limit: int) -> list[int]:
    """Ids of the first ``limit`` queue items in queue order (a bulk action's selection)."""
    return list(review_queue(project=project, filters=filters).values_list("id", flat=True)[:limit])


def review_queue_page(*, queryset: QuerySet[Item]) -> QuerySet[Item]:
    """The queue with the live votes prefetched (one extra query per page, not per item)."""
    live = Annotation.objects.filter(is_live=True).order_by("id").only("id", "item_id", "labels")
    return queryset.prefetch_related(Prefetch("annotations", queryset=live, to_attr="live_votes"))


def item_reasons(item: Item) -> list[str]:
    """The reasons an item is in the queue. Needs the ``has_comment``/``escalated`` annotations of
    :func:`review_queue` (absent ones count as False)."""
    reasons = list(item.issue_kinds or [])
    if profiling_flagged(item.flags) and "profile_flag" not in reasons:
        reasons.append("profile_flag")
    if getattr(item, "has_comment", False):
        reasons.append("comment")
    if getattr(item, "escalated", False):
        reasons.append("escalated")
    return reasons


def answer_classes(answer: list, *, project: Project, mapping: dict[str, str]) -> list:
    """The classes a stored answer names, read by the project's kind (an answer need not be a list of class
    names): the answer as a final label would hold it, with retired labels mapped (``mapping``:
    ``label_mapping_for``), then the classes that names."""
    value_schema = kind_for(project).value_schema
    return value_schema.label_classes(
        value_schema.final_from_vote(answer or [], project=project, mapping=mapping)
    )


def vote_summary(labels: list[list], *, project: Project, mapping: dict[str, str]) -> list[tuple[str, int]]:
    """``[(label, votes)]``, most votes first, from the live annotations' stored answers: each answer counts once
    for every class it names (:func:`answer_classes`); a vote for a label merged or renamed away counts for its
    current label (``mapping``: ``label_mapping_for``)."""
    counts: dict[str, int] = {}
    for values in labels:
        for value in answer_classes(values, project=project, mapping=mapping) or ["(no label)"]:
            counts[value] = counts.get(value, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def queue_neighbours(*, queryset: QuerySet[Item], item: Item) -> tuple[int | None, int | None]:
    """Ids of the items before and after ``item`` in queue order (two queries). ``item`` need not be in the
    queue any more (it was just decided): its severity still places it."""
    severity = item.issue_severity
    after = queryset.filter(Q(issue_severity__lt=severity) | Q(issue_severity=severity, id__gt=item.pk))
    before = queryset.filter(Q(issue_severity__gt=severity) | Q(issue_severity=severity, id__lt=item.pk))
    next_id = after.order_by("-issue_severity", "id").values_list("id", flat=True).first()
    previous_id = before.order_by("issue_severity", "-id").values_list("id", flat=True).first()
    return previous_id, next_id
