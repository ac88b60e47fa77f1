"""Differences between two versions of a project: added, removed, relabelled items and split moves.

Both versions are streamed in item-id order and merged, so the cost is linear and memory is flat; counts are
exact and the lists hold at most ``limit`` examples each. Versions are immutable, so a diff is cached.

A kind whose answer has parts (spans, boxes) diffs them too, through its export part's ``part_diff`` (a module
with ``UNIT``, ``COUNTS``, ``count(value)`` and ``diff(old, new) -> (counts, lines in words)``): the result's
``parts`` counts them over every item of either version (an added item's spans are added spans), an item is
``relabelled`` only when its parts changed (a consensus confidence that moved is no change), and each
relabelled record carries its ``changes`` in words.
"""

from collections.abc import Iterator

from django.core.cache import cache

from datasets.exporters import read_snapshot
from datasets.models import DatasetEntry, DatasetVersion
from kinds.registry import kind_for

CACHE_SECONDS = 24 * 3600
_END = (float("inf"), None, None, None)


def _entries(version: DatasetVersion) -> Iterator[tuple]:
    rows = (
        DatasetEntry.objects.filter(version=version)
        .order_by("item_id")
        .values_list("item_id", "external_id", "label", "split")
    )
    yield from rows.iterator(chunk_size=5000)
    yield _END


def version_diff(*, base: DatasetVersion, target: DatasetVersion, limit: int = 1000) -> dict:
    """What changed from ``base`` (the older version) to ``target``.

    Returns ``{"base", "target", "counts": {added, removed, relabelled, split_moves, unchanged}, "added",
    "removed", "relabelled", "split_moves", "truncated"}``; an item that moved split is reported there even
    though stable splits mean that should never happen.
    """
    # Checksums in the key: ids alone could be reused after a database reset, the content could not. "v2": diffs
    # cached before span and box projects got ``parts`` are not served.
    key = f"datasets:diff:v2:{base.pk}:{base.checksum}:{target.pk}:{target.checksum}:{limit}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    counts = {"added": 0, "removed": 0, "relabelled": 0, "split_moves": 0, "unchanged": 0}
    lists: dict[str, list] = {"added": [], "removed": [], "relabelled": [], "split_moves": []}
    part_diff = getattr(kind_for(target.project).export_part, "part_diff", None)
    parts = dict.fromkeys(part_diff.COUNTS, 0) if part_diff is not None else {}

    def note(kind: str, record: dict) -> None:
        counts[kind] += 1
        if len(lists[kind]) < limit:
            lists[kind].append(record)

    with read_snapshot():
        old_rows, new_rows = _entries(base), _entries(target)
        old, new = next(old_rows), next(new_rows)
        while old is not _END or new is not _END:
            if new[0] < old[0]:
                note("added", {"item_id": new[0], "external_id": new[1], "label": new[2], "split": new[3]})
                if part_diff is not None:
                    parts["added"] += part_diff.count(new[2])
                new = next(new_rows)
            elif old[0] < new[0]:
                note("removed", {"item_id": old[0], "external_id": old[1], "label": old[2], "split": old[3]})
                if part_diff is not None:
                    parts["removed"] += part_diff.count(old[2])
                old = next(old_rows)
            else:
                changed = False
                record = {"item_id": new[0], "external_id": new[1], "from": old[2], "to": new[2]}
                if part_diff is None:
                    relabelled = old[2] != new[2]
                elif old[2] == new[2]:
                    parts["unchanged"] += part_diff.count(new[2])
                    relabelled = False
                else:
                    item_counts, record["changes"] = part_diff.diff(old[2], new[2])
                    for name, value in item_counts.items():
                        parts[name] += value
                    relabelled = bool(record["changes"])
                if relabelled:
                    note("relabelled", record)
                    changed = True
                if old[3] != new[3]:
                    note(
                        "split_moves",
                        {"item_id": new[0], "external_id": new[1], "from": old[3], "to": new[3]},
                    )
                    changed = True
                if not changed:
                    counts["unchanged"] += 1
                old, new = next(old_rows), next(new_rows)
    result = {
        "base": {"id": base.pk, "version": base.number},
        "target": {"id": target.pk, "version": target.number},
        "counts": counts,
        **lists,
        **(
            {"parts": {"unit": part_diff.UNIT, "counts": parts, "names": dict(part_diff.COUNTS)}}
            if part_diff is not None
            else {}
        ),
        "truncated": any(counts[kind] > len(lists[kind]) for kind in lists),
        "limit": limit,
    }
    cache.set(key, result, CACHE_SECONDS)
    return result
