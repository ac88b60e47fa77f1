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
if [ "${LABELGATE_DEMO:-1}" != 0 ]; then
  python manage.py labelgate_demo
fi

# Every child runs in a process group of its own (job control on), so a TERM or Ctrl-C sent to this script's
# group reaches only this script, which then stops each child itself: a Celery worker whose pool processes
# are killed by the same group signal loses them mid-shutdown and waits in warm shutdown.
set -m
pids=()
stopped=0
stop_children() {
  [ "$stopped" = 1 ] && return
  stopped=1
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + ${LABELGATE_STOP_TIMEOUT:-20}))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  done
  # Whatever is left of a child's group (a worker stuck in a task, an orphaned pool process) goes now; an
  # interrupted task is redelivered, as tasks are acknowledged only when they finish.
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

VAR_DIR="${LABELGATE_VAR_DIR:-$ROOT/var}"
# Two workers, so a job a person asked for never waits behind per-item work: one for user jobs (and the
# scheduler), one slot for the coalesced per-item passes that follow labels. A pool process is replaced after a
# task that left it holding more than LABELGATE_MAX_MEMORY_PER_CHILD KB (a job that loaded torch or
# scikit-learn), so that memory goes back to the machine instead of staying with an idle worker.
MAX_MEMORY_KB="${LABELGATE_MAX_MEMORY_PER_CHILD:-250000}"
# On SQLite the workers open a connection per task (the web keeps its connections, see config/settings.py): an
# import's page cache of up to 64 MiB then goes with its task instead of staying with an idle worker.
WORKER_CONN_MAX_AGE="${DB_CONN_MAX_AGE:-60}"
case "${DATABASE_URL:-sqlite}" in sqlite*) WORKER_CONN_MAX_AGE=0 ;; esac
DB_CONN_MAX_AGE="$WORKER_CONN_MAX_AGE" celery -A config worker -B --loglevel="${LOG_LEVEL:-WARNING}" --concurrency="${LABELGATE_WORKERS:-1}" \
  -Q "${LABELGATE_JOBS_QUEUE:-celery}" -n "jobs@%h" --schedule "$VAR_DIR/celerybeat-schedule" \
  --max-memory-per-child="$MAX_MEMORY_KB" --max-tasks-per-child="${LABELGATE_MAX_TASKS_PER_CHILD:-100}" &
pids+=($!)
DB_CONN_MAX_AGE="$WORKER_CONN_MAX_AGE" celery -A config worker --loglevel="${LOG_LEVEL:-WARNING}" --concurrency=1 \
  -Q "${LABELGATE_ITEMS_QUEUE:-items}" -n "items@%h" --max-memory-per-child="$MAX_MEMORY_KB" &
pids+=($!)
# --preload imports the app once in the master, so the web workers share its pages instead of each holding a copy.
gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}" --threads 4 --preload \
  --graceful-timeout 10 --access-logfile - --log-level warning &
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
