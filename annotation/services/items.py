"""Creating items from already-parsed rows (bulk JSON, file imports). Parsing lives in ``annotation.ingress``."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max

from annotation import hotpath_cache, hotpath_sql
from annotation.models import ImportBatch, Item, ItemTag, Project
from annotation.services.projects import project_lock


@dataclass
class RowIssue:
    index: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class BulkResult:
    created: int = 0
    duplicates: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    batch_id: int | None = None
    duplicate_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "errors": [issue.as_dict() for issue in self.errors],
            "batch": self.batch_id,
        }


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def batch_open(*, project: Project, source: str) -> ImportBatch:
    with transaction.atomic():
        project_lock(project_id=project.pk)
        number = (ImportBatch.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        return ImportBatch.objects.create(project=project, number=number, source=source[:300])


def gold_value(*, project: Project, raw: object, label_values: set[str]) -> tuple[object | None, str | None]:
    """Normalise a gold label; returns (value, error message)."""
    if raw in (None, "", []):
        return None, None
    if project.multi_label:
        values = raw if isinstance(raw, list) else [part for part in str(raw).split(";") if part]
        unknown = [value for value in values if value not in label_values]
        if unknown:
            return None, f"Unknown gold label(s): {', '.join(map(str, unknown))}."
        return sorted(values), None
    if isinstance(raw, list):
        if len(raw) != 1:
            return None, "A single-label project takes one gold label."
        raw = raw[0]
    if str(raw) not in label_values:
        return None, f"Unknown gold label '{raw}'; known: {', '.join(sorted(label_values))}."
    return str(raw), None


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


def items_insert(*, project: Project, items: list[Item]) -> list[Item]:
    """Insert prepared items and their tag rows in one transaction (caller has deduplicated)."""
    with transaction.atomic():
        created = Item.objects.bulk_create(items, batch_size=1000)
        tag_rows = [ItemTag(project=project, item=item, tag=tag) for item in created for tag in item.tags]
        if tag_rows:
            ItemTag.objects.bulk_create(tag_rows, batch_size=2000)
    return created


def existing_owners(*, project: Project, external_ids: list[str]) -> dict[str, int]:
    """{external_id: batch_id} of the given ids already in the project.

    On PostgreSQL the ids go as one array parameter (``external_id__in`` binds a placeholder per id, slower to
    build and parse than the lookup itself). The plan depends on the table's statistics: with current ones it
    probes the ``(project, external_id)`` unique index; with statistics in which the project looks empty it
    scans the project's items instead. Callers that insert many items keep them current with
    ``item_statistics_refresh_if_stale``.
    """
    if connection.vendor != "postgresql":
        rows = Item.objects.filter(project=project, external_id__in=external_ids).values_list("external_id", "batch_id")
        return dict(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT external_id, batch_id FROM {connection.ops.quote_name(Item._meta.db_table)} "
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
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)} (project_id, external_id, status, is_gold)")
    return True


def existing_external_ids(*, project: Project, external_ids: Iterable[str]) -> set[str]:
    ids = list(external_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 5000):
        found.update(existing_owners(project=project, external_ids=ids[start : start + 5000]))
    return found


def label_values(*, project: Project) -> set[str]:
    """The project's active label values. Every submission validates against this: cached until the project's
    version is bumped (``annotation.hotpath_cache``), else one hand-written query."""
    project_id = project.pk
    return set(hotpath_cache.cached(
        key=f"hotpath:labels:{project_id}",
        versions=(hotpath_cache.project_version_key(project_id),),
        load=lambda: frozenset(hotpath_sql.label_values(project_id=project_id)),
    ))
