"""The one way new items are written: bulk-API rows, CSV/JSON/JSONL files, zips and Label Studio rows all end
here, so an item is stored the same whichever way it arrived.

Ingress validates each row and builds a ``NewItem`` (profile, flags, status, hashes and duplicate keys
included); ``items_create`` writes a list of them: the media files to the default storage under their
content-addressed names, then the items (COPY on PostgreSQL, one prepared INSERT on SQLite) and their tag rows, in
one transaction. It validates nothing.
"""

import functools
import json
from collections.abc import Iterator
from operator import attrgetter

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from annotation.models import Item, ItemTag, Project


@functools.cache
def _item_defaults() -> tuple[tuple[str, object], ...]:
    return tuple((f.attname, f.get_default()) for f in Item._meta.concrete_fields if not f.primary_key)


class NewItem:
    """An item to insert, as plain attributes named like ``Item``'s columns (``project_id``, ``batch_id``…).
    The COPY reads nothing else, and building a model instance per row cost about a fifth of a text import.
    Columns not given fall back to ``Item``'s defaults, held once on the class (never mutated: rows are only
    serialised), so ``vars(row)`` names exactly the columns this row sets and the COPY converts the others once
    per chunk. ``file`` is unsaved content (a ``File``) until ``items_create`` stores it, then its name."""

    # Declared for the type checker (annotations only, so the class defaults below stay the only values): what
    # this module reads and writes. ``tags`` is not a column; every row builder passes it.
    pk: int | None
    batch_id: int | None
    file: File | str
    tags: list[str]

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)
        self.pk = None

    def to_item(self) -> Item:
        return Item(**{name: getattr(self, name) for name, _ in _item_defaults()})


for _name, _default in _item_defaults():
    setattr(NewItem, _name, _default)
del _name, _default


def items_create(*, project: Project, items: list[NewItem], batch_id: int | None) -> None:
    """Insert ``items`` into ``project`` (and ``batch_id``) with their files and tag rows, in one transaction;
    each item gets its ``pk``.

    Preconditions: the items have distinct external ids not yet in the project (``items.existing_owners``) and
    ``project_id`` set. Raises what the storage or the database raise; the files this call wrote are removed
    then, so a failed chunk leaves no file without its item.
    """
    for item in items:
        item.batch_id = batch_id
    written: list[str] = []
    try:
        with transaction.atomic():
            _files_save(items, written)
            _rows_insert(project=project, items=items)
    except Exception:
        for name in written:
            default_storage.delete(name)
        raise


def _files_save(items: list[NewItem], written: list[str]) -> None:
    """Store each item's unsaved file and replace it by its storage name; appends the names written."""
    field = Item._meta.get_field("file")
    for item in items:
        content = item.file
        if not isinstance(content, File):
            continue
        # Names are content-addressed (sha256 in the path): a file that a crashed attempt or an identical item
        # already wrote is reused rather than copied.
        # upload_to reads the row's columns, which a NewItem has as an Item would; a File from a row is named.
        name = field.generate_filename(item, content.name)  # type: ignore[arg-type]
        if not default_storage.exists(name):
            name = default_storage.save(name, content, max_length=field.max_length)
            written.append(name)
        item.file = name


def _rows_insert(*, project: Project, items: list[NewItem]) -> None:
    """Insert items and their tag rows, each item getting its ``pk``. On PostgreSQL the items go through COPY,
    several times faster than a multi-row INSERT with tens of thousands of parameters, with ids reserved from
    the sequence first; on SQLite through one prepared INSERT run over every row (``executemany``), ids reserved
    from the table's counter. Both convert values as the ORM would (the SQLite statement has an ORM twin in
    tests/annotation/test_item_insert_sqlite.py); other databases use ``bulk_create``.
    Preconditions: inside a transaction; files already saved.
    """
    if connection.vendor == "postgresql":
        _rows_copy(project=project, items=items)
    elif connection.vendor == "sqlite":
        _rows_executemany(project=project, items=items)
    else:
        _rows_bulk_create(project=project, items=items)


def _rows_bulk_create(*, project: Project, items: list[NewItem]) -> None:
    created = Item.objects.bulk_create([item.to_item() for item in items], batch_size=1000)
    for item, stored in zip(items, created, strict=True):
        item.pk = stored.pk
    tag_rows = [
        ItemTag(project=project, item_id=stored.pk, tag=tag)
        for item, stored in zip(items, created, strict=True)
        for tag in item.tags
    ]
    if tag_rows:
        ItemTag.objects.bulk_create(tag_rows, batch_size=2000)


