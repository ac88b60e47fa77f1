"""Line diff of two guideline versions as plain rows (no HTML): templates escape every line they show."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffRow:
    """One side-by-side row. ``kind`` is ``equal``, ``insert``, ``delete`` or ``replace``; absent sides are
    ``None`` (their line number too)."""

    kind: str
    old_number: int | None
    old_line: str | None
    new_number: int | None
    new_line: str | None


@dataclass(frozen=True)
class DiffSummary:
    rows: list[DiffRow]
    added: int
    removed: int
    changed: int


def line_diff(old: str, new: str, *, context: int | None = 3) -> DiffSummary:
    """Side-by-side rows of the changed lines between ``old`` and ``new``, with ``context`` unchanged lines
    around each change (``None``: every line). Unchanged stretches beyond the context become one
    ``kind="skip"`` row."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    rows: list[DiffRow] = []
    added = removed = changed = 0
    opcodes = matcher.get_opcodes()
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            span = list(range(i2 - i1))
            if context is None:
                keep = span
            else:
                head = span[:context] if position > 0 else []
                tail = span[max(len(span) - context, 0) :] if position < len(opcodes) - 1 else []
                keep = sorted(set(head) | set(tail))
            previous = -1
            for offset in keep:
                if offset != previous + 1:
                    rows.append(DiffRow("skip", None, None, None, None))
                rows.append(
                    DiffRow(
                        "equal",
                        i1 + offset + 1,
                        old_lines[i1 + offset],
                        j1 + offset + 1,
                        new_lines[j1 + offset],
                    )
                )
                previous = offset
            if span and previous != len(span) - 1:
                rows.append(DiffRow("skip", None, None, None, None))
            continue
        n = max(i2 - i1, j2 - j1)
        for offset in range(n):
            i, j = i1 + offset, j1 + offset
            old_line = old_lines[i] if i < i2 else None
            new_line = new_lines[j] if j < j2 else None
            kind = (
                "replace"
                if old_line is not None and new_line is not None
                else "delete"
                if new_line is None
                else "insert"
            )
            rows.append(
                DiffRow(
                    kind,
                    i + 1 if old_line is not None else None,
                    old_line,
                    j + 1 if new_line is not None else None,
                    new_line,
                )
            )
        if tag == "replace":
            common = min(i2 - i1, j2 - j1)
            changed += common
            removed += (i2 - i1) - common
            added += (j2 - j1) - common
        elif tag == "delete":
            removed += i2 - i1
        else:
            added += j2 - j1
    return DiffSummary(rows=rows, added=added, removed=removed, changed=changed)
