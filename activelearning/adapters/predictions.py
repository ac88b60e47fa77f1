"""Predictions, this app's own rows: upserted per chunk (on PostgreSQL a COPY into a temporary table, then one
``INSERT … ON CONFLICT`` / ``UPDATE … FROM``; elsewhere ``bulk_create`` / ``bulk_update``). The items' predicted
label and probabilities go to ``annotation.services.item_state``, which owns them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import numpy as np
from django.db import connection
from django.utils import timezone

from activelearning.adapters.scan import CHUNK
from activelearning.adapters.vectors import finite_or_none, to_bytes
from activelearning.models import Prediction
from annotation.models import Project
from annotation.services import item_state
from annotation.services.item_state.copy_text import (
    NULL,
    copy_escape,
    copy_floats,
    copy_ints,
    id_range,
    rows_table,
)


@dataclass(frozen=True)
class PredictionRows:
    """Predictions for a chunk of items. ``scores`` maps a strategy name to (n,) scores (pool items only)."""

    item_ids: np.ndarray
    proba: np.ndarray
    previous: list[str]
    out_of_sample: bool
    score: np.ndarray | None = None
    scores: dict[str, np.ndarray] | None = None
    priority: np.ndarray | None = None


def predictions_write(
    *, project: Project, job_id: UUID | str, label_values: list[str], rows: PredictionRows
) -> int:
    """Upsert one Prediction per item; the items get their predicted label, probabilities (and priority) from
    ``item_state.items_prediction_set``.

    Rows with non-finite probabilities (unreadable content) get no prediction; their priority is still written.
    """
    now = timezone.now()
    finite = np.isfinite(rows.proba).all(axis=1)
    predicted_index = np.where(finite, np.nan_to_num(rows.proba, nan=-1.0).argmax(axis=1), -1)
    if connection.vendor == "postgresql":
        return _predictions_write_postgres(project, job_id, label_values, rows, finite, predicted_index, now)
    objects = []
    for position in np.flatnonzero(finite).tolist():
        fields: dict = {}
        if rows.scores is not None:
            fields = {name: finite_or_none(values[position]) for name, values in rows.scores.items()}
        objects.append(
            Prediction(
                project=project,
                item_id=int(rows.item_ids[position]),
                job_id=job_id,
                probs=to_bytes(rows.proba[position]),
                predicted=label_values[predicted_index[position]],
                previous_predicted=rows.previous[position],
                is_out_of_sample=rows.out_of_sample,
                score=None if rows.score is None else finite_or_none(rows.score[position]),
                updated_at=now,
                **fields,
            )
        )
    update_fields = [
        "job",
        "probs",
        "predicted",
        "previous_predicted",
        "is_out_of_sample",
        "score",
        "updated_at",
        *SCORE_COLUMNS,
    ]
    if rows.scores is None:  # labelled rows carry no strategy scores: clear what a pool prediction left
        for obj in objects:
            obj.least_confidence = obj.margin = obj.entropy = obj.bald = obj.random = None
    Prediction.objects.bulk_create(
        objects, batch_size=CHUNK, update_conflicts=True, unique_fields=["item"], update_fields=update_fields
    )
    _items_prediction_set(label_values, rows, now)
    return len(objects)


def _items_prediction_set(label_values: list[str], rows: PredictionRows, now) -> None:
    item_state.items_prediction_set(
        rows=item_state.ItemPredictions(
            item_ids=rows.item_ids, label_values=label_values, proba=rows.proba, priority=rows.priority
        ),
        now=now,
    )


SCORE_COLUMNS = ("least_confidence", "margin", "entropy", "bald", "random")


def _predictions_write_postgres(
    project: Project,
    job_id: UUID | str,
    label_values: list[str],
    rows: PredictionRows,
    finite: np.ndarray,
    predicted_index: np.ndarray,
    now,
) -> int:
    # One COPY and one set-based statement per chunk: building and binding bulk_create's multi-row INSERT in
    # the ORM cost about a millisecond per prediction, so a 1,000,000-item pool spent most of its time there.
    n = len(rows.item_ids)
    hex_rows = np.ascontiguousarray(rows.proba, dtype=np.float32).tobytes().hex()
    width = 8 * len(label_values)  # hex digits per row: K float32 values
    escaped = {value: copy_escape(value) for value in set(rows.previous)}
    scores = rows.scores or {}
    data = [
        copy_ints(rows.item_ids),
        [
            "\\\\x" + hex_rows[position * width : (position + 1) * width] if ok else NULL
            for position, ok in enumerate(finite.tolist())
        ],
        np.asarray([copy_escape(value) for value in label_values] + [NULL], dtype=object)[
            predicted_index
        ].tolist(),
        [escaped[value] for value in rows.previous],
        copy_floats(rows.score, n),
        *(copy_floats(scores.get(name), n) for name in SCORE_COLUMNS),
    ]
    set_scores = ", ".join(f"{name} = EXCLUDED.{name}" for name in SCORE_COLUMNS)
    prediction = Prediction._meta.db_table
    with connection.cursor() as cursor:
        rows_table(
            cursor,
            "al_prediction_rows",
            "item_id bigint, probs bytea, predicted text, previous_predicted text, score double precision, "
            + ", ".join(f"{name} double precision" for name in SCORE_COLUMNS),
            data,
        )
        cursor.execute(
            f"INSERT INTO {prediction} (project_id, item_id, job_id, probs, predicted, previous_predicted, "
            f"is_out_of_sample, score, {', '.join(SCORE_COLUMNS)}, updated_at) "
            f"SELECT %s, item_id, %s, probs, predicted, previous_predicted, %s, score, {', '.join(SCORE_COLUMNS)}, "
            "%s FROM al_prediction_rows WHERE probs IS NOT NULL ORDER BY item_id "
            "ON CONFLICT (item_id) DO UPDATE SET job_id = EXCLUDED.job_id, probs = EXCLUDED.probs, "
            "predicted = EXCLUDED.predicted, previous_predicted = EXCLUDED.previous_predicted, "
            f"is_out_of_sample = EXCLUDED.is_out_of_sample, score = EXCLUDED.score, {set_scores}, "
            "updated_at = EXCLUDED.updated_at",
            [project.pk, job_id, rows.out_of_sample, now],
        )
        stored = cursor.rowcount
    _items_prediction_set(label_values, rows, now)
    return stored


def previous_predictions(*, item_ids: np.ndarray, job_id: object) -> dict[int, str]:
    """{item id: the label an earlier job predicted} (for a re-run of the same job: the label before that)."""
    found: dict[int, str] = {}
    ids = item_ids.tolist()
    for start in range(0, len(ids), CHUNK):
        rows = Prediction.objects.filter(item_id__in=ids[start : start + CHUNK]).values_list(
            "item_id", "job_id", "predicted", "previous_predicted"
        )
        for pk, pred_job, predicted, before in rows:
            found[pk] = before if str(pred_job) == str(job_id) else predicted
    return found


def relabel_scores_write(*, item_ids: np.ndarray, scores: np.ndarray) -> None:
    """Store ActiveLab scores on the items' existing predictions (one lookup and one update per chunk)."""
    ids = item_ids.tolist()
    if connection.vendor == "postgresql":
        column = copy_floats(scores, len(ids))
        with connection.cursor() as cursor:
            for start in range(0, len(ids), CHUNK):
                rows_table(
                    cursor,
                    "al_relabel_rows",
                    "item_id bigint, relabel_score double precision",
                    [copy_ints(ids[start : start + CHUNK]), column[start : start + CHUNK]],
                )
                cursor.execute(
                    f"UPDATE {Prediction._meta.db_table} AS p SET relabel_score = t.relabel_score "
                    "FROM al_relabel_rows AS t WHERE p.item_id = t.item_id AND p.item_id BETWEEN %s AND %s",
                    id_range(ids[start : start + CHUNK]),
                )
        return
    values = dict(zip(ids, scores.tolist(), strict=True))
    for start in range(0, len(ids), CHUNK):
        found = Prediction.objects.filter(item_id__in=ids[start : start + CHUNK]).values_list("id", "item_id")
        objects = [Prediction(pk=pk, relabel_score=finite_or_none(values[item_id])) for pk, item_id in found]
        Prediction.objects.bulk_update(objects, ["relabel_score"], batch_size=500)
