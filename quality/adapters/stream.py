"""Streamed reads of a project's items and live annotations into numpy columns, in chunks (constant memory per
chunk), each stored answer coded by the kind's encoding."""

from __future__ import annotations

import math

import numpy as np
from django.db.models import Exists, OuterRef

from annotation.item_flags import profiling_flagged
from annotation.models import Annotation, Item, ItemStatus, Project

CHUNK = 20_000
_FLUSH = 200_000


def items_load(project: Project, index: dict[str, int], encoding) -> dict:
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
        flagged.append(profiling_flagged(flags))
        dup.append(-1 if dup_group is None else int(dup_group))
        if isinstance(probs, dict) and probs:
            row = np.zeros(k)
            for value, probability in probs.items():
                column = index.get(value)
                if (
                    column is not None
                    and isinstance(probability, (int, float))
                    and math.isfinite(probability)
                ):
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


def annotations_load(project: Project, index: dict[str, int], encoding) -> dict:
    rows = Annotation.objects.filter(project=project, is_live=True).exclude(item__status=ItemStatus.DISCARDED)
    rows, label_column = encoding.annotation_rows(rows)
    rows = (
        rows.order_by()
        .values_list(
            "item_id", "annotator_id", label_column, "unsure", "unusable", "lead_time_ms", "guideline_version"
        )
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
