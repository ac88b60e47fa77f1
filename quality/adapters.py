"""The one boundary between the ORM and the quality metrics.

``project_data_load`` streams a project's live annotations and the side information of their items into numpy
arrays (a constant number of queries, whatever the project size); ``item_results_write`` stores per-item results
with bulk statements (COPY on PostgreSQL, chunked ``bulk_create`` elsewhere) and ``items_denormalise`` hands them
to the item state machine, which owns the items. No math here: that lives in ``quality.metrics``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Exists, OuterRef

from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.selectors import label_schema_for  # [review mapping]
from annotation.services.item_state import ConsensusRows, items_consensus_set
from kinds.registry import kind_for
from quality.metrics.table import AnnotationTable
from quality.models import ItemQuality, QualityReport

CHUNK = 20_000
_FLUSH = 200_000


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


def _bitmask(values: Iterable[str], index: dict[str, int]) -> int:
    mask = 0
    for value in values:
        position = index.get(value)
        if position is not None:
            mask |= 1 << position
    return mask


def _load_items(project: Project, index: dict[str, int], encoding) -> dict:
    live = Annotation.objects.filter(item=OuterRef("pk"), is_live=True)
    rows = (
        Item.objects.filter(project=project)
        .exclude(status=ItemStatus.DISCARDED)
        .filter(Exists(live))
        .order_by("id")
        .values_list("id", "status", "gold_label", "tags", "flags", "near_dup_group", "predicted_probs")
        .iterator(chunk_size=CHUNK)
    )
    k = len(index)
    ids: list[int] = []
    status: list[str] = []
    gold: list[int] = []
    dup: list[int] = []
    flagged: list[bool] = []
    tags: dict[str, list[int]] = {}
    prob_rows: list[int] = []
    prob_values: list[np.ndarray] = []
    for position, (pk, item_status, gold_label, item_tags, flags, dup_group, probs) in enumerate(rows):
        ids.append(pk)
        status.append(item_status)
        if gold_label in (None, "", []):
            gold.append(-1)
        else:
            gold.append(encoding.gold_code(gold_label, index))
        for tag in item_tags or ():
            tags.setdefault(tag, []).append(position)
        flagged.append(bool(flags))
        dup.append(-1 if dup_group is None else int(dup_group))
        if isinstance(probs, dict) and probs:
            row = np.zeros(k)
            for value, probability in probs.items():
                column = index.get(value)
                if column is not None and isinstance(probability, (int, float)) and math.isfinite(probability):
                    # [review mapping] += : merged labels' probabilities add up in their target's column.
                    row[column] += max(float(probability), 0.0)
            if row.sum() > 0:
                prob_rows.append(position)
                prob_values.append(row)
    n = len(ids)
    pred_probs = np.full((n, k), np.nan)
    has_probs = np.zeros(n, dtype=bool)
    if prob_rows:
        pred_probs[prob_rows] = encoding.normalise_probs(np.vstack(prob_values))
        has_probs[prob_rows] = True
    return {
        "ids": np.asarray(ids, dtype=np.int64),
        "status": np.asarray(status, dtype=object),
        "gold": np.asarray(gold, dtype=np.int64),
        "dup": np.asarray(dup, dtype=np.int64),
        "flagged": np.asarray(flagged, dtype=bool),
        "tags": {tag: np.asarray(items, dtype=np.int64) for tag, items in sorted(tags.items())},
        "pred_probs": pred_probs,
        "has_probs": has_probs,
    }


class _Columns:
    """Accumulates streamed rows in Python lists and flushes them to numpy every ``_FLUSH`` rows."""

    def __init__(self, names: tuple[str, ...], dtypes: tuple[type, ...]):
        self.names, self.dtypes = names, dtypes
        self.pending: dict[str, list] = {name: [] for name in names}
        self.done: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def flush(self) -> None:
        for name, dtype in zip(self.names, self.dtypes, strict=True):
            if self.pending[name]:
                self.done[name].append(np.asarray(self.pending[name], dtype=dtype))
                self.pending[name] = []

    def arrays(self) -> dict[str, np.ndarray]:
        self.flush()
        return {
            name: np.concatenate(self.done[name]) if self.done[name] else np.empty(0, dtype=dtype)
            for name, dtype in zip(self.names, self.dtypes, strict=True)
        }


def _load_annotations(project: Project, index: dict[str, int], encoding) -> dict:
    rows = Annotation.objects.filter(project=project, is_live=True).exclude(item__status=ItemStatus.DISCARDED)
    rows, label_column = encoding.annotation_rows(rows)
    rows = (
        rows.order_by()
        .values_list("item_id", "annotator_id", label_column, "unsure", "unusable", "lead_time_ms", "guideline_version")
        .iterator(chunk_size=CHUNK)
    )
    columns = _Columns(
        ("item", "user", "label", "unsure", "unusable", "lead", "version"),
        (np.int64, np.int64, np.int64, bool, bool, np.float64, np.int64),
    )
    nan = float("nan")
    code_of = encoding.annotation_coder(index)
    while True:
        p = columns.pending
        add_item, add_user, add_label = p["item"].append, p["user"].append, p["label"].append
        add_unsure, add_unusable = p["unsure"].append, p["unusable"].append
        add_lead, add_version = p["lead"].append, p["version"].append
        count = 0
        for item_id, user_id, labels, unsure, unusable, lead_ms, version in rows:
            add_item(item_id)
            add_user(user_id)
            add_label(code_of(labels, unusable))
            add_unsure(unsure)
            add_unusable(unusable)
            add_lead(nan if lead_ms is None else lead_ms / 1000.0)
            add_version(version or 0)
            count += 1
            if count == _FLUSH:
                break
        columns.flush()
        if count < _FLUSH:
            break
    arrays = columns.arrays()
    arrays["in_table"] = arrays["label"] >= 0
    return arrays


def project_data_load(*, project: Project) -> ProjectData:
    """Read everything a quality run needs in three queries (labels, items, annotations), streamed in chunks."""
    # [review mapping] Labels merged or renamed away are aliases of their target, not classes.
    schema = label_schema_for(project=project)
    label_values, index = schema.values, schema.index
    multi_label = project.multi_label
    # How a stored answer becomes a code, and codes the table's labels, is the kind's encoding.
    encoding = kind_for(project).quality_part.encoding(multi_label=multi_label)
    items = _load_items(project, index, encoding)
    ann = _load_annotations(project, index, encoding)
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


@dataclass(frozen=True)
class ItemResults:
    """Per-item results in the item order of :class:`ProjectData`. ``consensus`` holds JSON values (a label
    value, a sorted list of values for multi-label, or None); ``is_issue`` marks labels that are probably wrong;
    ``route`` marks items to move from ``labelled`` to ``needs_review`` (any reason to look); ``model_label``
    is the checking model's top label (a label value, or None where the item was not model-checked)."""

    item_ids: np.ndarray
    consensus: list
    confidence: np.ndarray
    is_tie: np.ndarray
    label_quality: np.ndarray
    is_issue: np.ndarray
    reasons: list[list[str]]
    severity: np.ndarray
    route: np.ndarray
    model_label: list | None = None
    #: the consensus method's top label where no annotator chose it (a label value, else None); None for all
    #: items of multi-label runs
    suggestion: list | None = None


