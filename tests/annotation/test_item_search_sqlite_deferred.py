"""On SQLite items are indexed for search by the next search, not as they are inserted: items imported since
the last search, edits before and after an item was indexed, deletes, repeated and concurrent searches. Each
case runs in a child process on a fresh, migrated SQLite file (the suite's database is PostgreSQL). Expected
values are written by hand."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SQLITE_SCRIPT = r"""
import json
import threading
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.db import connection, connections
from annotation.models import Item
from annotation.selectors import item_list
from annotation.services.projects import LabelSpec, project_create
from ingress.services.bulk import item_bulk_create

project = project_create(
    user=get_user_model().objects.create_user("deferred-manager"),
    name="deferred",
    task_type="text_classification",
    labels=[LabelSpec(value="a"), LabelSpec(value="b")],
)
out = {}

def found(query):
    return sorted(item_list(project=project, q=query).values_list("external_id", flat=True))

def fts_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT rowid) FROM annotation_item_fts")
        return list(cursor.fetchone())

item_bulk_create(project=project, rows=[
    {"external_id": "e1", "text": "an otter swims"},
    {"external_id": "e2", "text": "a heron waits", "tags": ["birds"]},
])
out["fts_after_first_import"] = fts_rows()
out["first_search"] = found("otter")
out["fts_after_first_search"] = fts_rows()

item_bulk_create(project=project, rows=[
    {"external_id": "e3", "text": "another otter dives"},
    {"external_id": "e4", "text": "a badger digs", "metadata": {"habitat": "woodland"}},
])
# e4 is edited before any search has indexed it, e2 after.
e4 = Item.objects.get(project=project, external_id="e4")
e4.text = "a marten climbs"
e4.save(update_fields=["text"])
e2 = Item.objects.get(project=project, external_id="e2")
e2.text = "a stork flies"
e2.save(update_fields=["text"])
out["imported_after_search"] = found("otter")
out["edited_before_indexing"] = {q: found(q) for q in ("badger", "marten", "woodland")}
out["edited_after_indexing"] = {q: found(q) for q in ("heron", "stork", "birds")}
found("otter")
found("otter")
out["fts_after_repeated_searches"] = fts_rows()

# e3 is deleted once indexed, e5 before it ever was.
item_bulk_create(project=project, rows=[{"external_id": "e5", "text": "an otter pup"}])
Item.objects.filter(project=project, external_id__in=["e3", "e5"]).delete()
out["after_deletes"] = found("otter")
out["fts_after_deletes"] = fts_rows()

# An item given back a used id, at or below the highest id indexed, is still found.
e1 = Item.objects.get(project=project, external_id="e1")
used_id = e1.id
e1.delete()
Item.objects.create(id=used_id, project=project, external_id="e6", text="a phoenix rises")
out["explicit_low_id"] = found("phoenix")

# Searches started together after an import index each new item once.
item_bulk_create(project=project, rows=[{"external_id": f"c{i}", "text": f"crowd {i}"} for i in range(3000)])
barrier = threading.Barrier(4)
counts = []

def search():
    barrier.wait()
    try:
        counts.append(item_list(project=project, q="crowd").count())
    finally:
        connections.close_all()

threads = [threading.Thread(target=search) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
out["concurrent_counts"] = counts
out["fts_after_concurrent"] = fts_rows()
out["items"] = Item.objects.count()
print("RESULT " + json.dumps(out))
"""


def test_items_are_indexed_by_the_next_search_on_sqlite(tmp_path):
    # Given a fresh embedded SQLite database, migrated
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    # When items are imported, edited, deleted and searched there in the order of the script
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1]
    )
    # Then an import writes nothing to the FTS5 table; the next search indexes it and finds it
    assert out["fts_after_first_import"] == [0, 0]
    assert out["first_search"] == ["e1"]
    assert out["fts_after_first_search"] == [2, 2]
    # items imported after a search are found by the next one
    assert out["imported_after_search"] == ["e1", "e3"]
    # an edit is searched by its new words whether it came before or after the item was indexed
    assert out["edited_before_indexing"] == {"badger": [], "marten": ["e4"], "woodland": ["e4"]}
    assert out["edited_after_indexing"] == {"heron": [], "stork": ["e2"], "birds": ["e2"]}
    # searching again indexes nothing twice: one FTS5 row per item (e1-e4)
    assert out["fts_after_repeated_searches"] == [4, 4]
    # deleted items disappear, indexed or not, and leave no FTS5 row behind (e1, e2, e4 remain)
    assert out["after_deletes"] == ["e1"]
    assert out["fts_after_deletes"] == [3, 3]
    assert out["explicit_low_id"] == ["e6"]
    # four searches at once find all 3,000 new items, each indexed once
    assert out["concurrent_counts"] == [3000, 3000, 3000, 3000]
    assert out["items"] == 3 + 3000
    assert out["fts_after_concurrent"] == [3003, 3003]
