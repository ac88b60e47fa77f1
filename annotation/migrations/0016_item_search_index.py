"""The free-text search index over items (see ``annotation.search``): a GIN expression index on PostgreSQL, an
FTS5 table with triggers on SQLite, filled for the items already there. Each database runs only its own part."""

from django.db import migrations

PG_CREATE = """
CREATE INDEX IF NOT EXISTS item_search_idx ON annotation_item USING gin (
    to_tsvector('simple'::regconfig, regexp_replace(
        "text" || ' ' || "external_id" || ' ' || "tags"::text || ' ' || "metadata"::text, '[[:punct:]]+', ' ', 'g'))
)
"""
PG_DROP = "DROP INDEX IF EXISTS item_search_idx"

# One indexed column: the text, the external id, the tags' values and the metadata's keys and values. The JSON
# is read through json_tree so escaped characters (Django writes JSON with \\u escapes) are indexed as the words
# they are, like PostgreSQL's jsonb text.
SQLITE_BODY = """
{row}.text || ' ' || {row}.external_id || ' '
|| coalesce((SELECT group_concat(value, ' ') FROM json_tree({row}.tags) WHERE atom IS NOT NULL), '') || ' '
|| coalesce((SELECT group_concat(coalesce(key, '') || ' ' || coalesce(atom, ''), ' ')
             FROM json_tree({row}.metadata) WHERE type != 'array'), '')
"""

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS annotation_item_fts USING fts5(body, tokenize='unicode61')",
    f"""CREATE TRIGGER IF NOT EXISTS annotation_item_fts_insert AFTER INSERT ON annotation_item BEGIN
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
    "CREATE TRIGGER IF NOT EXISTS annotation_item_fts_delete AFTER DELETE ON annotation_item BEGIN "
    "DELETE FROM annotation_item_fts WHERE rowid = old.id; END",
    # Only a change to a searched column rewrites the row: status and label updates on the hot path do not.
    f"""CREATE TRIGGER IF NOT EXISTS annotation_item_fts_update
        AFTER UPDATE OF text, external_id, tags, metadata ON annotation_item BEGIN
        DELETE FROM annotation_item_fts WHERE rowid = old.id;
        INSERT INTO annotation_item_fts(rowid, body) VALUES (new.id, {SQLITE_BODY.format(row="new")});
    END""",
    f"INSERT INTO annotation_item_fts(rowid, body) SELECT id, {SQLITE_BODY.format(row='annotation_item')} "
    "FROM annotation_item",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS annotation_item_fts_insert",
    "DROP TRIGGER IF EXISTS annotation_item_fts_delete",
    "DROP TRIGGER IF EXISTS annotation_item_fts_update",
    "DROP TABLE IF EXISTS annotation_item_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0015_project_span_snap_tokens"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": [PG_CREATE], "sqlite": SQLITE_CREATE}),
            _run({"postgresql": [PG_DROP], "sqlite": SQLITE_DROP}),
        ),
    ]
