"""A project's annotations and their items' side information as numpy arrays (:class:`ProjectData`).

``project_data_load`` reads them in three streamed queries whatever the project size (``quality.adapters.stream``);
the stored answers become codes through the project's kind's encoding (``kinds.registry``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotation.models import ItemStatus, Project
from annotation.selectors import label_schema_for  # [review mapping]
from kinds.registry import kind_for
from quality.adapters.stream import annotations_load, items_load
from quality.metrics.table import AnnotationTable


@dataclass(frozen=True)
class ProjectData:
    """A project's annotations as an :class:`AnnotationTable` plus per-item and per-annotation side arrays.

    Items are the project's non-discarded items with at least one live annotation, in id order. ``gold`` holds
    the class index (single-label) or the label-set bitmask (multi-label), -1 where there is no gold label.
    ``pred_probs`` is NaN on rows without model probabilities (``has_probs`` False). ``group`` in the table is
    the index into ``guideline_versions``. Annotations flagged unusable without a label are not in the table;
    they only count in ``unusable_count``.
    """

    table: AnnotationTable
    item_ids: np.ndarray
    item_status: np.ndarray
    user_ids: np.ndarray
    label_values: list[str]
    gold: np.ndarray
    gold_matrix: np.ndarray | None
    tags: dict[str, np.ndarray]
    unsure_count: np.ndarray
    unusable_count: np.ndarray
    duplicate_group: np.ndarray
    profile_flag: np.ndarray
    pred_probs: np.ndarray
    has_probs: np.ndarray
    lead_time: np.ndarray
    guideline_versions: np.ndarray
    #: ``(n_items, dim)`` float32 vectors from the project's current feature space (the base model's), NaN rows
    #: where an item has none; None when they were not loaded. The engine's quality model trains on them.
    features: np.ndarray | None = None
    #: which task kind encoded the answers (``kinds.registry``); in-memory tables default to classification
    task_type: str = "text_classification"

    @property
    def multi_label(self) -> bool:
        return self.table.multi_label


def project_data_load(*, project: Project) -> ProjectData:
    """Read everything a quality run needs in three queries (labels, items, annotations), streamed in chunks."""
    # [review mapping] Labels merged or renamed away are aliases of their target, not classes.
    schema = label_schema_for(project=project)
    label_values, index = schema.values, schema.index
    multi_label = project.multi_label
    # How a stored answer becomes a code, and codes the table's labels, is the kind's encoding.
    encoding = kind_for(project).quality_part.encoding(multi_label=multi_label)
    items = items_load(project, index, encoding)
    ann = annotations_load(project, index, encoding)
    item_ids = items["ids"]
    # An annotation whose item appeared after the item query (or was discarded meanwhile) is left out.
    if item_ids.size:
        position = np.minimum(np.searchsorted(item_ids, ann["item"]), item_ids.size - 1)
        known = item_ids[position] == ann["item"]
    else:
        position = np.zeros(ann["item"].size, dtype=np.int64)
        known = np.zeros(ann["item"].size, dtype=bool)
    n_items = int(item_ids.size)
    unsure_count = np.bincount(position[known & ann["unsure"]], minlength=n_items)
    unusable_count = np.bincount(position[known & ann["unusable"]], minlength=n_items)
    keep = known & ann["in_table"]
    user_ids, annotator = np.unique(ann["user"][keep], return_inverse=True)
    versions, group = np.unique(ann["version"][keep], return_inverse=True)
    k = len(label_values)
    label = encoding.label_matrix(ann["label"][keep], k)
    table = AnnotationTable(
        item=position[keep],
        annotator=annotator.astype(np.int64),
        label=label,
        n_items=n_items,
        n_annotators=int(user_ids.size),
        n_classes=max(k, 1),
        multi_label=multi_label,
        group=group.astype(np.int64),
    )
    gold_matrix = encoding.gold_matrix(items["gold"], k)
    return ProjectData(
        table=table,
        item_ids=item_ids,
        item_status=items["status"],
        user_ids=user_ids.astype(np.int64),
        label_values=label_values,
        gold=items["gold"],
        gold_matrix=gold_matrix,
        tags=items["tags"],
        unsure_count=unsure_count.astype(np.int64),
        unusable_count=unusable_count.astype(np.int64),
        duplicate_group=items["dup"],
        profile_flag=items["flagged"],
        pred_probs=items["pred_probs"],
        has_probs=items["has_probs"],
        lead_time=ann["lead"][keep],
        guideline_versions=versions.astype(np.int64),
        task_type=project.task_type,
    )


def project_data_for_table(
    *, table: AnnotationTable, label_values: list[str], features: np.ndarray | None = None
) -> ProjectData:
    """A ``ProjectData`` for annotations held in memory (benchmarks, simulations, tests): items 1..n in the
    table's order, annotators 1..m, no gold, tags, flags, model probabilities or lead times, one guideline
    version (the table's ``group`` must be all zero or None)."""
    n = table.n_items
    return ProjectData(
        table=table,
        item_ids=np.arange(1, n + 1),
        item_status=np.full(n, ItemStatus.LABELLED.value, dtype=object),
        user_ids=np.arange(1, table.n_annotators + 1),
        label_values=list(label_values),
        gold=np.full(n, -1),
        gold_matrix=None,
        tags={},
        unsure_count=np.zeros(n, dtype=np.int64),
        unusable_count=np.zeros(n, dtype=np.int64),
        duplicate_group=np.full(n, -1),
        profile_flag=np.zeros(n, dtype=bool),
        pred_probs=np.full((n, len(label_values)), np.nan),
        has_probs=np.zeros(n, dtype=bool),
        lead_time=np.full(table.n_annotations, np.nan),
        guideline_versions=np.array([1]),
        features=features,
    )


def item_features_load(*, project: Project, item_ids: np.ndarray) -> np.ndarray | None:
    """The cached feature vectors of ``item_ids`` (in that order) in the project's current feature space, NaN rows
    where an item has none; None when the project has no feature space yet (no training run so far).

    Chunked ``IN`` queries (constant memory per chunk, one query per 20,000 items).
    """
    from activelearning.adapters import feature_space_current, features_for_items

    space = feature_space_current(project=project)
    if space is None or not item_ids.size:
        return None
    return features_for_items(key=space.key, item_ids=item_ids, dim=space.dim)
