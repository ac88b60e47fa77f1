"""On the embedded default (SQLite) the queue's pick walks the partial queue index instead of sorting every open
item: SQLite only uses a partial index when the query repeats its condition with literal values."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from annotation.models import Membership, Role
from ingress.services.bulk import item_bulk_create
from annotation.services.projects import LabelSpec, project_create
from annotation.services.queue import pick_statement
manager = get_user_model().objects.create_user("m", password="manager-pass-1")
project = project_create(user=manager, name="p", task_type="text_classification",
                         labels=[LabelSpec(value="a"), LabelSpec(value="b")], annotations_per_item=3)
item_bulk_create(project=project, rows=[{"external_id": f"t{i}", "text": f"text {i}"} for i in range(200)])
annotator = get_user_model().objects.create_user("a", password="annotator-pass-1")
Membership.objects.create(user=annotator, project=project, role=Role.ANNOTATOR)
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
    for gold in (False, True):
        sql, params = pick_statement(project=project, user=annotator, now=timezone.now(), gold=gold)
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        print("PLAN", gold, " | ".join(row[-1] for row in cursor.fetchall()))
"""


def test_the_pick_uses_the_partial_queue_index_on_sqlite(tmp_path):
    # Given a fresh embedded (SQLite) database with a project of 200 open items, analysed
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    # When SQLite plans the queue's pick, for regular and for gold items
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    plans = [line for line in done.stdout.splitlines() if line.startswith("PLAN")]
    # Then both walk item_queue_open_idx in order: no scan of the table, no sort of every open item
    assert len(plans) == 2, done.stdout
    for plan in plans:
        assert "item_queue_open_idx" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
