"""Reads for review: the queue of items needing a decision, one item with everything a reviewer needs, its
history, the label mapping from schema changes, label examples and open guideline questions.

Every function runs a constant number of queries whatever the project size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from annotation.models import Annotation, Guideline, Item, ItemStatus, ItemTag, Label, Project
from annotation.models.item import OPEN_STATUSES
from annotation.selectors import annotators_left_for_items, label_schema_for
from core.errors import NotFound, ValidationFailed
from quality.metrics.reason_codes import REASON_CODES  # not label_issues: that one loads cleanlab
from quality.models import (
    ItemQuality,
    LabelExample,
    LabelSchemaChange,
    QualityReport,
    ReviewAction,
    ReviewDecision,
)

QUEUE_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)
# Reasons the queue adds to the quality run's issue kinds.
EXTRA_REASONS = ("comment", "escalated")
REVIEW_REASONS = (*REASON_CODES, *EXTRA_REASONS)
REASON_TEXT = {
    "model_disagrees": "the model's top label (named beside it) differs from the consensus",
    "low_consensus_confidence": "consensus confidence below the project's threshold",
    "annotators_split": "annotators split",
    "gold_mismatch": "consensus differs from the gold label",
    "near_duplicate_conflict": "a near duplicate carries another label",
    "profile_flag": "flagged by profiling at import (corrupt, silent, empty, duplicate…)",
    "unsure_or_unusable": "an annotator marked it unsure or unusable",
    "model_overrides_annotators": "the consensus method ranks above the annotators' most-voted label one with "
    "fewer votes (or none): the consensus shown is the best label annotators chose, the method's own pick is "
    "a suggestion, and Accept needs a label chosen by the reviewer",
    "comment": "an annotator left a comment",
    "escalated": "escalated to the guideline",
}
NEAR_DUPLICATES_SHOWN = 20
EXAMPLES_PER_LABEL = 6


# --- label mapping -----------------------------------------------------------------------------------------


def compose_mappings(mappings: list[dict[str, str]]) -> dict[str, str]:
    """Fold schema-change mappings (oldest first) into one old value → current value map (chains resolved)."""
    resolved: dict[str, str] = {}
    for mapping in mappings:
        for source, target in mapping.items():
            for key, value in resolved.items():
                if value == source:
                    resolved[key] = target
            resolved[source] = target
    return {source: target for source, target in resolved.items() if source != target}


def label_mapping_for(*, project: Project | int) -> dict[str, str]:
    """Old label value → current value, from every merge and rename of the project (one query): the mapping of
    ``annotation.selectors.label_schema_for``, which every app's vote counts use."""
    return label_schema_for(project=project).mapping


def map_label(value, mapping: dict[str, str]):
    """A label JSON value (a string, a list for multi-label, or None) with the mapping applied."""
    if not mapping or value is None:
        return value
    if isinstance(value, list):
        return sorted({mapping.get(v, v) for v in value})
    return mapping.get(value, value) if isinstance(value, str) else value


# --- JSON helpers ------------------------------------------------------------------------------------------


def json_list_has(field_name: str, value: str) -> Q:
    """``field`` (a JSON list) contains ``value``; SQLite lacks JSON containment, so match the encoded text."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [value]})
    return Q(**{f"{field_name}__icontains": json.dumps(value)})


def json_label_is(field_name: str, value: str, *, multi_label: bool) -> Q:
    return json_list_has(field_name, value) if multi_label else Q(**{field_name: value})


# --- the queue ---------------------------------------------------------------------------------------------


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
def _in_queue(project: Project) -> Q:
    # Any reason the quality layer gave queues an item, not only a probable label error.
    reasons = ~Q(issue_kinds=[])
    if project.route_flagged_to_review:
        reasons |= ~Q(flags=[])
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
        q |= ~Q(flags=[])
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
            json_label_is("consensus_label", filters.label, multi_label=project.multi_label)
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
    if item.flags and "profile_flag" not in reasons:
        reasons.append("profile_flag")
    if getattr(item, "has_comment", False):
        reasons.append("comment")
    if getattr(item, "escalated", False):
        reasons.append("escalated")
    return reasons


def vote_summary(labels: list[list[str]], *, mapping: dict[str, str]) -> list[tuple[str, int]]:
    """``[(label, votes)]``, most votes first, from the live annotations' label lists; a vote for a label merged
    or renamed away counts for its current label (``mapping``: ``label_mapping_for``)."""
    counts: dict[str, int] = {}
    for values in labels:
        for value in values or ["(no label)"]:
            value = mapping.get(value, value)
            counts[value] = counts.get(value, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


def review_queue_items(*, project: Project) -> QuerySet[Item]:
    """The items in the review queue now, unordered and unannotated: for other apps' counts over the queue."""
    return Item.objects.filter(project=project).filter(_in_queue(project))


