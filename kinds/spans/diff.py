"""What changed between two versions' spans of one item (pure: no Django).

Each span of either side is counted once, in this order:

1. ``unchanged``: the same start, end and label on both sides;
2. ``relabelled``: the same start and end, another label;
3. ``boundaries_changed``: the same label, overlapping but with other offsets, matched one-to-one, largest
   overlap first (ties: the earlier old span, then the earlier new span);
4. ``removed`` (old spans left over) and ``added`` (new spans left over).

A span whose label and offsets both changed reads as one removed and one added. Confidences are ignored: a
consensus span whose confidence moved is unchanged.
"""

from __future__ import annotations

from collections import Counter

#: the counts in the order pages list them, with what each counts
COUNTS = {
    "added": "Spans added",
    "removed": "Spans removed",
    "boundaries_changed": "Boundaries changed (same label, overlapping)",
    "relabelled": "Relabelled (same offsets)",
    "unchanged": "Spans unchanged",
}
UNIT = "spans"

Span = tuple[int, int, str]


def _spans(value: object) -> list[Span]:
    if not isinstance(value, list):
        return []
    return sorted(
        (int(s["start"]), int(s["end"]), str(s["label"]))
        for s in value
        if isinstance(s, dict) and {"start", "end", "label"} <= s.keys()
    )


def _at(span: Span) -> str:
    return f"{span[0]}–{span[1]}"


def count(value: object) -> int:
    """The spans of one stored value (an unchanged item's, or an added or removed item's)."""
    return len(_spans(value))


def diff(old: object, new: object) -> tuple[dict[str, int], list[str]]:
    """(counts by :data:`COUNTS` key, the changes in words, in offset order) from ``old`` to ``new`` span lists."""
    old_count, new_count = Counter(_spans(old)), Counter(_spans(new))
    same = old_count & new_count
    counts = dict.fromkeys(COUNTS, 0)
    counts["unchanged"] = sum(same.values())
    old_rest = sorted((old_count - same).elements())
    new_rest = sorted((new_count - same).elements())
    changes: list[tuple[tuple, str]] = []

    by_offsets: dict[tuple[int, int], list[Span]] = {}
    for span in new_rest:
        by_offsets.setdefault(span[:2], []).append(span)
    unmatched_old = []
    for span in old_rest:
        partners = by_offsets.get(span[:2])
        if partners:
            other = partners.pop(0)
            counts["relabelled"] += 1
            changes.append((span, f"span at {_at(span)} relabelled {span[2]} → {other[2]}"))
        else:
            unmatched_old.append(span)
    unmatched_new = [span for spans in by_offsets.values() for span in spans]
    unmatched_new.sort()

    candidates = sorted(
        (-(min(o[1], n[1]) - max(o[0], n[0])), i, j)
        for i, o in enumerate(unmatched_old)
        for j, n in enumerate(unmatched_new)
        if o[2] == n[2] and max(o[0], n[0]) < min(o[1], n[1])
    )
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    for _, i, j in candidates:
        if i in taken_old or j in taken_new:
            continue
        taken_old.add(i)
        taken_new.add(j)
        o, n = unmatched_old[i], unmatched_new[j]
        counts["boundaries_changed"] += 1
        changes.append((o, f"{o[2]} span at {_at(o)} now {_at(n)} (boundaries changed)"))
    for i, span in enumerate(unmatched_old):
        if i not in taken_old:
            counts["removed"] += 1
            changes.append((span, f"{span[2]} span at {_at(span)} removed"))
    for j, span in enumerate(unmatched_new):
        if j not in taken_new:
            counts["added"] += 1
            changes.append((span, f"{span[2]} span at {_at(span)} added"))
    changes.sort(key=lambda change: change[0])
    return counts, [words for _, words in changes]
