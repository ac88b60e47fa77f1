"""What a decision needs checked first: items a relabel cannot send anywhere, items whose Accept needs a
label chosen by the reviewer."""

from __future__ import annotations

from dataclasses import dataclass

from annotation.models import Annotation, Item, Project
from annotation.selectors import annotators_left_for_items, label_mapping_for, map_label
from kinds.registry import kind_for
from quality.review.selectors.queue import answer_classes

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
        voted[item_id].update(answer_classes(labels, project=project, mapping=mapping))
    label_classes = kind_for(project).value_schema.label_classes
    out = set()
    for item in items:
        values = label_classes(map_label(item.consensus_label, mapping))
        if OVERRIDE_REASON in (item.issue_kinds or []) or not set(values) <= voted[item.pk]:
            out.add(item.pk)
    return out
