"""COPY text for the set-based writes on PostgreSQL: a chunk's rows go into a session temporary table with one
COPY, then one statement joins it to the big table.

The text is built a column at a time: psycopg's ``write_row`` and a ``json.dumps`` per row cost ~20 µs a row, a
third of a training job's time on a 1,000,000-item pool (bench/results/)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np

NULL = "\\N"
# Every join of a chunk's rows to a big table also bounds the big table's id by the chunk's: otherwise the planner
# may merge-join the table from its first row, once per chunk.
ID_RANGE = "i.id BETWEEN %s AND %s"


def rows_table(cursor, name: str, columns: str, data: list[list[str]]) -> None:
    """Fill the session's temporary table ``name`` (created on first use, emptied first) with one COPY of
    ``data`` (columns of COPY text), then ANALYZE its first column: without statistics the planner guesses the
    row count and may join the table to a big one by scanning all of it, once per chunk."""
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})")
    cursor.execute(f"TRUNCATE {name}")
    with cursor.cursor.copy(f"COPY {name} FROM STDIN") as copy:
        copy.write("".join(row + "\n" for row in map("\t".join, zip(*data, strict=True))))
    cursor.execute(f"ANALYZE {name} ({columns.split()[0]})")  # the row count and the ids are all a plan needs


def id_range(ids: Iterable[int]) -> list[int]:
    ids = np.asarray(ids, dtype=np.int64)
    return [int(ids.min()), int(ids.max())] if len(ids) else [0, -1]


def copy_escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_ints(values: Iterable[int]) -> list[str]:
    return list(map(str, np.asarray(values, dtype=np.int64).tolist()))


def copy_floats(values: np.ndarray | None, n: int) -> list[str]:
    """Floats (repr round-trips exactly); NULL for NaN/inf, and for every row when there are no values."""
    if values is None:
        return [NULL] * n
    values = np.asarray(values, dtype=np.float64)
    text = list(map(repr, values.tolist()))
    for position in np.flatnonzero(~np.isfinite(values)).tolist():
        text[position] = NULL
    return text


def copy_probs_json(proba: np.ndarray, finite: np.ndarray, label_values: list[str]) -> list[str]:
    """``{"label": p, ...}`` per row with p rounded to 6 decimals, NULL for non-finite rows: one %-template
    per chunk instead of a dict and a json.dumps per row."""
    keys = (json.dumps(value).replace("%", "%%") for value in label_values)
    template = copy_escape("{" + ", ".join(f"{key}: %r" for key in keys) + "}")
    rounded = np.round(np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=0.0), 6).tolist()
    return [template % tuple(row) if ok else NULL for row, ok in zip(rounded, finite.tolist(), strict=True)]