def review_queue_total(*, project: Project) -> int:
    """How many items are in the review queue now (one query): what every page labels "in the review queue
    now", and the ``count`` of ``GET /api/projects/{pid}/review-queue/`` (the same condition)."""
    return review_queue_items(project=project).count()


IN_QUEUE_CHUNK = 5000


def review_queue_total_among(*, project: Project, item_ids: list[int]) -> int:
    """How many of ``item_ids`` are in the review queue now (``review_queue_total``'s condition); one query per
    ``IN_QUEUE_CHUNK`` ids."""
    return sum(
        Item.objects.filter(project=project, pk__in=item_ids[start : start + IN_QUEUE_CHUNK])
        .filter(_in_queue(project))
        .count()
        for start in range(0, len(item_ids), IN_QUEUE_CHUNK)
    )


OVERRIDE_REASON = "model_overrides_annotators"
NOBODY_LEFT = (
    "Every annotator of this project has already labelled this item; add an annotator or decide it yourself."
)
NOBODY_LEFT_CODE = "no_annotator_left"


@dataclass(frozen=True)
class Refusal:
    """An item a decision cannot be applied to, and why (in the reviewer's words)."""

    item_id: int
    external_id: str
    reason: str

    def as_row(self) -> dict:
        return {"item": self.item_id, "external_id": self.external_id, "reason": self.reason}


def relabel_refusals(*, project: Project, item_ids: list[int]) -> list[Refusal]:
    """The items among ``item_ids`` a relabel cannot send anywhere, in id order (two queries): the queue never
    serves an item twice to one annotator, so an item every eligible annotator has been served
    (:func:`annotation.selectors.annotators_left_for_items` is 0) would reopen for nobody, and the
    exhausted-item sweep would close it again."""
    left = annotators_left_for_items(project=project, item_ids=list(item_ids))
    nobody = sorted(pk for pk, n in left.items() if n == 0)
    if not nobody:
        return []
    names = dict(Item.objects.filter(project=project, pk__in=nobody).values_list("id", "external_id"))
    return [Refusal(pk, names.get(pk, str(pk)), NOBODY_LEFT) for pk in nobody]




def items_needing_a_chosen_label(*, project: Project, items: list[Item]) -> set[int]:
    """Ids of the items whose consensus Accept must not take by default (one query): the consensus method
    overrode the annotators (``model_overrides_annotators``), or the stored consensus has a label nobody voted
    for (stored by an earlier version, or by a run older than a relabel). The reviewer picks their label."""
    if not items:
        return set()
    mapping = label_mapping_for(project=project)
    voted: dict[int, set] = {item.pk: set() for item in items}
    rows = Annotation.objects.filter(item__in=[item.pk for item in items], is_live=True).values_list(
        "item_id", "labels"
    )
    for item_id, labels in rows:
        voted[item_id].update(mapping.get(value, value) for value in labels or [])
    out = set()
    for item in items:
        consensus = map_label(item.consensus_label, mapping)
        values = consensus if isinstance(consensus, list) else [] if consensus is None else [consensus]
        if OVERRIDE_REASON in (item.issue_kinds or []) or not set(values) <= voted[item.pk]:
            out.add(item.pk)
    return out


CONFIDENCE_MEANING = {
    "majority_vote": "the share of the item's votes that chose the consensus (majority vote)",
    "dawid_skene": "the probability that the consensus is right under a Dawid–Skene model of each annotator's "
    "reliability, fitted by the last quality run",
    "crowdlab": "the probability that the consensus is right under a Dawid–Skene model of each annotator's "
    "reliability with the model's probabilities as the item's prior (the last quality run, CROWDLAB)",
}


def consensus_confidence_meaning(*, project: Project) -> str:
    """What ``consensus_confidence`` means for this project's items now (one query). The per-item update keeps
    the last run's method: its Dawid–Skene parameters when it stored some, else a majority vote."""
    if project.multi_label:
        return "the weakest of the per-label vote shares or probabilities behind the label set"
    report = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values("consensus_method", "consensus_params")
        .first()
    )
    if report is None or not report["consensus_params"]:
        return CONFIDENCE_MEANING["majority_vote"] + ("" if report else "; no quality run yet")
    return CONFIDENCE_MEANING["crowdlab" if report["consensus_params"].get("item_prior") == "model" else "dawid_skene"]


