"""The one boundary between the ORM and the active-learning arrays.

Reads stream rows in id-ordered keyset chunks (one or two queries per ``CHUNK`` rows, never one per item) and
turn them into numpy arrays; this app's own rows go back in chunked bulk statements (on PostgreSQL a COPY into a
temporary table, then one ``INSERT … ON CONFLICT`` / ``UPDATE … FROM`` per chunk; elsewhere ``bulk_create`` /
``bulk_update``). What the items carry (predicted label, priority, target, status) is handed as arrays to
``annotation.services.item_state``, which owns them. No math here: that lives in the pure modules.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Case, CharField, Exists, Max, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from activelearning.models import FeatureCache, FeatureSpace, Prediction
from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.models.item import OPEN_STATUSES
from annotation.services import item_state
from annotation.services.item_state.copy_text import (
    NULL,
    copy_escape,
    copy_floats,
    copy_ints,
    id_range,
    rows_table,
)

if TYPE_CHECKING:
    # Type hints only: activelearning.features pulls in librosa and scikit-learn, which the web and worker
    # processes must not load at startup (this module is imported by the services the apps import).
    from activelearning.features import FeatureMatrix

CHUNK = 2000
TRAINABLE_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW, ItemStatus.ACCEPTED)
# Labelled items whose votes adaptive overlap may still ask more annotations for (no reviewer decision yet).
OVERLAP_STATUSES = item_state.OVERLAP_STATUSES


def class_index(value: object, index: dict[str, int]) -> int:
    """A stored single-label value (a string, or a one-element list) as a class index; -1 when unusable.

    ``index`` is ``annotation.selectors.label_schema_for(...).index``: a vote for a label merged or renamed away
    counts for the label that replaced it, as in the quality engine and the dashboard."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return index.get(value, -1) if isinstance(value, str) else -1


def _to_bytes(row: np.ndarray) -> bytes:
    return np.ascontiguousarray(row, dtype=np.float32).tobytes()


def _from_bytes(raw: object, dim: int) -> np.ndarray:
    if raw is None:
        return np.full(dim, np.nan, dtype=np.float32)
    values = np.frombuffer(bytes(raw), dtype=np.float32)
    return values if len(values) == dim else np.full(dim, np.nan, dtype=np.float32)


# ---- feature spaces and the feature cache ---------------------------------------------------------------------


def feature_space_current(*, project: Project) -> FeatureSpace | None:
    return FeatureSpace.objects.filter(project=project).order_by("-id").first()


def feature_space_store(*, project: Project, key: str, extractor: object, identity: str, params: dict,
                        stateful: bool, n_fit_items: int) -> FeatureSpace:
    """Insert a feature space (the caller made ``key`` unique); a fitted extractor is pickled with it."""
    state = pickle.dumps(extractor, protocol=pickle.HIGHEST_PROTOCOL) if stateful else None
    return FeatureSpace.objects.create(
        project=project, key=key, extractor=identity, params=params, state=state, dim=int(extractor.dim),
        n_fit_items=n_fit_items,
    )


def feature_space_extractor(*, space: FeatureSpace) -> object | None:
    """The fitted extractor stored with a space, or None for a stateless extractor (the caller rebuilds it).

    The pickle was written by this app's own worker into its own database; nothing else writes that column.
    """
    return None if space.state is None else pickle.loads(bytes(space.state))  # noqa: S301 - see docstring


def item_count(*, project: Project) -> int:
    return Item.objects.filter(project=project).count()


def item_inputs(*, project: Project) -> Iterator[object]:
    """Every item's extractor input (text, or file bytes for media), streamed in id order."""
    for chunk in _item_chunks(Item.objects.filter(project=project), ("id", "text", "file")):
        yield from _inputs(chunk)


def _inputs(rows: list[tuple]) -> list[object]:
    values: list[object] = []
    for _pk, text, file_name in rows:
        if file_name:
            try:
                with default_storage.open(file_name, "rb") as handle:
                    values.append(handle.read())
            except OSError as exc:
                values.append(exc)  # not str/bytes: the extractor reports the row as unreadable
        else:
            values.append(text)
    return values


