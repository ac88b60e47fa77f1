"""Items as the token model reads them (text, status, the reference spans it trains on, gold spans, pool fields)
and its own rows (``TokenPrediction``) written back; the items' flags go to ``annotation.services.item_state``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from activelearning.adapters.scan import CHUNK, TRAINABLE_STATUSES, item_chunks
from activelearning.adapters.vectors import finite_or_none
from activelearning.models import TokenPrediction
from annotation.models import Item, ItemStatus, Project
from annotation.models.item import OPEN_STATUSES
from annotation.services import item_state


@dataclass(frozen=True)
class TokenItems:
    """A project's non-discarded items in id order. ``reference`` is what the model trains on: the final label,
    else the consensus, of non-gold items in a trainable status (None otherwise); ``gold`` the gold spans of gold
    items (None otherwise); ``pool`` marks open non-gold items (the ones selection scores)."""

    item_ids: np.ndarray
    texts: list[str]
    reference: list[list | None]
    gold: list[list | None]
    pool: np.ndarray
    annotation_count: np.ndarray
    target: np.ndarray
    priority: np.ndarray
    n_labelled: int


def token_items_load(*, project: Project) -> TokenItems:
    queryset = Item.objects.filter(project=project).exclude(status=ItemStatus.DISCARDED)
    fields = (
        "id",
        "text",
        "status",
        "is_gold",
        "final_label",
        "consensus_label",
        "gold_label",
        "annotation_count",
        "target_annotations",
        "priority",
    )
    ids, texts, reference, gold, pool, count, target, priority = [], [], [], [], [], [], [], []
    n_labelled = 0
    for rows in item_chunks(queryset, fields, CHUNK):
        for pk, text, status, is_gold, final, consensus, gold_label, n, k, current in rows:
            trainable = status in TRAINABLE_STATUSES and not is_gold
            n_labelled += trainable
            chosen = final if isinstance(final, list) else consensus
            ids.append(pk)
            texts.append(text or "")
            reference.append(chosen if trainable and isinstance(chosen, list) else None)
            gold.append(gold_label if is_gold and isinstance(gold_label, list) else None)
            pool.append(status in OPEN_STATUSES and not is_gold)
            count.append(n)
            target.append(k)
            priority.append(current)
    return TokenItems(
        item_ids=np.asarray(ids, dtype=np.int64),
        texts=texts,
        reference=reference,
        gold=gold,
        pool=np.asarray(pool, dtype=bool),
        annotation_count=np.asarray(count, dtype=np.int64),
        target=np.asarray(target, dtype=np.int64),
        priority=np.asarray(priority, dtype=np.float64),
        n_labelled=int(n_labelled),
    )


@dataclass(frozen=True)
class TokenPredictionRows:
    """One row per item: ``probs[i]`` its (tokens × classes) probabilities; ``checks[i]`` (labelled items) a dict
    with ``checked_spans``, ``is_issue``, ``label_quality``, ``flagged_tokens`` and ``reason``; ``scores`` (pool
    items) per measure, (n,) arrays."""

    item_ids: np.ndarray
    probs: Sequence[np.ndarray]
    predicted_spans: Sequence[list]
    out_of_sample: bool
    checks: Sequence[dict] | None = None
    score: np.ndarray | None = None
    scores: dict[str, np.ndarray] | None = None


def token_predictions_write(
    *, project: Project, job_id: UUID | str, n_classes: int, rows: TokenPredictionRows
) -> int:
    """Replace the items' token predictions (delete and insert per chunk: a retried job writes the same rows)."""
    ids = np.asarray(rows.item_ids).tolist()
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        TokenPrediction.objects.filter(item_id__in=part).delete()
        objects = []
        for i in range(start, start + len(part)):
            check = rows.checks[i] if rows.checks is not None else {}
            scores = {name: finite_or_none(values[i]) for name, values in (rows.scores or {}).items()}
            objects.append(
                TokenPrediction(
                    project=project,
                    item_id=ids[i],
                    job_id=job_id,
                    probs=np.ascontiguousarray(rows.probs[i], dtype=np.float32).tobytes(),
                    n_classes=n_classes,
                    predicted_spans=rows.predicted_spans[i],
                    is_out_of_sample=rows.out_of_sample,
                    score=None if rows.score is None else finite_or_none(rows.score[i]),
                    **check,
                    **scores,
                )
            )
        TokenPrediction.objects.bulk_create(objects, batch_size=500)
    return len(ids)


def items_model_check_write(*, checks: item_state.ItemModelChecks) -> int:
    return item_state.items_model_check_set(checks=checks)
