"""SQLite only: items are no longer indexed by an insert trigger (it made every import pay FTS5's tokenizing and
json_tree per row, cutting the embedded import rate by a third or more) but by the search that follows (see
``annotation.search.sqlite_index_catch_up``). A one-row table holds the highest item id already indexed; item ids
are AUTOINCREMENT on SQLite, so ids are never reused and new items are exactly those above it. PostgreSQL's
GIN expression index is untouched."""

from importlib import import_module

from django.db import migrations

# The indexed body as 0016 wrote it, so the triggers here index exactly what its table holds.
SQLITE_BODY = import_module("annotation.migrations.0016_item_search_index").SQLITE_BODY

WATERMARK = "annotation_item_fts_watermark"
INDEXED = f"(SELECT last_id FROM {WATERMARK})"

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS annotation_item_fts_insert",
    "DROP TRIGGER IF EXISTS annotation_item_fts_update",
    "DROP TRIGGER IF EXISTS annotation_item_fts_delete",
    # The CHECK keeps it one row: the catch-up and the triggers read it as a scalar.
    f"CREATE TABLE {WATERMARK} (id integer NOT NULL PRIMARY KEY CHECK (id = 1), last_id integer NOT NULL)",
    # 0016 indexed every item there was and the insert trigger every one since.
    f"INSERT INTO {WATERMARK} (id, last_id) SELECT 1, coalesce(max(id), 0) FROM annotation_item",
    # An item given an explicit id at or below the watermark (a fixture loaded into a used database) would be
    # skipped by the catch-up: this trigger indexes it, and costs an import only a one-row lookup per item.
    f"""CREATE TRIGGER annotation_item_fts_insert AFTER INSERT ON annotation_item
        WHEN new.id <= {INDEXED} BEGIN
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
    # An item above the watermark is indexed with its values at the next search, so its edits need nothing.
    f"""CREATE TRIGGER annotation_item_fts_update
        AFTER UPDATE OF text, external_id, tags, metadata ON annotation_item WHEN old.id <= {INDEXED} BEGIN
        DELETE FROM annotation_item_fts WHERE rowid = old.id;
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
    f"""CREATE TRIGGER annotation_item_fts_delete AFTER DELETE ON annotation_item WHEN old.id <= {INDEXED} BEGIN
        DELETE FROM annotation_item_fts WHERE rowid = old.id;
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotation_item_fts_insert",
    "DROP TRIGGER IF EXISTS annotation_item_fts_update",
    "DROP TRIGGER IF EXISTS annotation_item_fts_delete",
    # 0016's triggers index every item as it changes, so the items not yet indexed are indexed first.
    f"INSERT INTO annotation_item_fts(rowid, body) SELECT id, {SQLITE_BODY.format(row='annotation_item')} "
    f"FROM annotation_item WHERE id > {INDEXED}",
    f"DROP TABLE {WATERMARK}",
    f"""CREATE TRIGGER annotation_item_fts_insert AFTER INSERT ON annotation_item BEGIN
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
    "CREATE TRIGGER annotation_item_fts_delete AFTER DELETE ON annotation_item BEGIN "
    "DELETE FROM annotation_item_fts WHERE rowid = old.id; END",
    f"""CREATE TRIGGER annotation_item_fts_update
        AFTER UPDATE OF text, external_id, tags, metadata ON annotation_item BEGIN
        DELETE FROM annotation_item_fts WHERE rowid = old.id;
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0016_item_search_index"),
    ]

    operations = [
        migrations.RunPython(_run(SQLITE_FORWARD), _run(SQLITE_BACKWARD)),
    ]
