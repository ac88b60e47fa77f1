"""The embedded default's SQLite connections are opened with the settings the app relies on (WAL, IMMEDIATE
transactions, a bounded page cache), read back from SQLite itself in a child process with DATABASE_URL unset."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json
import django
django.setup()
from django.db import connection, transaction
out = {}
with connection.cursor() as cursor:
    for name in ("journal_mode", "synchronous", "busy_timeout", "cache_size", "temp_store", "foreign_keys"):
        cursor.execute(f"PRAGMA {name}")
        out[name] = cursor.fetchone()[0]
import sqlite3
with transaction.atomic():
    # Begun IMMEDIATE, a transaction holds the write lock before its first statement: another connection
    # cannot start writing (the item insert relies on this to reserve ids).
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        out["other_writer"] = "began"
        other.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        out["other_writer"] = str(exc)
    other.close()
out["vendor"] = connection.vendor
print("RESULT " + json.dumps(out))
"""


def test_embedded_sqlite_connections_use_wal_normal_sync_and_a_64_mib_page_cache(tmp_path):
    # Given the embedded default (no DATABASE_URL), when a connection is opened and its pragmas read back
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1]
    )

    # Then SQLite reports what the settings asked for
    assert out["vendor"] == "sqlite"
    assert out["journal_mode"] == "wal"
    assert out["synchronous"] == 1  # NORMAL
    assert out["busy_timeout"] == 30_000
    assert out["cache_size"] == -65_536  # KiB: 64 MiB at most, per connection
    assert out["temp_store"] == 2  # MEMORY
    assert out["foreign_keys"] == 1
    assert out["other_writer"] == "database is locked"


KEEP_SCRIPT = r"""
import json
import django
django.setup()
from django.core.signals import request_finished, request_started
from django.db import connection
out = {}
for request in range(2):
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    out[f"handle_{request}"] = id(connection.connection)
    request_finished.send(sender=None)
out["open_after_request"] = connection.connection is not None
print("RESULT " + json.dumps(out))
"""


def _run_embedded(tmp_path, script: str, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LABELGATE_", "CELERY_", "DB_"))
    }
    env.pop("DATABASE_URL", None)
    env.update(
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1]
    )


def test_embedded_sqlite_connection_outlives_a_request_so_the_schema_is_not_parsed_per_request(tmp_path):
    # Given the embedded default with no DB_CONN_MAX_AGE, when two requests run one after the other
    out = _run_embedded(tmp_path, KEEP_SCRIPT)

    # Then the second request uses the first one's connection, still open after it
    assert out["open_after_request"] is True
    assert out["handle_0"] == out["handle_1"]


def test_embedded_sqlite_connection_closes_after_each_request_with_conn_max_age_zero(tmp_path):
    # Given DB_CONN_MAX_AGE=0 (what run.sh gives its workers on SQLite), when a request finishes
    out = _run_embedded(tmp_path, KEEP_SCRIPT, DB_CONN_MAX_AGE="0")

    # Then its connection is closed
    assert out["open_after_request"] is False