def _item_chunks(queryset, fields: tuple[str, ...], chunk: int = CHUNK) -> Iterator[list[tuple]]:
    """Keyset pagination over ``queryset`` by item id; ``fields`` must start with "id"."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*fields)[:chunk])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def items_missing_features(*, project: Project, key: str, chunk: int = 500) -> Iterator[tuple[list[int], list[object]]]:
    """(item ids, extractor inputs) for items without a cached vector in ``key``, in chunks."""
    cached = FeatureCache.objects.filter(item=OuterRef("pk"), extractor=key)
    queryset = Item.objects.filter(project=project).exclude(Exists(cached))
    for rows in _item_chunks(queryset, ("id", "text", "file"), chunk):
        yield [row[0] for row in rows], _inputs(rows)


def features_store(*, key: str, item_ids: list[int], matrix: FeatureMatrix) -> int:
    """Insert the cache rows for one chunk; rows already cached (a retried job) are left as they are."""
    rows = [
        FeatureCache(
            item_id=pk, extractor=key, vector=None if error else _to_bytes(matrix.values[position]),
            error=(error or "")[:300],
        )
        for position, (pk, error) in enumerate(zip(item_ids, matrix.errors, strict=True))
    ]
    FeatureCache.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    return len(rows)


def features_for_items(*, key: str, item_ids: np.ndarray, dim: int) -> np.ndarray:
    """(n, dim) features of the given items in the given order (NaN rows when missing); chunked id lists."""
    position = {int(pk): row for row, pk in enumerate(item_ids.tolist())}
    values = np.full((len(item_ids), dim), np.nan, dtype=np.float32)
    ids = item_ids.tolist()
    for start in range(0, len(ids), CHUNK):
        for pk, raw in FeatureCache.objects.filter(extractor=key, item_id__in=ids[start : start + CHUNK]).values_list(
            "item_id", "vector"
        ):
            values[position[pk]] = _from_bytes(raw, dim)
    return values


def features_forget(*, project: Project, keep_key: str) -> int:
    """Delete cached features of the project's older feature spaces (they will not be used again)."""
    old = FeatureCache.objects.filter(item__project=project).exclude(extractor=keep_key)
    deleted, _ = old.delete()
    return deleted


# ---- training set, pool, votes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSet:
    """Labelled items with usable features and a single known label, in id order."""

    item_ids: np.ndarray
    X: np.ndarray
    y: np.ndarray
    n_labelled: int  # items in a trainable status, with or without usable features/labels


def training_set_load(*, project: Project, key: str, dim: int, index: dict[str, int]) -> TrainingSet:
    """Training labels: ``final_label`` else ``consensus_label`` of items labelled / needing review / accepted."""
    queryset = FeatureCache.objects.filter(
        extractor=key, item__project=project, item__status__in=TRAINABLE_STATUSES, item__is_gold=False
    )
    ids: list[int] = []
    rows: list[np.ndarray] = []
    labels: list[int] = []
    n_labelled = Item.objects.filter(project=project, status__in=TRAINABLE_STATUSES, is_gold=False).count()
    last = 0
    while True:
        chunk = list(
            queryset.filter(item_id__gt=last)
            .order_by("item_id")
            .values_list("item_id", "vector", "item__final_label", "item__consensus_label")[:CHUNK]
        )
        if not chunk:
            break
        last = chunk[-1][0]
        for pk, raw, final, consensus in chunk:
            label = class_index(final if final not in (None, "", []) else consensus, index)
            if raw is None or label < 0:
                continue
            ids.append(pk)
            rows.append(_from_bytes(raw, dim))
            labels.append(label)
    X = np.vstack(rows) if rows else np.empty((0, dim), dtype=np.float32)
    finite = np.isfinite(X).all(axis=1)
    return TrainingSet(
        item_ids=np.asarray(ids, dtype=np.int64)[finite], X=X[finite], y=np.asarray(labels, dtype=np.int64)[finite],
        n_labelled=n_labelled,
    )


