#!/usr/bin/env bash
# Shared by backup.sh and restore.sh (sourced, not run): resolve the database and media locations exactly as
# config/settings.py does, and find the tools.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR_DIR="${LABELGATE_VAR_DIR:-$ROOT/var}"
DB_URL="${DATABASE_URL:-sqlite:///$VAR_DIR/labelgate.sqlite3}"
MEDIA_DIR="${MEDIA_ROOT:-$VAR_DIR/media}"
PY="${LABELGATE_VENV:-$ROOT/.venv}/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
BACKUP_FORMAT=1

die() { echo "error: $*" >&2; exit 2; }

# postgresql | sqlite (the schemes dj-database-url accepts for them)
db_engine() {
  case "$1" in
    postgres://* | postgresql://* | pgsql://* | postgis://*) echo postgresql ;;
    sqlite://*) echo sqlite ;;
    *) die "unsupported DATABASE_URL scheme: ${1%%://*} (PostgreSQL or SQLite only)" ;;
  esac
}

# libpq understands only postgres:// and postgresql:// URIs.
libpq_url() { echo "postgresql://${1#*://}"; }

# sqlite:////abs/path -> /abs/path ; sqlite:///rel -> rel (as dj-database-url reads it)
sqlite_path() {
  local rest="${1#sqlite://}"
  rest="${rest%%\?*}"
  echo "${rest#/}"
}

# The newest PostgreSQL client tools: the dump must come from a pg_dump at least as new as the server.
pg_tool() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/$1" ]; then echo "$dir/$1"; else command -v "$1" || die "$1 not found"; fi
}

# Copy an SQLite database with the online-backup API: consistent even while the app writes (WAL), and the
# copy is one self-contained file (journal_mode=DELETE). Refuses to write into a non-empty target.
sqlite_copy() {
  "$PY" - "$1" "$2" <<'PY'
import os
import sqlite3
import sys

source, target = sys.argv[1], sys.argv[2]
if not os.path.isfile(source):
    sys.exit(f"error: no SQLite database at {source}")
if os.path.exists(target) and os.path.getsize(target) > 0:
    sys.exit(f"error: {target} exists and is not empty")
src = sqlite3.connect(source, timeout=30)
dst = sqlite3.connect(target)
src.backup(dst)
src.close()
dst.execute("PRAGMA journal_mode=DELETE")
check = dst.execute("PRAGMA integrity_check").fetchone()[0]
dst.close()
if check != "ok":
    sys.exit(f"error: integrity check of {target} failed: {check}")
PY
}
