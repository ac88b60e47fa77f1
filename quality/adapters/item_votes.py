"""Items' live votes for the per-item consensus update, coded by the project's kind's encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotation.models import Annotation, Item, Project
from annotation.selectors import label_schema_for  # [review mapping]
from kinds.registry import kind_for
from quality.models import QualityReport


@dataclass(frozen=True)
class ItemVotes:
    """One item's live votes for the per-item consensus update. ``annotators`` index into the stored
    Dawid–Skene ``user_ids`` (unknown annotators get ``len(user_ids)``, i.e. "average annotator")."""

    item: Item
    label_values: list[str]
    annotators: np.ndarray
    labels: np.ndarray
    unsure_count: int
    unusable_count: int
    gold: int
    params: dict


def item_votes_load(*, project: Project, item_id: int) -> ItemVotes | None:
    """The item (locked for update; call inside a transaction) and its live votes, or None if it is gone."""
    return next(iter(items_votes_load(project=project, item_ids=[item_id])), None)


def items_votes_load(*, project: Project, item_ids: list[int]) -> list[ItemVotes]:
    """The items of ``project`` among ``item_ids`` (locked for update in id order; call inside a transaction)
    with their live votes, in id order; items that are gone are left out. Three queries whatever the count."""
    items = list(Item.objects.select_for_update().filter(project=project, pk__in=item_ids).order_by("pk"))
    if not items:
        return []
    # [review mapping] Labels merged or renamed away are aliases of their target, not classes.
    schema = label_schema_for(project=project)
    label_values, index = schema.values, schema.index
    params = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values_list("consensus_params", flat=True)
        .first()
    ) or {}
    if params.get("label_values") != label_values:
        params = {}  # the label set changed since that fit; its matrices no longer line up
    known_users = {user: position for position, user in enumerate(params.get("user_ids", []))}
    # How a stored answer and a gold label become codes is the kind's encoding.
    encoding = kind_for(project).quality_part.encoding(multi_label=project.multi_label)
    code_of = encoding.vote_coder(index)
    votes_by_item: dict[int, tuple[list[int], list[int], list[int]]] = {
        item.pk: ([], [], [0, 0]) for item in items
    }
    rows = Annotation.objects.filter(item_id__in=list(votes_by_item), is_live=True).order_by("item_id", "id")
    for item_id, user_id, values, is_unsure, is_unusable in rows.values_list(
        "item_id", "annotator_id", "labels", "unsure", "unusable"
    ):
        annotators, labels, flags = votes_by_item[item_id]
        flags[0] += int(is_unsure)
        flags[1] += int(is_unusable)
        code = code_of(values or [], is_unusable)
        if code < 0:
            continue
        annotators.append(known_users.get(user_id, len(known_users)))
        labels.append(code)
    loaded = []
    for item in items:
        annotators, labels, (unsure, unusable) = votes_by_item[item.pk]
        gold = -1 if item.gold_label in (None, "", []) else encoding.item_gold_code(item.gold_label, index)
        loaded.append(
            ItemVotes(
                item=item,
                label_values=label_values,
                annotators=np.asarray(annotators, dtype=np.int64),
                labels=np.asarray(labels, dtype=np.int64),
                unsure_count=unsure,
                unusable_count=unusable,
                gold=gold,
                params=params,
            )
        )
    return loaded
