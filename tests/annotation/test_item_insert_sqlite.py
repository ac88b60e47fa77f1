"""On the embedded default (SQLite) new items are written by one prepared INSERT (``item_create``) and looked up by
one JSON-array query (``items.existing_owners``): both against their ORM twins, on a fresh SQLite database in a
child process (the suite itself runs on PostgreSQL)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from annotation.models import Item, ItemTag
from annotation.services import item_create
from annotation.services.items import existing_owners
from annotation.services.projects import LabelSpec, project_create
from ingress.services.text_rows import text_item
from ingress.services.text_sketches import text_sketches

user = get_user_model().objects.create_user("m", password="manager-pass-1")

def project(name):
    return project_create(user=user, name=name, task_type="text_classification",
                          labels=[LabelSpec(value="a"), LabelSpec(value="b")])

ROWS = [
    ("plain", "a plain review of a film", {}, [], None),
    ("rich", "Ã© caf\ufffd with \x07 control", {"lang": "fr", "n": [1, 2.5, None], "ok": True}, ["mobile", "web"], "a"),
    ("blank", "   ", {"k": "v"}, ["x"], None),
    ("", "an id derived from the text", {}, [], "b"),
]

def build(p):
    items, normalised = [], []
    for external_id, text, metadata, tags, gold in ROWS:
        item, norm = text_item(project=p, external_id=external_id, text=text, metadata=metadata, tags=tags, gold=gold)
        items.append(item)
        normalised.append(norm)
    for item, sketch in zip(items, text_sketches(normalised)):
        item.minhash = sketch
    return items

COLUMNS = [f.column for f in Item._meta.concrete_fields if f.column not in ("id", "project_id", "created_at", "updated_at")]

def stored(p):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, {', '.join(f'typeof({c})' for c in COLUMNS)}, "
            "typeof(created_at), typeof(updated_at), CAST(created_at AS TEXT), CAST(updated_at AS TEXT) "
            "FROM annotation_item WHERE project_id = %s ORDER BY external_id", [p.pk])
        return [[v.hex() if isinstance(v, bytes) else v for v in row] for row in cursor.fetchall()]

def tags(p):
    return sorted(ItemTag.objects.filter(project=p).values_list("item__external_id", "tag"))

orm_project, sql_project = project("orm twin"), project("prepared insert")
with transaction.atomic():
    item_create._rows_bulk_create(project=orm_project, items=build(orm_project))
sql_items = build(sql_project)
item_create.items_create(project=sql_project, items=sql_items, batch_id=None)
orm_rows, sql_rows = stored(orm_project), stored(sql_project)
n = 2 * len(COLUMNS)
out = {
    "orm": [row[:n] for row in orm_rows],
    "sql": [row[:n] for row in sql_rows],
    "orm_times": [row[n:] for row in orm_rows],
    "sql_times": [row[n:] for row in sql_rows],
    "orm_tags": tags(orm_project),
    "sql_tags": tags(sql_project),
    "pks": [[item.pk, item.external_id] for item in sql_items],
    "db_pks": sorted(Item.objects.filter(project=sql_project).values_list("pk", "external_id")),
}
# Ids are never reused after a delete (AUTOINCREMENT), whichever path inserts next.
highest = max(item.pk for item in sql_items)
Item.objects.filter(pk=highest).delete()
again = build(sql_project)[:1]
again[0].external_id = "after delete"
item_create.items_create(project=sql_project, items=again, batch_id=None)
out["deleted"], out["next_sql"] = highest, again[0].pk
more = build(orm_project)[:1]
more[0].external_id = "orm after"
with transaction.atomic():
    item_create._rows_bulk_create(project=orm_project, items=more)
out["next_orm"] = more[0].pk
ids = ["plain", "rich", "nope", "after delete", 'quote"and,comma']
out["owners"] = existing_owners(project=sql_project, external_ids=ids)
out["owners_orm"] = dict(Item.objects.filter(project=sql_project, external_id__in=ids).values_list("external_id", "batch_id"))
out["owners_none"] = existing_owners(project=sql_project, external_ids=[])
with connection.cursor() as cursor:
    cursor.execute(
        "EXPLAIN QUERY PLAN SELECT external_id, batch_id FROM annotation_item "
        "WHERE project_id = %s AND external_id IN (SELECT value FROM json_each(%s))", [sql_project.pk, json.dumps(ids)])
    out["plan"] = " | ".join(row[-1] for row in cursor.fetchall())
print("RESULT " + json.dumps(out))
"""


def _run_on_sqlite(tmp_path: Path, script: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_prepared_insert_stores_what_the_orm_stores_and_never_reuses_ids(tmp_path):
    # Given the same four text rows (JSON metadata, tags, gold labels, flags, MinHash bytes, a derived id),
    # written once by bulk_create and once by the SQLite prepared insert
    out = _run_on_sqlite(tmp_path, SCRIPT)

    # Then every column holds the same value with the same SQLite storage type
    assert len(out["sql"]) == 4
    assert out["sql"] == out["orm"]
    # and the timestamps are stored in the ORM's text format
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$")
    for row in out["sql_times"] + out["orm_times"]:
        assert row[:2] == ["text", "text"], row
        assert all(stamp.match(value) for value in row[2:]), row
    # and the tag rows are the same
    assert out["sql_tags"] == out["orm_tags"]
    assert ["rich", "mobile"] in out["sql_tags"]
    # and each item was given the id it is stored under
    assert sorted(out["pks"]) == out["db_pks"]
    # and an id freed by a delete is never handed out again, by this insert or by the ORM after it
    assert out["next_sql"] > out["deleted"]
    assert out["next_orm"] > out["next_sql"]


def test_existing_owners_on_sqlite_matches_the_orm_lookup_through_the_unique_index(tmp_path):
    # Given items in a project on SQLite (see SCRIPT), when existing_owners looks up known and unknown ids
    out = _run_on_sqlite(tmp_path, SCRIPT)

    # Then it finds what the ORM's external_id__in finds, nothing for no ids, and SQLite probes the unique index
    assert out["owners"] == out["owners_orm"]
    assert sorted(out["owners"]) == ["after delete", "plain", "rich"]
    assert out["owners_none"] == {}
    assert "USING INDEX sqlite_autoindex_annotation_item_1 (project_id=? AND external_id=?)" in out["plan"]
