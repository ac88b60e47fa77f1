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
