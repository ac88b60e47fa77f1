"""What the active-learning reads scan and how: the chunk size, the item statuses a model trains on, and
id-ordered keyset chunks (one or two short queries per ``CHUNK`` rows, never one per item)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Max

from activelearning.models import FeatureCache
from annotation.models import ItemStatus
from annotation.services import item_state

CHUNK = 2000
TRAINABLE_STATUSES = (ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW, ItemStatus.ACCEPTED)
# Labelled items whose votes adaptive overlap may still ask more annotations for (no reviewer decision yet).
OVERLAP_STATUSES = item_state.OVERLAP_STATUSES


def item_chunks(queryset, fields: tuple[str, ...], chunk: int = CHUNK) -> Iterator[list[tuple]]:
    """Keyset pagination over ``queryset`` by item id; ``fields`` must start with "id"."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*fields)[:chunk])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def cache_windows(key: str, chunk: int) -> Iterator[tuple[int, int]]:
    """Consecutive item-id ranges (after, up to] holding ``chunk`` cache rows of ``key`` each (the last fewer),
    each found by a short scan of the (extractor, item) index."""
    last = 0
    while True:
        bound = (
            FeatureCache.objects.filter(extractor=key, item_id__gt=last)
            .order_by("item_id")[:chunk]
            .aggregate(bound=Max("item_id"))["bound"]
        )
        if bound is None:
            return
        yield last, bound
        last = bound