def _insert_statement(model: type[models.Model], fields: list) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"


def _rows_executemany(*, project: Project, items: list[NewItem]) -> None:
    """SQLite: ``bulk_create`` fits about 28 rows of Item's 36 columns in SQLite's parameter limit and compiles
    every value through the field classes, most of an import's time; one statement prepared once and run per
    row skips both, and SQLite executes it as fast as the multi-row INSERTs."""
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    convert = _copy_converters(fields, now=now)
    quote = connection.ops.quote_name
    table, pk = quote(Item._meta.db_table), quote(Item._meta.pk.column)
    with connection.cursor() as cursor:
        # The item table is AUTOINCREMENT: new ids come after both the highest id and the highest ever handed
        # out (sqlite_sequence), which an explicit id above both then advances as an automatic one would. The
        # transaction holds SQLite's write lock (IMMEDIATE; a DEFERRED one fails to write if another writer
        # came in between), so nothing else takes these ids before the insert.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"COALESCE((SELECT MAX({pk}) FROM {table}), 0))",
            [Item._meta.db_table],
        )
        (last,) = cursor.fetchone()
        for offset, item in enumerate(items, start=1):
            item.pk = last + offset
        cursor.executemany(
            _insert_statement(Item, [Item._meta.pk, *fields]), list(_copy_rows(items, fields, convert))
        )
        tag_rows = [(project.pk, item.pk, tag) for item in items for tag in item.tags]
        if tag_rows:
            tag_fields = [ItemTag._meta.get_field(name) for name in ("project", "item", "tag")]
            cursor.executemany(_insert_statement(ItemTag, tag_fields), tag_rows)


def _rows_copy(*, project: Project, items: list[NewItem]) -> None:
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    convert = _copy_converters(fields, now=timezone.now())
    table = connection.ops.quote_name(Item._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [Item._meta.pk, *fields])
    with connection.cursor() as cursor:
        # Ids drawn from the table's own sequence up front, so the COPY carries them and nothing is read back.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [Item._meta.db_table, Item._meta.pk.column, len(items)],
        )
        for item, (pk,) in zip(items, cursor.fetchall(), strict=True):
            item.pk = pk
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in _copy_rows(items, fields, convert):
                copy.write_row(row)
    if any(item.tags for item in items):
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(ItemTag._meta.db_table)} (project_id, item_id, tag) FROM STDIN"
            ) as copy,
        ):
            for item in items:
                for tag in item.tags:
                    copy.write_row((project.pk, item.pk, tag))


def _copy_rows(items: list, fields: list, convert: list) -> Iterator[list]:
    """COPY rows (id first) for ``items``. Rows that set the same columns share the converted values of
    the columns they leave at their defaults, so only the columns they set are converted per row."""
    shared: tuple[frozenset, list, list] | None = None
    for item in items:
        own = item.__dict__.keys()
        if shared is None or shared[0] != own:
            names = frozenset(own)
            template = [None, *(fn(item) for fn in convert)]
            varying = [
                (i + 1, fn)
                for i, (f, fn) in enumerate(zip(fields, convert, strict=True))
                if f.attname in names
            ]
            shared = (names, template, varying)
        row = shared[1].copy()
        row[0] = item.pk
        for index, fn in shared[2]:
            row[index] = fn(item)
        yield row


def _copy_converters(fields: list, *, now) -> list:
    """One function per column turning an Item into its COPY value. Field-generic ``get_db_prep_save`` costs
    ~30 calls per row; the column kinds of Item are few, so each gets its direct conversion."""

    def json_value(attname: str):
        def convert(item) -> str | None:
            value = getattr(item, attname)
            if value is None:
                return None
            if not value and isinstance(value, list | dict):
                return "[]" if isinstance(value, list) else "{}"  # most JSON columns of a new item are empty
            return json.dumps(value)

        return convert

    out = []
    for f in fields:
        if isinstance(f, models.JSONField):
            out.append(json_value(f.attname))
        elif isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            out.append(lambda item, now=now: now)
        else:
            out.append(attrgetter(f.attname))
    return out
