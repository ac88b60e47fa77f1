#!/usr/bin/env bash
# Back up Labelgate: the database and MEDIA_ROOT into one new directory.
#   bash scripts/backup.sh [OUT_DIR]        (default: backups/labelgate-<UTC timestamp>)
# Reads DATABASE_URL and MEDIA_ROOT like the app; without them, the embedded SQLite database and media under
# LABELGATE_VAR_DIR (default ./var). PostgreSQL is dumped with pg_dump -Fc (one consistent snapshot, no owners
# or grants, so it restores into any role's database); SQLite is copied with the online-backup API. The
# directory holds database.pgdump or database.sqlite3, media.tar, manifest.txt and SHA256SUMS; it is written
# as OUT_DIR.partial and renamed at the end, so a directory named OUT_DIR is always complete.
# The database is dumped BEFORE the media are archived: media files are stored before the rows that
# reference them commit, so every file the dump references is already on disk when tar runs.
# Restore with scripts/restore.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/backup_common.sh"

OUT="${1:-$ROOT/backups/labelgate-$(date -u +%Y%m%dT%H%M%SZ)}"
[ -e "$OUT" ] && die "$OUT already exists"
ENGINE="$(db_engine "$DB_URL")"
WORK="$OUT.partial"
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT  # only a failed run leaves it; a complete one has been renamed

if [ "$ENGINE" = postgresql ]; then
  DB_FILE=database.pgdump
  "$(pg_tool pg_dump)" --format=custom --no-owner --no-privileges --file="$WORK/$DB_FILE" --dbname="$(libpq_url "$DB_URL")"
else
  DB_FILE=database.sqlite3
  sqlite_copy "$(sqlite_path "$DB_URL")" "$WORK/$DB_FILE"
fi

if [ -d "$MEDIA_DIR" ]; then
  tar -C "$MEDIA_DIR" -cf "$WORK/media.tar" .
else
  tar -cf "$WORK/media.tar" -T /dev/null
fi

{
  echo "format=$BACKUP_FORMAT"
  echo "created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "engine=$ENGINE"
  echo "database_file=$DB_FILE"
  echo "media_file=media.tar"
  echo "media_files=$(tar -tf "$WORK/media.tar" | grep -cv '/$' || true)"
  echo "code_revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
} >"$WORK/manifest.txt"
(cd "$WORK" && sha256sum "$DB_FILE" media.tar manifest.txt >SHA256SUMS)

mv "$WORK" "$OUT"
echo "backup written to $OUT ($ENGINE database, $(grep media_files "$OUT/manifest.txt" | cut -d= -f2) media files)"
