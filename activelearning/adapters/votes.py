"""Votes as arrays: the live annotations of a project's items, each coded as a class index by the project's
task kind (``activelearning.answers``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from activelearning.adapters.scan import CHUNK
from activelearning.answers import answer_classes
from annotation.models import Annotation, Project


@dataclass(frozen=True)
class Votes:
    """Live votes on items with annotations, as arrays: one row per vote (unsure votes and votes without a
    known single label have label -1). ``item_ids`` sorted; ``item_index`` points into it."""

    item_ids: np.ndarray
    status: np.ndarray
    final_set: np.ndarray  # the item has a reviewer's final label
    annotation_count: np.ndarray
    item_index: np.ndarray
    annotator_index: np.ndarray
    labels: np.ndarray
    n_annotators: int


def votes_load(*, project: Project, index: dict[str, int], statuses: Iterable[str]) -> Votes:
    """Live votes of the project's non-gold items in ``statuses`` (one streamed query)."""
    statuses = tuple(statuses)
    class_code = answer_classes(project).class_code
    rows = (
        Annotation.objects.filter(
            project=project, is_live=True, item__status__in=statuses, item__is_gold=False
        )
        .order_by("item_id", "id")
        .values_list(
            "item_id",
            "annotator_id",
            "labels",
            "unsure",
            "item__status",
            "item__final_label",
            "item__annotation_count",
        )
        .iterator(chunk_size=CHUNK * 5)
    )
    items: list[int] = []
    status: list[str] = []
    final: list[bool] = []
    counts: list[int] = []
    item_index: list[int] = []
    annotators: dict[int, int] = {}
    annotator_index: list[int] = []
    labels: list[int] = []
    for item_id, annotator_id, values, unsure, item_status, final_label, count in rows:
        if not items or items[-1] != item_id:
            items.append(item_id)
            status.append(item_status)
            final.append(final_label not in (None, "", []))
            counts.append(count)
        item_index.append(len(items) - 1)
        annotator_index.append(annotators.setdefault(annotator_id, len(annotators)))
        labels.append(-1 if unsure else class_code(values or [], index))
    return Votes(
        item_ids=np.asarray(items, dtype=np.int64),
        status=np.asarray(status, dtype=object),
        final_set=np.asarray(final, dtype=bool),
        annotation_count=np.asarray(counts, dtype=np.int64),
        item_index=np.asarray(item_index, dtype=np.int64),
        annotator_index=np.asarray(annotator_index, dtype=np.int64),
        labels=np.asarray(labels, dtype=np.int64),
        n_annotators=len(annotators),
    )


def item_votes(*, project: Project, item_id: int, index: dict[str, int], n_classes: int) -> np.ndarray:
    """(K,) counts of one item's live, sure votes (``index`` may map several values to one class)."""
    class_code = answer_classes(project).class_code
    counts = np.zeros(n_classes, dtype=np.int64)
    for values, unsure in Annotation.objects.filter(item_id=item_id, is_live=True).values_list(
        "labels", "unsure"
    ):
        label = -1 if unsure else class_code(values or [], index)
        if label >= 0:
            counts[label] += 1
    return counts
