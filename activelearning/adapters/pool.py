"""Arrays for the model: the training set, the pool to score in id windows, and the held-out items the quality
engine still wants probabilities for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.functions import Coalesce

from activelearning.adapters.scan import CHUNK, TRAINABLE_STATUSES, cache_windows
from activelearning.adapters.vectors import from_bytes, matrix
from activelearning.answers import answer_classes
from activelearning.models import FeatureCache
from annotation.models import Item, ItemStatus, Project
from annotation.models.item import OPEN_STATUSES


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
    class_code = answer_classes(project).class_code
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
            label = class_code(final if final not in (None, "", []) else consensus, index)
            if raw is None or label < 0:
                continue
            ids.append(pk)
            rows.append(from_bytes(raw, dim))
            labels.append(label)
    X = np.vstack(rows) if rows else np.empty((0, dim), dtype=np.float32)
    finite = np.isfinite(X).all(axis=1)
    return TrainingSet(
        item_ids=np.asarray(ids, dtype=np.int64)[finite],
        X=X[finite],
        y=np.asarray(labels, dtype=np.int64)[finite],
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


def _pool_window(project: Project, key: str, after: int, upto: int, **cache_filters):
    """Pool items (with a cache row in ``key``) with ids in (after, upto], by id. The range is stated on both
    tables: PostgreSQL does not carry it across the join, and with a bound on one side only (or a lower bound
    only) the planner scanned one table from the project's first row on every chunk — quadratic in the pool."""
    return Item.objects.filter(
        project=project,
        status__in=OPEN_STATUSES,
        is_gold=False,
        pk__gt=after,
        pk__lte=upto,
        al_features__extractor=key,
        al_features__item_id__gt=after,
        al_features__item_id__lte=upto,
        **cache_filters,
    ).order_by("pk")


def pool_chunks(
    *, project: Project, key: str, dim: int, job_id: object, chunk: int = CHUNK
) -> Iterator[PoolChunk]:
    """The pool in id windows of ``chunk`` cached items: two short queries per window, whatever the pool size;
    memory is one chunk."""
    # The label the previous model gave, worked out by the database: one short string per row instead of
    # three fields and a UUID to convert and compare in Python.
    previous = Case(
        When(al_prediction__job_id=job_id, then=Coalesce("al_prediction__previous_predicted", Value(""))),
        default=Coalesce("al_prediction__predicted", Value("")),
        output_field=CharField(),
    )
    fields = (
        "id",
        "al_features__vector",
        "status",
        "annotation_count",
        "target_annotations",
        "previous",
        "priority",
    )
    for after, upto in cache_windows(key, chunk):
        rows = list(_pool_window(project, key, after, upto).annotate(previous=previous).values_list(*fields))
        if not rows:
            continue
        ids, vectors, status, count, target, before, current = zip(*rows, strict=True)
        yield PoolChunk(
            item_ids=np.asarray(ids, dtype=np.int64),
            X=matrix(vectors, dim),
            status=np.asarray(status, dtype=object),
            annotation_count=np.asarray(count, dtype=np.int64),
            target=np.asarray(target, dtype=np.int64),
            previous=list(before),
            priority=np.asarray(current, dtype=np.float64),
        )


def pool_ids(
    *, project: Project, key: str
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(item ids, annotation counts, targets, present priorities) of the pool in keyset chunks — no features
    (cold start)."""
    for after, upto in cache_windows(key, CHUNK):
        rows = list(
            _pool_window(project, key, after, upto, al_features__vector__isnull=False).values_list(
                "id", "annotation_count", "target_annotations", "priority"
            )
        )
        if not rows:
            continue
        array = np.asarray([row[:3] for row in rows], dtype=np.int64)
        yield array[:, 0], array[:, 1], array[:, 2], np.asarray([row[3] for row in rows], dtype=np.float64)


def held_out_chunks(
    *, project: Project, key: str, dim: int, training_ids: np.ndarray, chunk: int = CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
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
        rows = list(
            queryset.filter(item_id__gt=last).order_by("item_id").values_list("item_id", "vector")[:chunk]
        )
        if not rows:
            return
        last = rows[-1][0]
        ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        keep = ~np.isin(ids, training_ids, assume_unique=True)
        if keep.any():
            yield (
                ids[keep],
                np.vstack([from_bytes(row[1], dim) for row, kept in zip(rows, keep, strict=True) if kept]),
            )