@dataclass(frozen=True)
class PoolChunk:
    """Open, non-gold items with a cache row in the feature space, in id order. ``X`` rows are NaN where the
    item's content could not be read. ``previous`` is the label the item's last prediction by an earlier job
    gave ("" when none) — for a re-run of the same job, the label before that one."""

    item_ids: np.ndarray
    X: np.ndarray
    status: np.ndarray
    annotation_count: np.ndarray
    target: np.ndarray
    previous: list[str]
    priority: np.ndarray  # the items' present queue priorities (bands that re-scoring keeps)


def _windows(key: str, chunk: int) -> Iterator[tuple[int, int]]:
    """Consecutive item-id ranges (after, up to] holding ``chunk`` cache rows of ``key`` each (the last fewer),
    each found by a short scan of the (extractor, item) index."""
    last = 0
    while True:
        bound = (
            FeatureCache.objects.filter(extractor=key, item_id__gt=last).order_by("item_id")[:chunk]
            .aggregate(bound=Max("item_id"))["bound"]
        )
        if bound is None:
            return
        yield last, bound
        last = bound


def _pool_window(project: Project, key: str, after: int, upto: int, **cache_filters):
    """Pool items (with a cache row in ``key``) with ids in (after, upto], by id. The range is stated on both
    tables: PostgreSQL does not carry it across the join, and with a bound on one side only (or a lower bound
    only) the planner scanned one table from the project's first row on every chunk — quadratic in the pool."""
    return Item.objects.filter(
        project=project, status__in=OPEN_STATUSES, is_gold=False, pk__gt=after, pk__lte=upto,
        al_features__extractor=key, al_features__item_id__gt=after, al_features__item_id__lte=upto, **cache_filters,
    ).order_by("pk")


def _matrix(vectors: tuple, dim: int) -> np.ndarray:
    """(n, dim) float32 from cached vector bytes; NaN rows for missing or mis-sized vectors."""
    width = 4 * dim
    missing = np.full(dim, np.nan, dtype=np.float32).tobytes()
    raw = b"".join(missing if v is None or len(v) != width else bytes(v) for v in vectors)
    return np.frombuffer(raw, dtype=np.float32).reshape(len(vectors), dim).copy()


def pool_chunks(*, project: Project, key: str, dim: int, job_id: object, chunk: int = CHUNK) -> Iterator[PoolChunk]:
    """The pool in id windows of ``chunk`` cached items: two short queries per window, whatever the pool size;
    memory is one chunk."""
    # The label the previous model gave, worked out by the database: one short string per row instead of
    # three fields and a UUID to convert and compare in Python.
    previous = Case(
        When(al_prediction__job_id=job_id, then=Coalesce("al_prediction__previous_predicted", Value(""))),
        default=Coalesce("al_prediction__predicted", Value("")),
        output_field=CharField(),
    )
    fields = ("id", "al_features__vector", "status", "annotation_count", "target_annotations", "previous", "priority")
    for after, upto in _windows(key, chunk):
        rows = list(_pool_window(project, key, after, upto).annotate(previous=previous).values_list(*fields))
        if not rows:
            continue
        ids, vectors, status, count, target, before, current = zip(*rows, strict=True)
        yield PoolChunk(
            item_ids=np.asarray(ids, dtype=np.int64),
            X=_matrix(vectors, dim),
            status=np.asarray(status, dtype=object),
            annotation_count=np.asarray(count, dtype=np.int64),
            target=np.asarray(target, dtype=np.int64),
            previous=list(before),
            priority=np.asarray(current, dtype=np.float64),
        )


