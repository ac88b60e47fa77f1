#!/usr/bin/env bash
# Run the whole test suite against real services: PostgreSQL (psycopg 3), Redis, a real Celery worker
# process (started by the suite) and headless Chromium. Installs what is missing (apt, pip) and starts
# throwaway PostgreSQL/Redis instances on free ports unless DATABASE_URL / CELERY_BROKER_URL are given.
# Extra arguments go to pytest, e.g.  bash scripts/test.sh tests/quality -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
[ -e /usr/lib/x86_64-linux-gnu/libsndfile.so.1 ] || need_apt+=(libsndfile1)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

source scripts/bootstrap.sh test

# axe-core (package-lock.json pins it) for the accessibility checks of the browser tests; without npm those
# checks skip and say why.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> npm ci (axe-core)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  echo "==> npm not found: the axe-core accessibility checks will be skipped"
fi
source scripts/hf_venv.sh

WORK="$(mktemp -d /tmp/labelgate-test.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  if [ -n "${PG_STARTED:-}" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -n "${REDIS_PID:-}" ]; then kill "$REDIS_PID" 2>/dev/null || true; fi
  # tests/hardening/test_outages.py restarts Redis as a daemon on the same port: stop that one too.
  if [ -n "${REDIS_PORT:-}" ]; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

if [ -z "${DATABASE_URL:-}" ]; then
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  PGPORT="$(free_port)"
  mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust -U labelgate --no-sync >/dev/null
  PG_OPTS="-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/log" -w -o "$PG_OPTS" start >/dev/null
  PG_STARTED=1
  # What tests/hardening/test_outages.py needs to stop and restart this throwaway server (never a given one).
  export LABELGATE_TEST_PG_CTL="$PGBIN/pg_ctl" LABELGATE_TEST_PG_DATA="$WORK/pg" LABELGATE_TEST_PG_OPTS="$PG_OPTS"
  export DATABASE_URL="postgres://labelgate@127.0.0.1:$PGPORT/postgres"
  echo "==> PostgreSQL on port $PGPORT"
fi
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  REDIS_PORT="$(free_port)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export LABELGATE_TEST_REDIS_PORT="$REDIS_PORT"  # the outage tests may stop and restart this throwaway Redis
  echo "==> Redis on port $REDIS_PORT"
fi
export LABELGATE_VAR_DIR="$WORK/var"
export MEDIA_ROOT="$WORK/media"
export LABELGATE_TEST_ARTIFACTS="${LABELGATE_TEST_ARTIFACTS:-$ROOT/test-artifacts}"
export PLAYWRIGHT_CHROMIUM_EXECUTABLE="${PLAYWRIGHT_CHROMIUM_EXECUTABLE:-/usr/bin/chromium}"
export DJANGO_ALLOW_ASYNC_UNSAFE=true
export PYTHONDONTWRITEBYTECODE=1

echo "==> ruff"
ruff check . --quiet
ruff format --check . --quiet
echo "==> mypy"
mypy
echo "==> pytest"
set +e
python -m pytest "$@"
status=$?
set -e
exit $status
