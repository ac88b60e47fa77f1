"""Feature spaces and the per-item feature cache: item inputs out to the extractor, vectors back in bulk."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef

from activelearning.adapters.scan import CHUNK, item_chunks
from activelearning.adapters.vectors import from_bytes, to_bytes
from activelearning.models import FeatureCache, FeatureSpace
from annotation.models import Item, Project

if TYPE_CHECKING:
    # Type hints only: activelearning.features pulls in librosa and scikit-learn, which the web and worker
    # processes must not load at startup (this module is imported by the services the apps import).
    from activelearning.features import FeatureExtractor, FeatureMatrix


def feature_space_current(*, project: Project) -> FeatureSpace | None:
    return FeatureSpace.objects.filter(project=project).order_by("-id").first()


def feature_space_store(
    *,
    project: Project,
    key: str,
    extractor: FeatureExtractor,
    identity: str,
    params: dict,
    stateful: bool,
    n_fit_items: int,
) -> FeatureSpace:
    """Insert a feature space (the caller made ``key`` unique); a fitted extractor is pickled with it."""
    state = pickle.dumps(extractor, protocol=pickle.HIGHEST_PROTOCOL) if stateful else None
    return FeatureSpace.objects.create(
        project=project,
        key=key,
        extractor=identity,
        params=params,
        state=state,
        dim=int(extractor.dim),
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
    for chunk in item_chunks(Item.objects.filter(project=project), ("id", "text", "file")):
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


def items_missing_features(
    *, project: Project, key: str, chunk: int = 500
) -> Iterator[tuple[list[int], list[object]]]:
    """(item ids, extractor inputs) for items without a cached vector in ``key``, in chunks."""
    cached = FeatureCache.objects.filter(item=OuterRef("pk"), extractor=key)
    queryset = Item.objects.filter(project=project).exclude(Exists(cached))
    for rows in item_chunks(queryset, ("id", "text", "file"), chunk):
        yield [row[0] for row in rows], _inputs(rows)


def features_store(*, key: str, item_ids: list[int], matrix: FeatureMatrix) -> int:
    """Insert the cache rows for one chunk; rows already cached (a retried job) are left as they are."""
    rows = [
        FeatureCache(
            item_id=pk,
            extractor=key,
            vector=None if error else to_bytes(matrix.values[position]),
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
        for pk, raw in FeatureCache.objects.filter(
            extractor=key, item_id__in=ids[start : start + CHUNK]
        ).values_list("item_id", "vector"):
            values[position[pk]] = from_bytes(raw, dim)
    return values


def features_forget(*, project: Project, keep_key: str) -> int:
    """Delete cached features of the project's older feature spaces (they will not be used again)."""
    old = FeatureCache.objects.filter(item__project=project).exclude(extractor=keep_key)
    deleted, _ = old.delete()
    return deleted
