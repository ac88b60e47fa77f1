"""The one boundary between the ORM and the active-learning arrays.

Reads stream rows in id-ordered keyset chunks (one or two queries per ``CHUNK`` rows, never one per item) and
turn them into numpy arrays; writes go back in chunked bulk statements (on PostgreSQL a COPY into a temporary
table, then one ``INSERT … ON CONFLICT`` / ``UPDATE … FROM`` per chunk; elsewhere ``bulk_create`` /
``bulk_update``). No math here: that lives in the pure modules.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, Max, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from activelearning.models import FeatureCache, FeatureSpace, Prediction
from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.models.item import OPEN_STATUSES

if TYPE_CHECKING:
    # Type hints only: activelearning.features pulls in librosa and scikit-learn, which the web and worker
    # processes must not load at startup (this module is imported by the services the apps import).
    from activelearning.features import FeatureMatrix

CHUNK = 2000
TRAINABLE_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW, ItemStatus.ACCEPTED)
# Labelled items whose votes adaptive overlap may still ask more annotations for (no reviewer decision yet).
OVERLAP_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW)


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


def _probs_json(row: np.ndarray, label_values: list[str]) -> dict | None:
    if not np.isfinite(row).all():
        return None
    return {value: round(float(p), 6) for value, p in zip(label_values, row.tolist(), strict=True)}


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
    """Upsert one Prediction per item and copy predicted label, probabilities (and priority) onto the items.

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
    item_rows = [
        (
            int(pk),
            label_values[predicted_index[position]] if finite[position] else None,
            _probs_json(rows.proba[position], label_values),
            None if rows.priority is None else float(rows.priority[position]),
        )
        for position, pk in enumerate(rows.item_ids.tolist())
    ]
    _items_update(item_rows, with_priority=rows.priority is not None, now=now)
    return len(objects)


def _items_update(rows: list[tuple], *, with_priority: bool, now) -> None:
    """Write (id, predicted_label, predicted_probs, priority) per item (databases other than PostgreSQL)."""
    objects = []
    for pk, label, probs, priority in rows:
        item = Item(pk=pk, predicted_label=label, predicted_probs=probs, updated_at=now)
        if with_priority:
            item.priority = priority
        objects.append(item)
    fields = ["predicted_label", "predicted_probs", "updated_at"] + (["priority"] if with_priority else [])
    Item.objects.bulk_update(objects, fields, batch_size=500)


SCORE_COLUMNS = ("least_confidence", "margin", "entropy", "bald", "random")


def _rows_table(cursor, name: str, columns: str, data: list[list[str]]) -> None:
    """Fill the session's temporary table ``name`` (created on first use, emptied first) with one COPY of
    ``data`` (columns of COPY text, see ``_copy_*``), then ANALYZE its first column: without statistics the
    planner guesses the row count and may join the table to a big one by scanning all of it, once per chunk."""
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})")
    cursor.execute(f"TRUNCATE {name}")
    with cursor.cursor.copy(f"COPY {name} FROM STDIN") as copy:
        copy.write("".join(row + "\n" for row in map("\t".join, zip(*data, strict=True))))
    cursor.execute(f"ANALYZE {name} ({columns.split()[0]})")  # the row count and the ids are all a plan needs


# Every join of a chunk's rows to a big table also bounds the big table's id by the chunk's: otherwise the planner
# may merge-join the table from its first row, once per chunk.
_ID_RANGE = "i.id BETWEEN %s AND %s"


def _id_range(ids: Iterable[int]) -> list[int]:
    ids = np.asarray(ids, dtype=np.int64)
    return [int(ids.min()), int(ids.max())] if len(ids) else [0, -1]


# COPY text format, built a column at a time: psycopg's write_row and json.dumps per row cost ~20 µs a
# prediction, a third of the job's time on a 1,000,000-item pool.
_NULL = "\\N"


def _copy_escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_ints(values: Iterable[int]) -> list[str]:
    return list(map(str, np.asarray(values, dtype=np.int64).tolist()))


def _copy_floats(values: np.ndarray | None, n: int) -> list[str]:
    """Floats (repr round-trips exactly); NULL for NaN/inf, and for every row when there are no values."""
    if values is None:
        return [_NULL] * n
    values = np.asarray(values, dtype=np.float64)
    text = list(map(repr, values.tolist()))
    for position in np.flatnonzero(~np.isfinite(values)).tolist():
        text[position] = _NULL
    return text


