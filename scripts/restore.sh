#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and an empty (or missing) media directory.
#   DATABASE_URL=postgres://.../labelgate_new MEDIA_ROOT=/srv/labelgate/media bash scripts/restore.sh BACKUP_DIR
# Targets are read like the app reads them (DATABASE_URL, MEDIA_ROOT, else the embedded defaults under
# LABELGATE_VAR_DIR). Checks the SHA-256 sums and that both targets are empty before writing anything, so it
# never overwrites a live installation. PostgreSQL: create the database first (createdb, or
# CREATE DATABASE ... in psql); the restore runs in one transaction. SQLite: the file must not exist yet.
# Afterwards: python manage.py migrate (a no-op for the same code version) and
# python manage.py verify_dataset_checksums (every dataset version must verify).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/backup_common.sh"

SRC="${1:-}"
[ -n "$SRC" ] && [ -f "$SRC/manifest.txt" ] || die "usage: restore.sh BACKUP_DIR (a directory written by backup.sh)"
(cd "$SRC" && sha256sum --quiet -c SHA256SUMS) || die "checksum mismatch in $SRC: the backup is damaged"
manifest() { grep "^$1=" "$SRC/manifest.txt" | cut -d= -f2-; }
[ "$(manifest format)" = "$BACKUP_FORMAT" ] || die "unknown backup format $(manifest format)"
ENGINE="$(manifest engine)"
DB_FILE="$(manifest database_file)"
[ "$(db_engine "$DB_URL")" = "$ENGINE" ] || die "the backup holds a $ENGINE database; DATABASE_URL is $(db_engine "$DB_URL")"

# Preconditions first: nothing is written unless both targets are empty.
if [ "$ENGINE" = postgresql ]; then
  PG_URL="$(libpq_url "$DB_URL")"
  tables="$("$(pg_tool psql)" -XAtq --dbname="$PG_URL" -c \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'")"
  [ "$tables" = 0 ] || die "the target database is not empty ($tables relations in schema public)"
else
  DB_PATH="$(sqlite_path "$DB_URL")"
  [ ! -s "$DB_PATH" ] || die "$DB_PATH exists and is not empty"
fi
if [ -d "$MEDIA_DIR" ] && [ -n "$(ls -A "$MEDIA_DIR")" ]; then die "$MEDIA_DIR is not empty"; fi

if [ "$ENGINE" = postgresql ]; then
  "$(pg_tool pg_restore)" --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$PG_URL" "$SRC/$DB_FILE"
else
  mkdir -p "$(dirname "$DB_PATH")"
  sqlite_copy "$SRC/$DB_FILE" "$DB_PATH"
fi
mkdir -p "$MEDIA_DIR"
tar -C "$MEDIA_DIR" --no-same-owner -xf "$SRC/media.tar"

echo "restored $ENGINE database and $(manifest media_files) media files from $SRC"
echo "next: python manage.py migrate && python manage.py verify_dataset_checksums"
