"""Checks and lookups for new items (gold labels, tags, ids already present); ``item_create`` writes them."""

import hashlib
import json
from collections.abc import Iterable

from django.db import connection

from annotation.models import Item, Project
from kinds.registry import kind_for


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def gold_value(
    *, project: Project, raw: object, label_values: set[str], text: object = None
) -> tuple[object | None, str | None]:
    """Normalise a gold label; returns (value, error message). ``text``: the row's text, for a kind whose gold
    answer is checked against it (span offsets)."""
    value_schema = kind_for(project).value_schema
    value, error = value_schema.gold_value(project=project, raw=raw, label_values=label_values)
    text_problem = getattr(value_schema, "gold_text_problem", None)
    if value is not None and text_problem is not None and isinstance(text, str):
        problem = text_problem(value, text)
        if problem:
            return None, problem
    return value, error


def gold_from_metadata(*, project: Project, metadata: dict) -> tuple[object | None, dict]:
    """(gold answer, the rest of ``metadata``) for an import row without ``gold_label`` whose other keys carry
    one in a form the project's kind reads (a span list under ``spans`` or ``entities``); (None, metadata)
    otherwise."""
    take = getattr(kind_for(project).value_schema, "gold_from_metadata", None)
    return take(metadata) if take is not None else (None, metadata)


def clean_tags(raw: object) -> tuple[list[str], str | None]:
    if raw in (None, ""):
        return [], None
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(";")]
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        return [], "tags must be a list of strings."
    tags = sorted({tag.strip() for tag in raw if tag.strip()})
    if any(len(tag) > 100 for tag in tags):
        return [], "A tag is longer than 100 characters."
    return tags, None


def existing_owners(*, project: Project, external_ids: list[str]) -> dict[str, int]:
    """{external_id: batch_id} of the given ids already in the project.

    On PostgreSQL the ids go as one array parameter, on SQLite as one JSON array (``external_id__in`` binds a
    placeholder per id, slower to build and parse than the lookup itself). On PostgreSQL the plan depends on the table's statistics: with current ones it
    probes the ``(project, external_id)`` unique index; with statistics in which the project looks empty it
    scans the project's items instead. Callers that insert many items keep them current with
    ``item_statistics_refresh_if_stale``.
    """
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor == "sqlite":
        # SQLite builds before 3.32 accept only 999 placeholders; json_each has no such limit, and SQLite
        # probes the (project, external_id) unique index once per id (test_existing_owners_sqlite).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, batch_id FROM {table} "
                "WHERE project_id = %s AND external_id IN (SELECT value FROM json_each(%s))",
                [project.pk, json.dumps(external_ids)],
            )
            return dict(cursor.fetchall())
    if connection.vendor != "postgresql":
        rows = Item.objects.filter(project=project, external_id__in=external_ids).values_list(
            "external_id", "batch_id"
        )
        return dict(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, batch_id FROM {table} "
            "WHERE project_id = %s AND external_id = ANY(%s::text[])",
            [project.pk, external_ids],
        )
        return dict(cursor.fetchall())


# Statistics count as stale once the rows changed since the last ANALYZE exceed the rows it saw (the table
# doubled) and this floor: an import refreshes them O(log n) times, and never for small changes.
STALE_MIN_CHANGES = 20_000


def item_statistics_refresh_if_stale() -> bool:
    """ANALYZE the item table's planning columns when its statistics are stale (PostgreSQL; elsewhere a no-op).

    Autovacuum analyses a table within about a minute of large changes, but an import reads the table while it
    grows, and plans made from statistics taken before it (a project that looks empty) scan the project's items
    for each chunk: the import's cost grew with the square of its size. Returns whether it analysed.
    """
    if connection.vendor != "postgresql":
        return False
    table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relid = %s::regclass",
            [table],
        )
        row = cursor.fetchone()
        changed, seen = (row[0] or 0, max(row[1] or 0, 0)) if row else (0, 0)
        if changed <= max(STALE_MIN_CHANGES, seen):
            return False
        cursor.execute(
            f"ANALYZE {connection.ops.quote_name(table)} (project_id, external_id, status, is_gold)"
        )
    return True


def existing_external_ids(*, project: Project, external_ids: Iterable[str]) -> set[str]:
    ids = list(external_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 5000):
        found.update(existing_owners(project=project, external_ids=ids[start : start + 5000]))
    return found
