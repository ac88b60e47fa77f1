"""The base model's latest prediction copied onto the items (``predicted_label``, ``predicted_probs``), with the
queue priority a scoring pass gives them. The active-learning app keeps the predictions themselves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.utils import timezone

from annotation.models import Item
from annotation.services.item_state.copy_text import (
    ID_RANGE,
    NULL,
    copy_escape,
    copy_floats,
    copy_ints,
    copy_probs_json,
    id_range,
    rows_table,
)


@dataclass(frozen=True)
class ItemPredictions:
    """A chunk of items' predicted probabilities: ``proba`` is (n, K) in ``label_values`` order; a row with a
    non-finite value (unreadable content) stores no prediction (label and probabilities NULL). ``priority``,
    when given, is written too."""

    item_ids: np.ndarray
    label_values: list[str]
    proba: np.ndarray
    priority: np.ndarray | None = None


def _probs_json(row: np.ndarray, label_values: list[str]) -> dict | None:
    if not np.isfinite(row).all():
        return None
    return {value: round(float(p), 6) for value, p in zip(label_values, row.tolist(), strict=True)}


def items_prediction_set(*, rows: ItemPredictions, now=None) -> None:
    """Store each item's predicted label (the top class) and probabilities, and its priority when given: one
    COPY and one UPDATE on PostgreSQL, ``bulk_update`` elsewhere."""
    now = now or timezone.now()
    proba = np.asarray(rows.proba)
    finite = np.isfinite(proba).all(axis=1)
    predicted = np.where(finite, np.nan_to_num(proba, nan=-1.0).argmax(axis=1), -1)
    if connection.vendor == "postgresql":
        _set_postgres(rows, proba, finite, predicted, now)
        return
    priority = rows.priority
    objects = []
    for position, pk in enumerate(np.asarray(rows.item_ids).tolist()):
        item = Item(
            pk=int(pk),
            predicted_label=rows.label_values[predicted[position]] if finite[position] else None,
            predicted_probs=_probs_json(proba[position], rows.label_values),
            updated_at=now,
        )
        if priority is not None:
            item.priority = float(priority[position])
        objects.append(item)
    fields = ["predicted_label", "predicted_probs", "updated_at"] + (
        ["priority"] if priority is not None else []
    )
    Item.objects.bulk_update(objects, fields, batch_size=500)


def _set_postgres(
    rows: ItemPredictions, proba: np.ndarray, finite: np.ndarray, predicted: np.ndarray, now
) -> None:
    n = len(rows.item_ids)
    labels = np.asarray([copy_escape(value) for value in rows.label_values] + [NULL], dtype=object)
    priority_set = ", priority = t.priority" if rows.priority is not None else ""
    with connection.cursor() as cursor:
        rows_table(
            cursor,
            "item_prediction_rows",
            "item_id bigint, predicted text, predicted_probs jsonb, priority double precision",
            [
                copy_ints(rows.item_ids),
                labels[predicted].tolist(),
                copy_probs_json(proba, finite, rows.label_values),
                copy_floats(rows.priority, n),
            ],
        )
        cursor.execute(
            f"UPDATE {Item._meta.db_table} AS i SET predicted_label = to_jsonb(t.predicted), "
            f"predicted_probs = t.predicted_probs, updated_at = %s{priority_set} "
            f"FROM item_prediction_rows AS t WHERE i.id = t.item_id AND {ID_RANGE}",
            [now, *id_range(rows.item_ids)],
        )


@dataclass(frozen=True)
class ItemModelChecks:
    """A model's label-issue check of labelled items: ``flagged`` says the model finds the item's label probably
    wrong (its ``reason`` code is added to ``issue_kinds``, or taken away when not flagged), ``model_labels``
    the model's own label per item (``flag_model_label``), ``flag_model`` names the model. ``issue_reasons``:
    the other reason codes that make an item a label issue (``is_label_issue`` is recomputed from them)."""

    item_ids: np.ndarray
    flagged: np.ndarray
    model_labels: list
    flag_model: str
    reason: str
    issue_reasons: frozenset[str]
    #: the severity a flagged item gets at least
    severity: float


def items_model_check_set(*, checks: ItemModelChecks, now=None) -> int:
    """Store a model's label-issue check on the items (chunked ``bulk_update``; checks cover labelled items
    only, far fewer than a pool). Returns how many items changed."""
    now = now or timezone.now()
    flagged = dict(
        zip(np.asarray(checks.item_ids).tolist(), np.asarray(checks.flagged).tolist(), strict=True)
    )
    labels = dict(zip(np.asarray(checks.item_ids).tolist(), checks.model_labels, strict=True))
    ids = list(flagged)
    changed = 0
    for start in range(0, len(ids), 1000):
        objects = []
        for item in Item.objects.filter(pk__in=ids[start : start + 1000]).only(
            "id", "issue_kinds", "issue_severity"
        ):
            kinds = [kind for kind in (item.issue_kinds or []) if kind != checks.reason]
            if flagged[item.pk]:
                kinds.append(checks.reason)
            item.issue_kinds = kinds
            item.is_label_issue = bool(flagged[item.pk]) or any(k in checks.issue_reasons for k in kinds)
            if flagged[item.pk]:
                item.issue_severity = max(float(item.issue_severity or 0.0), checks.severity)
            item.flag_model = checks.flag_model
            item.flag_model_label = labels[item.pk]
            item.updated_at = now
            objects.append(item)
        Item.objects.bulk_update(
            objects,
            [
                "issue_kinds",
                "is_label_issue",
                "issue_severity",
                "flag_model",
                "flag_model_label",
                "updated_at",
            ],
            batch_size=500,
        )
        changed += len(objects)
    return changed