def _float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _rows(results: ItemResults) -> Iterable[tuple]:
    """(id, label JSON text, confidence, tie, label quality, issue, reasons JSON text, severity, route, model
    label JSON text).

    Labels and reason lists repeat across items, so their JSON text is encoded once per distinct value.
    """
    label_json: dict = {}
    reasons_json: dict = {}
    confidence = results.confidence.tolist()
    quality = results.label_quality.tolist()
    severity = results.severity.tolist()
    tie, issue, route = results.is_tie.tolist(), results.is_issue.tolist(), results.route.tolist()
    model_labels = results.model_label or [None] * len(results.consensus)

    def encoded(label):
        key = tuple(label) if isinstance(label, list) else label
        text = label_json.get(key)
        if text is None and label is not None:
            text = label_json[key] = json.dumps(label)
        return text

    for i, pk in enumerate(results.item_ids.tolist()):
        text = encoded(results.consensus[i])
        reasons = tuple(results.reasons[i])
        reasons_text = reasons_json.get(reasons)
        if reasons_text is None:
            reasons_text = reasons_json[reasons] = json.dumps(list(reasons))
        conf, qual = confidence[i], quality[i]
        yield (
            pk,
            text,
            conf if math.isfinite(conf) else None,
            bool(tie[i]),
            qual if math.isfinite(qual) else None,
            bool(issue[i]),
            reasons_text,
            # Items with only a reason to look keep their severity: it orders them in the review queue.
            severity[i],
            bool(route[i]),
            encoded(model_labels[i]),
        )


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def item_results_write(*, report_id: int, results: ItemResults) -> None:
    """Insert one ItemQuality row per item. Precondition: inside the caller's transaction, no rows yet for
    ``report_id``."""
    if _is_postgres():
        table = ItemQuality._meta.db_table
        sql = (
            f"COPY {table} (report_id, item_id, consensus_label, confidence, is_tie, label_quality, is_issue, "
            "reasons, severity, model_label) FROM STDIN"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for pk, label, conf, tie, quality, issue, reasons, severity, _, model in _rows(results):
                copy.write_row((report_id, pk, label, conf, tie, quality, issue, reasons, severity, model))
        return
    batch = []
    for pk, label, conf, tie, quality, issue, reasons, severity, _, model in _rows(results):
        batch.append(
            ItemQuality(
                report_id=report_id, item_id=pk, consensus_label=None if label is None else json.loads(label),
                confidence=conf, is_tie=tie, label_quality=quality, is_issue=issue, reasons=json.loads(reasons),
                severity=severity, model_label=None if model is None else json.loads(model),
            )
        )
        if len(batch) >= 2000:
            ItemQuality.objects.bulk_create(batch)
            batch = []
    if batch:
        ItemQuality.objects.bulk_create(batch)


def items_denormalise(*, project_id: int, results: ItemResults, snapshot_at, flag_model: str = "") -> int:
    """Hand the run's per-item results (consensus, flags, suggestions, routing) to the item state machine
    (``annotation.services.item_state.items_consensus_set``: items updated after ``snapshot_at`` keep what the
    per-item pass wrote). Returns how many items moved to review. Precondition: inside the caller's transaction.
    """
    return items_consensus_set(
        project_id=project_id,
        rows=ConsensusRows(
            item_ids=results.item_ids, label=results.consensus, confidence=results.confidence,
            label_quality=results.label_quality, is_issue=results.is_issue, reasons=results.reasons,
            severity=results.severity, route=results.route, model_label=results.model_label,
            suggestion=results.suggestion,
        ),
        snapshot_at=snapshot_at,
        flag_model=flag_model,
    )


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
    votes_by_item: dict[int, tuple[list[int], list[int], list[int]]] = {item.pk: ([], [], [0, 0]) for item in items}
    rows = Annotation.objects.filter(item_id__in=list(votes_by_item), is_live=True).order_by("item_id", "id")
    for item_id, user_id, values, is_unsure, is_unusable in rows.values_list(
        "item_id", "annotator_id", "labels", "unsure", "unusable"
    ):
        annotators, labels, flags = votes_by_item[item_id]
        flags[0] += int(is_unsure)
        flags[1] += int(is_unusable)
        values = values or []
        if project.multi_label:
            if not values and is_unusable:
                continue
            code = _bitmask(values, index)
        else:
            code = index.get(values[0], -1) if values else -1
            if code < 0:
                continue
        annotators.append(known_users.get(user_id, len(known_users)))
        labels.append(code)
    loaded = []
    for item in items:
        annotators, labels, (unsure, unusable) = votes_by_item[item.pk]
        gold = -1
        if item.gold_label not in (None, "", []):
            if project.multi_label:
                gold = _bitmask(item.gold_label if isinstance(item.gold_label, list) else [item.gold_label], index)
            else:
                value = (
                    item.gold_label[0] if isinstance(item.gold_label, list) and item.gold_label else item.gold_label
                )
                gold = index.get(value, -1) if isinstance(value, str) else -1
        loaded.append(ItemVotes(
            item=item,
            label_values=label_values,
            annotators=np.asarray(annotators, dtype=np.int64),
            labels=np.asarray(labels, dtype=np.int64),
            unsure_count=unsure,
            unusable_count=unusable,
            gold=gold,
            params=params,
        ))
    return loaded
