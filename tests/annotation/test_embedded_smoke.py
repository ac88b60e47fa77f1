"""The embedded default (SQLite + filesystem broker, no server) runs a background job to completion."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.worker


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def job_row(db_path: Path, job_id: str) -> tuple[str, str | None, float] | None:
    with sqlite3.connect(db_path, timeout=30) as conn:
        return conn.execute(
            "SELECT status, result, progress FROM core_job WHERE id = ?", (uuid.UUID(job_id).hex,)
        ).fetchone()


def test_embedded_default_runs_a_job_to_completion(tmp_path):
    # Given a fresh embedded install: migrated SQLite database and a worker on the filesystem broker
    env = embedded_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"embedded-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # When a self-test job is created from the command line
        job_id = (
            manage(env, "labelgate_selftest", "--steps", "3", "--echo", "embedded").strip().splitlines()[-1]
        )
        # Then the worker runs it to success (polled with a deadline, not slept on)
        deadline = time.monotonic() + 180
        row = job_row(tmp_path / "db.sqlite3", job_id)
        while time.monotonic() < deadline and (row is None or row[0] not in ("succeeded", "failed")):
            assert worker.poll() is None, f"worker exited:\n{log_path.read_text(errors='replace')[-4000:]}"
            time.sleep(0.2)
            row = job_row(tmp_path / "db.sqlite3", job_id)
        tail = log_path.read_text(errors="replace")[-4000:]
        assert row is not None and row[0] == "succeeded", f"job {job_id}: {row}\n{tail}"
        assert json.loads(row[1]) == {"steps": 3, "echo": "embedded"}
        assert row[2] == 1.0
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=20)