def review_queue_counts(*, project: Project) -> dict[str, int]:
    """How many queued items carry each reason, plus ``total`` (one query)."""
    queryset = Item.objects.filter(project=project).filter(_in_queue(project))
    aggregates = {reason: Count("id", filter=_reason_q(project, reason)) for reason in REVIEW_REASONS}
    return queryset.aggregate(total=Count("id"), **aggregates)


# Why an item with each status is in the queue, for the breakdown beside the queue's total.
QUEUE_STATUS_WHY = {
    ItemStatus.NEEDS_REVIEW: "routed to review, or closed with no vote to go on",
    ItemStatus.LABELLED: "labelled, with a reason to look (a flag, a possible label error, a comment)",
    ItemStatus.NEW: "gold items not yet served, whose votes so far miss the gold label",
    ItemStatus.IN_PROGRESS: "gold items still being served, whose votes so far miss the gold label",
}


def review_queue_status_counts(*, project: Project) -> list[dict]:
    """The review queue by item status, every status with items in it (one query): rows of ``status``, ``n``
    and ``why`` in ``ItemStatus`` order. They add up to ``review_queue_total`` (the same condition): the queue
    is not only ``needs_review`` items."""
    rows = (
        Item.objects.filter(project=project)
        .filter(_in_queue(project))
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
    )
    by_status = {row["status"]: row["n"] for row in rows}
    return [
        {"status": status, "n": by_status[status], "why": QUEUE_STATUS_WHY.get(status, "")}
        for status in ItemStatus.values
        if by_status.get(status)
    ]


def queue_neighbours(*, queryset: QuerySet[Item], item: Item) -> tuple[int | None, int | None]:
    """Ids of the items before and after ``item`` in queue order (two queries). ``item`` need not be in the
    queue any more (it was just decided): its severity still places it."""
    severity = item.issue_severity
    after = queryset.filter(Q(issue_severity__lt=severity) | Q(issue_severity=severity, id__gt=item.pk))
    before = queryset.filter(Q(issue_severity__gt=severity) | Q(issue_severity=severity, id__lt=item.pk))
    next_id = after.order_by("-issue_severity", "id").values_list("id", flat=True).first()
    previous_id = before.order_by("issue_severity", "-id").values_list("id", flat=True).first()
    return previous_id, next_id


# --- one item ----------------------------------------------------------------------------------------------


@dataclass
class ItemReview:
    item: Item
    annotations: list[Annotation]
    decisions: list[ReviewDecision]
    quality: ItemQuality | None
    reasons: list[str]
    near_duplicates: list[dict]
    examples: list[LabelExample]
    mapping: dict[str, str]
    labels: list[Label]
    history: list[dict] = field(default_factory=list)


def item_for_review(*, project: Project, item_id: int) -> Item:
    """Raises NotFound (field ``item``) when the item is not in the project."""
    item = (
        Item.objects.filter(project=project, pk=item_id)
        .annotate(has_comment=_has_comment(), escalated=_escalated())
        .first()
    )
    if item is None:
        raise NotFound("No such item in this project.", field="item")
    return item


def _history(annotations: list[Annotation], decisions: list[ReviewDecision]) -> list[dict]:
    superseded_by = {pk: d for d in decisions for pk in (d.superseded_annotations or [])}
    events: list[tuple[datetime, int, int, dict]] = []
    for a in annotations:
        events.append(
            (
                a.created_at,
                0,
                a.pk,
                {
                    "kind": "annotation",
                    "at": a.created_at,
                    "annotation": a,
                    "relabelled_by": superseded_by.get(a.pk),
                },
            )
        )
    for d in decisions:
        events.append((d.created_at, 1, d.pk, {"kind": "decision", "at": d.created_at, "decision": d}))
    events.sort(key=lambda event: event[:3])
    return [event[3] for event in events]


def item_review(*, project: Project, item_id: int) -> ItemReview:
    """Everything the review page and the item API show (seven queries). Raises NotFound."""
    item = item_for_review(project=project, item_id=item_id)
    annotations = list(
        Annotation.objects.filter(item=item).select_related("annotator").order_by("created_at", "id")
    )
    decisions = list(
        ReviewDecision.objects.filter(item=item).select_related("reviewer").order_by("created_at", "id")
    )
    quality = (
        ItemQuality.objects.filter(item=item)
        .select_related("report")
        .order_by("-report__created_at", "-id")
        .first()
    )
    near: list[dict] = []
    if item.near_dup_group is not None:
        near = list(
            Item.objects.filter(project=project, near_dup_group=item.near_dup_group)
            .exclude(pk=item.pk)
            .order_by("id")
            .values("id", "external_id", "text", "status", "consensus_label", "final_label", "file")[
                :NEAR_DUPLICATES_SHOWN
            ]
        )
        for row in near:
            row["media_url"] = f"/media/items/{row['id']}/" if row.pop("file") else None
            row["text"] = (row["text"] or "")[:200]
    examples = list(LabelExample.objects.filter(item=item).select_related("label").order_by("id"))
    labels = list(Label.objects.filter(project=project).order_by("-is_active", "order", "id"))
    return ItemReview(
        item=item,
        annotations=annotations,
        decisions=decisions,
        quality=quality,
        reasons=item_reasons(item),
        near_duplicates=near,
        examples=examples,
        mapping=label_mapping_for(project=project),
        labels=labels,
        history=_history(annotations, decisions),
    )