def _copy_probs_json(proba: np.ndarray, finite: np.ndarray, label_values: list[str]) -> list[str]:
    """``{"label": p, ...}`` per row with p rounded to 6 decimals, NULL for non-finite rows: one %-template
    per chunk instead of a dict and a json.dumps per row."""
    keys = (json.dumps(value).replace("%", "%%") for value in label_values)
    template = _copy_escape("{" + ", ".join(f"{key}: %r" for key in keys) + "}")
    rounded = np.round(np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=0.0), 6).tolist()
    return [template % tuple(row) if ok else _NULL for row, ok in zip(rounded, finite.tolist(), strict=True)]


def _predictions_write_postgres(project: Project, job_id: object, label_values: list[str], rows: PredictionRows,
                                finite: np.ndarray, predicted_index: np.ndarray, now) -> int:
    # One COPY and two set-based statements per chunk: building and binding bulk_create's multi-row INSERT in
    # the ORM cost about a millisecond per prediction, so a 1,000,000-item pool spent most of its time there.
    n = len(rows.item_ids)
    hex_rows = np.ascontiguousarray(rows.proba, dtype=np.float32).tobytes().hex()
    width = 8 * len(label_values)  # hex digits per row: K float32 values
    escaped = {value: _copy_escape(value) for value in set(rows.previous)}
    scores = rows.scores or {}
    data = [
        _copy_ints(rows.item_ids),
        ["\\\\x" + hex_rows[position * width : (position + 1) * width] if ok else _NULL
         for position, ok in enumerate(finite.tolist())],
        np.asarray([_copy_escape(value) for value in label_values] + [_NULL], dtype=object)[predicted_index].tolist(),
        [escaped[value] for value in rows.previous],
        _copy_floats(rows.score, n),
        *(_copy_floats(scores.get(name), n) for name in SCORE_COLUMNS),
        _copy_probs_json(rows.proba, finite, label_values),
        _copy_floats(rows.priority, n),
    ]
    set_scores = ", ".join(f"{name} = EXCLUDED.{name}" for name in SCORE_COLUMNS)
    prediction = Prediction._meta.db_table
    priority_set = ", priority = t.priority" if rows.priority is not None else ""
    with connection.cursor() as cursor:
        _rows_table(
            cursor, "al_prediction_rows",
            "item_id bigint, probs bytea, predicted text, previous_predicted text, score double precision, "
            + ", ".join(f"{name} double precision" for name in SCORE_COLUMNS)
            + ", predicted_probs jsonb, priority double precision",
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
        cursor.execute(
            f"UPDATE {Item._meta.db_table} AS i SET predicted_label = to_jsonb(t.predicted), "
            f"predicted_probs = t.predicted_probs, updated_at = %s{priority_set} "
            f"FROM al_prediction_rows AS t WHERE i.id = t.item_id AND {_ID_RANGE}",
            [now, *_id_range(rows.item_ids)],
        )
    return stored


def priorities_write(*, item_ids: np.ndarray, priority: np.ndarray) -> None:
    """Set ``Item.priority`` per item (chunked; cold start and the diverse batch)."""
    now = timezone.now()
    ids = item_ids.tolist()
    values = priority.tolist()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for start in range(0, len(ids), CHUNK):
                _rows_table(cursor, "al_priority_rows", "id bigint, priority double precision",
                            [_copy_ints(ids[start : start + CHUNK]),
                             _copy_floats(np.asarray(values[start : start + CHUNK]), len(ids[start : start + CHUNK]))])
                cursor.execute(f"UPDATE {Item._meta.db_table} AS i SET priority = t.priority, updated_at = %s "
                               f"FROM al_priority_rows AS t WHERE i.id = t.id AND {_ID_RANGE}",
                               [now, *_id_range(ids[start : start + CHUNK])])
        return
    for start in range(0, len(ids), CHUNK):
        objects = [
            Item(pk=pk, priority=float(value), updated_at=now)
            for pk, value in zip(ids[start : start + CHUNK], values[start : start + CHUNK], strict=True)
        ]
        Item.objects.bulk_update(objects, ["priority", "updated_at"], batch_size=500)


def targets_set_for_new(*, item_ids: np.ndarray, target: int) -> int:
    """Set the annotation target of items still ``new`` (never leased, so no annotator can be cut short)."""
    updated = 0
    ids = item_ids.tolist()
    for start in range(0, len(ids), CHUNK):
        updated += (
            Item.objects.filter(pk__in=ids[start : start + CHUNK], status=ItemStatus.NEW)
            .exclude(target_annotations=target)
            .update(target_annotations=target, updated_at=timezone.now())
        )
    return updated


def items_reopen(*, item_ids: np.ndarray, seen_count: np.ndarray, target: np.ndarray, priority: np.ndarray) -> int:
    """Raise targets and send labelled items back to the queue (``in_progress``).

    Only items still labelled / needing review, without a reviewer's final label and with the annotation count
    the decision was made on are touched, so a concurrent vote or review is never overridden.
    Grouped by (count, target): a handful of UPDATEs, whatever the number of items.
    """
    now = timezone.now()
    reopened = 0
    groups: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for pk, count, new_target, value in zip(item_ids.tolist(), seen_count.tolist(), target.tolist(),
                                            priority.tolist(), strict=True):
        groups.setdefault((count, new_target), []).append((pk, value))
    for (count, new_target), members in groups.items():
        for start in range(0, len(members), CHUNK):
            part = members[start : start + CHUNK]
            ids = [pk for pk, _ in part]
            with transaction.atomic():
                # Locked, so a reviewer's decision or a new vote landing meanwhile is seen, never overwritten.
                touched = list(
                    Item.objects.select_for_update()
                    .filter(pk__in=ids, status__in=OVERLAP_STATUSES, annotation_count=count, is_gold=False)
                    .filter(Q(final_label__isnull=True))
                    .values_list("pk", flat=True)
                )
                if not touched:
                    continue
                reopened += Item.objects.filter(pk__in=touched).update(
                    target_annotations=new_target, status=ItemStatus.IN_PROGRESS, updated_at=now
                )
                values = dict(part)
                Item.objects.bulk_update(
                    [Item(pk=pk, priority=values[pk]) for pk in touched], ["priority"], batch_size=500
                )
    return reopened


def items_route_to_review(*, item_ids: np.ndarray, seen_count: np.ndarray) -> int:
    """Move ``labelled`` items whose votes stay disputed with no annotator left to ask to ``needs_review``.

    Like ``items_reopen``, only items still labelled, without a reviewer's final label and with the annotation
    count the decision was made on are touched. Grouped by count: a handful of UPDATEs.
    """
    now = timezone.now()
    moved = 0
    groups: dict[int, list[int]] = {}
    for pk, count in zip(item_ids.tolist(), seen_count.tolist(), strict=True):
        groups.setdefault(count, []).append(pk)
    for count, ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            moved += Item.objects.filter(
                pk__in=ids[start : start + CHUNK], status=ItemStatus.LABELLED, annotation_count=count,
                is_gold=False, final_label__isnull=True,
            ).update(status=ItemStatus.NEEDS_REVIEW, updated_at=now)
    return moved


def relabel_scores_write(*, item_ids: np.ndarray, scores: np.ndarray) -> None:
    """Store ActiveLab scores on the items' existing predictions (one lookup and one update per chunk)."""
    ids = item_ids.tolist()
    if connection.vendor == "postgresql":
        column = _copy_floats(scores, len(ids))
        with connection.cursor() as cursor:
            for start in range(0, len(ids), CHUNK):
                _rows_table(cursor, "al_relabel_rows", "item_id bigint, relabel_score double precision",
                            [_copy_ints(ids[start : start + CHUNK]), column[start : start + CHUNK]])
                cursor.execute(f"UPDATE {Prediction._meta.db_table} AS p SET relabel_score = t.relabel_score "
                               "FROM al_relabel_rows AS t WHERE p.item_id = t.item_id AND p.item_id BETWEEN %s AND %s",
                               _id_range(ids[start : start + CHUNK]))
        return
    values = dict(zip(ids, scores.tolist(), strict=True))
    for start in range(0, len(ids), CHUNK):
        found = Prediction.objects.filter(item_id__in=ids[start : start + CHUNK]).values_list("id", "item_id")
        objects = [Prediction(pk=pk, relabel_score=_finite(values[item_id])) for pk, item_id in found]
        Prediction.objects.bulk_update(objects, ["relabel_score"], batch_size=500)
