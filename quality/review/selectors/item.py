"""One item with everything a reviewer needs: its votes, decisions, quality row, near duplicates, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from annotation.models import Annotation, Item, Label, Project
from annotation.selectors import label_mapping_for
from core.errors import NotFound
from quality.models import (
    ItemQuality,
    LabelExample,
    ReviewDecision,
)
from quality.review.selectors.queue import _escalated, _has_comment, item_reasons

NEAR_DUPLICATES_SHOWN = 20


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
        near = [
            dict(row)
            for row in Item.objects.filter(project=project, near_dup_group=item.near_dup_group)
            .exclude(pk=item.pk)
            .order_by("id")
            .values("id", "external_id", "text", "status", "consensus_label", "final_label", "file")[
                :NEAR_DUPLICATES_SHOWN
            ]
        ]
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