# --- guideline: examples and open questions ----------------------------------------------------------------


def label_examples_for(*, project: Project, for_annotators: bool) -> list[dict]:
    """Active labels, each with up to ``EXAMPLES_PER_LABEL`` examples, newest first (two queries). For
    annotators, items still open for annotation are left out (showing one would reveal its label)."""
    labels = list(Label.objects.filter(project=project, is_active=True).order_by("order", "id"))
    examples = LabelExample.objects.filter(label__project=project, label__is_active=True)
    if for_annotators:
        examples = examples.exclude(item__status__in=[*OPEN_STATUSES, ItemStatus.DISCARDED])
    newest_first = [F("created_at").desc(), F("id").desc()]
    examples = (
        examples.annotate(rank=Window(RowNumber(), partition_by=[F("label_id")], order_by=newest_first))
        .filter(rank__lte=EXAMPLES_PER_LABEL)
        .select_related("item")
        .order_by("label_id", "-created_at", "-id")
    )
    by_label: dict[int, list[LabelExample]] = {label.pk: [] for label in labels}
    for example in examples:
        by_label[example.label_id].append(example)
    return [{"label": label, "examples": by_label[label.pk]} for label in labels]


def open_questions(*, project: Project, limit: int = 100) -> list[ReviewDecision]:
    """Current escalations (items a reviewer escalated to the guideline and nobody has decided since)."""
    return list(
        ReviewDecision.objects.filter(project=project, is_current=True, action=ReviewAction.ESCALATE)
        .select_related("item", "reviewer")
        .order_by("created_at", "id")[:limit]
    )


def open_question_count(*, project: Project) -> int:
    return ReviewDecision.objects.filter(
        project=project, is_current=True, action=ReviewAction.ESCALATE
    ).count()


def guideline_versions(*, project: Project) -> list[Guideline]:
    return list(Guideline.objects.filter(project=project).select_related("author").order_by("-version")[:200])


def guideline_pair(*, project: Project, old: int, new: int) -> tuple[Guideline, Guideline]:
    """Raises NotFound (field ``from``/``to``) for a version the project does not have."""
    found = {g.version: g for g in Guideline.objects.filter(project=project, version__in=[old, new])}
    if old not in found:
        raise NotFound(f"This project has no guideline version {old}.", field="from")
    if new not in found:
        raise NotFound(f"This project has no guideline version {new}.", field="to")
    return found[old], found[new]


def label_changes(*, project: Project, limit: int = 200) -> QuerySet[LabelSchemaChange]:
    return (
        LabelSchemaChange.objects.filter(project=project)
        .select_related("author", "quality_job")
        .order_by("-created_at", "-id")[:limit]
    )


def _label_set(value: object) -> list | None:
    """A stored label value (a string, a list of them, or none) as a sorted list, None when empty."""
    if value in (None, "", []):
        return None
    return sorted(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class ConsensusEvidence:
    """What the item page shows beside the consensus and the label-issue flag, from the item's own fields.

    ``gold_matches`` is None without a gold label (or without a consensus); on a gold item the stored confidence
    is settled by it (1 when equal, 0 when not). ``issue_basis`` says why ``is_label_issue`` holds:
    ``"gold_mismatch"``, ``"model"`` (the flag model's probability for the consensus, ``model_probability``, is
    below the probability of its own top label, ``flag_model_label``) or "" when the item is not a label issue.
    """

    gold_matches: bool | None
    issue_basis: str
    model_probability: float | None


def consensus_evidence(*, item: Item) -> ConsensusEvidence:
    """The :class:`ConsensusEvidence` of ``item`` (no query)."""
    consensus, gold = _label_set(item.consensus_label), _label_set(item.gold_label)
    matches = None if consensus is None or gold is None else consensus == gold
    basis = ""
    if item.is_label_issue:
        basis = "gold_mismatch" if matches is False else "model"
    return ConsensusEvidence(gold_matches=matches, issue_basis=basis, model_probability=item.label_quality)