def pool_ids(*, project: Project, key: str) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(item ids, annotation counts, targets, present priorities) of the pool in keyset chunks — no features
    (cold start)."""
    for after, upto in _windows(key, CHUNK):
        rows = list(
            _pool_window(project, key, after, upto, al_features__vector__isnull=False)
            .values_list("id", "annotation_count", "target_annotations", "priority")
        )
        if not rows:
            continue
        array = np.asarray([row[:3] for row in rows], dtype=np.int64)
        yield array[:, 0], array[:, 1], array[:, 2], np.asarray([row[3] for row in rows], dtype=np.float64)


def held_out_chunks(*, project: Project, key: str, dim: int, training_ids: np.ndarray,
                    chunk: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(item ids, X) in keyset chunks for items outside both the training set and the pool whose probabilities
    the quality engine still needs: gold items (any status but discarded; annotators label them, the model
    never trains on them) and labelled items left out of training (no usable single label). ``training_ids``
    must be sorted. X rows are NaN where the item's content could not be read."""
    queryset = (
        FeatureCache.objects.filter(extractor=key, item__project=project)
        .filter(Q(item__is_gold=True) | Q(item__status__in=TRAINABLE_STATUSES))
        .exclude(item__status=ItemStatus.DISCARDED)
    )
    last = 0
    while True:
        rows = list(queryset.filter(item_id__gt=last).order_by("item_id").values_list("item_id", "vector")[:chunk])
        if not rows:
            return
        last = rows[-1][0]
        ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        keep = ~np.isin(ids, training_ids, assume_unique=True)
        if keep.any():
            yield ids[keep], np.vstack([_from_bytes(row[1], dim) for row, kept in zip(rows, keep, strict=True) if kept])


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
    rows = (
        Annotation.objects.filter(project=project, is_live=True, item__status__in=statuses, item__is_gold=False)
        .order_by("item_id", "id")
        .values_list("item_id", "annotator_id", "labels", "unsure", "item__status", "item__final_label",
                     "item__annotation_count")
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
        labels.append(-1 if unsure else class_index(values or [], index))
    return Votes(
        item_ids=np.asarray(items, dtype=np.int64), status=np.asarray(status, dtype=object),
        final_set=np.asarray(final, dtype=bool), annotation_count=np.asarray(counts, dtype=np.int64),
        item_index=np.asarray(item_index, dtype=np.int64), annotator_index=np.asarray(annotator_index, dtype=np.int64),
        labels=np.asarray(labels, dtype=np.int64), n_annotators=len(annotators),
    )


def item_votes(*, item_id: int, index: dict[str, int], n_classes: int) -> np.ndarray:
    """(K,) counts of one item's live, sure votes (``index`` may map several values to one class)."""
    counts = np.zeros(n_classes, dtype=np.int64)
    for values, unsure in Annotation.objects.filter(item_id=item_id, is_live=True).values_list("labels", "unsure"):
        label = -1 if unsure else class_index(values or [], index)
        if label >= 0:
            counts[label] += 1
    return counts


# ---- writes ----------------------------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


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


def predictions_write(*, project: Project, job_id: object, label_values: list[str], rows: PredictionRows) -> int:
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
            fields = {name: _finite(values[position]) for name, values in rows.scores.items()}
        objects.append(
            Prediction(
                project=project, item_id=int(rows.item_ids[position]), job_id=job_id,
                probs=_to_bytes(rows.proba[position]), predicted=label_values[predicted_index[position]],
                previous_predicted=rows.previous[position], is_out_of_sample=rows.out_of_sample,
                score=None if rows.score is None else _finite(rows.score[position]), updated_at=now, **fields,
            )
        )
    update_fields = ["job", "probs", "predicted", "previous_predicted", "is_out_of_sample", "score", "updated_at",
                     *SCORE_COLUMNS]
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
        rows=item_state.ItemPredictions(item_ids=rows.item_ids, label_values=label_values, proba=rows.proba,
                                        priority=rows.priority),
        now=now,
    )


SCORE_COLUMNS = ("least_confidence", "margin", "entropy", "bald", "random")


