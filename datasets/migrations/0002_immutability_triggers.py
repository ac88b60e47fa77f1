"""Database-level immutability of dataset versions (see datasets/models.py).

PostgreSQL: entries and split assignments refuse UPDATE and DELETE; versions refuse DELETE, and UPDATE of any
content field once the checksum is set (only ``name`` and ``created_by`` may change). SQLite: the UPDATE half
(DELETE triggers there would break the test runner's flush, which deletes rows). A deliberate project purge on
PostgreSQL sets ``SET LOCAL labelgate.dataset_purge = 'on'`` to let its deletes through.

Note for later migrations: SQLite rebuilds a table on most ALTERs, which drops its triggers; re-create them.
"""

from django.db import migrations

CONTENT_FIELDS = [
    "project_id", "number", "parent_id", "job_id", "created_at", "policy", "n_entries", "counts", "split_counts",
    "label_distribution", "split_label_counts", "metrics", "guideline_version", "checksum",
]

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION datasets_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('labelgate.dataset_purge', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'dataset versions are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
    END $$;
    """,
    """
    CREATE TRIGGER datasets_entry_immutable BEFORE UPDATE OR DELETE ON datasets_datasetentry
      FOR EACH ROW EXECUTE FUNCTION datasets_refuse_change();
    """,
    """
    CREATE TRIGGER datasets_splitassignment_immutable BEFORE UPDATE OR DELETE ON datasets_splitassignment
      FOR EACH ROW EXECUTE FUNCTION datasets_refuse_change();
    """,
    """
    CREATE TRIGGER datasets_version_no_delete BEFORE DELETE ON datasets_datasetversion
      FOR EACH ROW EXECUTE FUNCTION datasets_refuse_change();
    """,
    "CREATE TRIGGER datasets_version_frozen BEFORE UPDATE ON datasets_datasetversion FOR EACH ROW WHEN (OLD.checksum <> '' AND ("
    + " OR ".join(f"NEW.{name} IS DISTINCT FROM OLD.{name}" for name in CONTENT_FIELDS)
    + ")) EXECUTE FUNCTION datasets_refuse_change();",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS datasets_version_frozen ON datasets_datasetversion;",
    "DROP TRIGGER IF EXISTS datasets_version_no_delete ON datasets_datasetversion;",
    "DROP TRIGGER IF EXISTS datasets_splitassignment_immutable ON datasets_splitassignment;",
    "DROP TRIGGER IF EXISTS datasets_entry_immutable ON datasets_datasetentry;",
    "DROP FUNCTION IF EXISTS datasets_refuse_change();",
]

SQLITE_FORWARD = [
    """
    CREATE TRIGGER datasets_entry_immutable BEFORE UPDATE ON datasets_datasetentry
    BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable: UPDATE on datasets_datasetentry is not allowed'); END;
    """,
    """
    CREATE TRIGGER datasets_splitassignment_immutable BEFORE UPDATE ON datasets_splitassignment
    BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable: UPDATE on datasets_splitassignment is not allowed'); END;
    """,
    "CREATE TRIGGER datasets_version_frozen BEFORE UPDATE ON datasets_datasetversion WHEN OLD.checksum <> '' AND ("
    + " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in CONTENT_FIELDS)
    + ") BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable: UPDATE on datasets_datasetversion is not allowed'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS datasets_version_frozen;",
    "DROP TRIGGER IF EXISTS datasets_splitassignment_immutable;",
    "DROP TRIGGER IF EXISTS datasets_entry_immutable;",
]

STATEMENTS = {"postgresql": (PG_FORWARD, PG_BACKWARD), "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD)}


def _run(schema_editor, index: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return
    for statement in statements[index]:
        schema_editor.execute(statement, params=None)  # None: the SQL holds literal % signs


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("datasets", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
