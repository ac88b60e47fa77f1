#!/usr/bin/env bash
# Run Labelgate on this machine with the embedded default: SQLite (WAL) + a Celery worker on a filesystem
# broker. Installs what is missing, migrates, loads the demo projects, starts web + worker, prints the logins.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/bootstrap.sh ""
export DJANGO_SETTINGS_MODULE=config.settings
HOST="${LABELGATE_HOST:-127.0.0.1}"
PORT="${LABELGATE_PORT:-8000}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,$HOST}"

python manage.py migrate --noinput -v0
python manage.py collectstatic --noinput -v0
python manage.py labelgate_demo

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Two workers, so a job a person asked for never waits behind per-item work: one for user jobs (and the
# scheduler), one slot for the coalesced per-item passes that follow labels.
celery -A config worker -B --loglevel="${LOG_LEVEL:-WARNING}" --concurrency="${LABELGATE_WORKERS:-2}" \
  -Q "${LABELGATE_JOBS_QUEUE:-celery}" -n "jobs@%h" \
  --schedule "${LABELGATE_VAR_DIR:-$ROOT/var}/celerybeat-schedule" &
pids+=($!)
celery -A config worker --loglevel="${LOG_LEVEL:-WARNING}" --concurrency=1 \
  -Q "${LABELGATE_ITEMS_QUEUE:-items}" -n "items@%h" &
pids+=($!)
gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-3}" --threads 4 \
  --access-logfile - --log-level warning &
pids+=($!)

cat <<MSG

  Labelgate is running:  http://$HOST:$PORT/
  API docs:              http://$HOST:$PORT/api/docs/

  Demo logins (password for all: labelgate-demo)
    manager     manager   (manages the demo projects; also Django admin at /admin/)
    annotators  alice, bob, carol

  Ctrl-C stops web and worker.
MSG
wait -n "${pids[@]}"