def _predictions_write_postgres(project: Project, job_id: object, label_values: list[str], rows: PredictionRows,
                                finite: np.ndarray, predicted_index: np.ndarray, now) -> int:
    # One COPY and one set-based statement per chunk: building and binding bulk_create's multi-row INSERT in
    # the ORM cost about a millisecond per prediction, so a 1,000,000-item pool spent most of its time there.
    n = len(rows.item_ids)
    hex_rows = np.ascontiguousarray(rows.proba, dtype=np.float32).tobytes().hex()
    width = 8 * len(label_values)  # hex digits per row: K float32 values
    escaped = {value: copy_escape(value) for value in set(rows.previous)}
    scores = rows.scores or {}
    data = [
        copy_ints(rows.item_ids),
        ["\\\\x" + hex_rows[position * width : (position + 1) * width] if ok else NULL
         for position, ok in enumerate(finite.tolist())],
        np.asarray([copy_escape(value) for value in label_values] + [NULL], dtype=object)[predicted_index].tolist(),
        [escaped[value] for value in rows.previous],
        copy_floats(rows.score, n),
        *(copy_floats(scores.get(name), n) for name in SCORE_COLUMNS),
    ]
    set_scores = ", ".join(f"{name} = EXCLUDED.{name}" for name in SCORE_COLUMNS)
    prediction = Prediction._meta.db_table
    with connection.cursor() as cursor:
        rows_table(
            cursor, "al_prediction_rows",
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


# The items' side of scoring and adaptive overlap: annotation's item state machine applies these (set-based per
# chunk); the names stay here so the training job reads as one boundary (and bench/al_scoring_job.py times them).


def priorities_write(*, item_ids: np.ndarray, priority: np.ndarray) -> None:
    """Set ``Item.priority`` per item (cold start and the diverse batch)."""
    item_state.items_priority_set(item_ids=item_ids, priority=priority)


def targets_set_for_new(*, item_ids: np.ndarray, target: int) -> int:
    """Set the annotation target of items still ``new`` (never leased, so no annotator can be cut short)."""
    return item_state.items_target_set_for_new(item_ids=item_ids, target=target)


def items_reopen(*, item_ids: np.ndarray, seen_count: np.ndarray, target: np.ndarray, priority: np.ndarray) -> int:
    """Raise targets and send labelled items back to the queue (``item_state.items_reopen``: a concurrent vote
    or review is never overridden)."""
    return item_state.items_reopen(item_ids=item_ids, seen_count=seen_count, target=target, priority=priority)


def items_route_to_review(*, item_ids: np.ndarray, seen_count: np.ndarray) -> int:
    """Move ``labelled`` items whose votes stay disputed with no annotator left to ask to ``needs_review``."""
    return item_state.items_route_to_review(item_ids=item_ids, seen_count=seen_count)


def relabel_scores_write(*, item_ids: np.ndarray, scores: np.ndarray) -> None:
    """Store ActiveLab scores on the items' existing predictions (one lookup and one update per chunk)."""
    ids = item_ids.tolist()
    if connection.vendor == "postgresql":
        column = copy_floats(scores, len(ids))
        with connection.cursor() as cursor:
            for start in range(0, len(ids), CHUNK):
                rows_table(cursor, "al_relabel_rows", "item_id bigint, relabel_score double precision",
                           [copy_ints(ids[start : start + CHUNK]), column[start : start + CHUNK]])
                cursor.execute(f"UPDATE {Prediction._meta.db_table} AS p SET relabel_score = t.relabel_score "
                               "FROM al_relabel_rows AS t WHERE p.item_id = t.item_id AND p.item_id BETWEEN %s AND %s",
                               id_range(ids[start : start + CHUNK]))
        return
    values = dict(zip(ids, scores.tolist(), strict=True))
    for start in range(0, len(ids), CHUNK):
        found = Prediction.objects.filter(item_id__in=ids[start : start + CHUNK]).values_list("id", "item_id")
        objects = [Prediction(pk=pk, relabel_score=_finite(values[item_id])) for pk, item_id in found]
        Prediction.objects.bulk_update(objects, ["relabel_score"], batch_size=500)
