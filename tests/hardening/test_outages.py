"""Service outages: Redis or PostgreSQL goes away while people work; no label is lost, service comes back alone.

Both tests stop the throwaway servers scripts/test.sh started (it exports LABELGATE_TEST_REDIS_PORT and
LABELGATE_TEST_PG_*); a broker or database given by the user is never stopped, those runs skip.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.error import HTTPError

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotation.models import Annotation, Assignment, AssignmentState, Item, ItemStatus, Role
from core import jobs
from core.models import Job, JobStatus
from tests.conftest import ROOT, database_url_for_test_db, wait_for_job
from tests.factories import add_items, add_member, make_project

REDIS_PORT = os.environ.get("LABELGATE_TEST_REDIS_PORT", "")
PG_CTL = os.environ.get("LABELGATE_TEST_PG_CTL", "")
PG_DATA = os.environ.get("LABELGATE_TEST_PG_DATA", "")
PG_OPTS = os.environ.get("LABELGATE_TEST_PG_OPTS", "")
UNAVAILABLE = {"detail": "The database is temporarily unavailable; nothing was changed. Retry shortly."}


def poll(predicate, *, deadline_seconds: float, what: str) -> None:
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} not reached in {deadline_seconds}s")


# --- Redis ------------------------------------------------------------


def redis_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", "-p", REDIS_PORT, *args], capture_output=True, text=True, timeout=30)


def redis_alive() -> bool:
    return redis_cli("ping").stdout.strip() == "PONG"


def redis_start() -> None:
    """Start Redis again on the same port with scripts/test.sh's flags (its cleanup stops it by port)."""
    if redis_alive():
        return
    subprocess.run(
        [
            "redis-server",
            "--port",
            REDIS_PORT,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    poll(redis_alive, deadline_seconds=15, what="Redis answering PING")


VOTES = [["pos", "pos", "neg"], ["neg", "neg", "neg"]]


@pytest.mark.worker
@pytest.mark.skipif(
    not REDIS_PORT, reason="needs the throwaway Redis of scripts/test.sh (LABELGATE_TEST_REDIS_PORT)"
)
def test_labels_submitted_while_redis_is_down_are_stored_and_the_queued_job_runs_when_it_returns(worker, api):
    # Given a project (k=3, no adaptive extra votes) with two items, three annotators, a reviewer, the worker
    project = make_project(k=3, consensus_method="majority_vote", max_annotations_per_item=3)
    add_items(project, len(VOTES))
    item_ids = Item.objects.filter(project=project).order_by("id").values_list("pk", flat=True)
    position = {pk: i for i, pk in enumerate(item_ids)}
    annotators = [add_member(project) for _ in range(3)]
    reviewer = add_member(project, Role.REVIEWER)
    # (a job run first, so the worker is connected when Redis stops and must notice the loss and reconnect)
    with transaction.atomic():
        warm_up = jobs.job_create(kind="selftest", task_name="annotation.selftest", params={"steps": 1})
    assert wait_for_job(warm_up.pk, worker=worker).status == JobStatus.SUCCEEDED
    submitted: dict[str, int] = {}  # client_id -> HTTP status
    slowest = 0.0
    try:
        # When Redis stops
        redis_cli("shutdown", "nosave")
        assert not redis_alive()
        # And every annotator takes work and submits until the queue is empty (items reaching k fire hooks)
        for column, user in enumerate(annotators):
            client = api(user)
            for _ in range(len(VOTES) + 1):
                served = client.get(f"/api/projects/{project.pk}/next/")
                if served.status_code != 200:
                    break
                item_id = served.json()["item"]["id"]
                client_id = str(uuid.uuid4())
                started = time.monotonic()
                response = client.post(
                    f"/api/projects/{project.pk}/annotations/",
                    {"item": item_id, "label": VOTES[position[item_id]][column], "client_id": client_id},
                    format="json",
                )
                slowest = max(slowest, time.monotonic() - started)
                submitted[client_id] = response.status_code
            assert served.status_code == 204
        # And a reviewer starts a quality run
        started_run = api(reviewer).post(
            f"/api/projects/{project.pk}/quality-runs/", {"n_boot": 20}, format="json"
        )
        job_id = started_run.json()["job"]
        job_seen = api(reviewer).get(f"/api/jobs/{job_id}/").json()
    finally:
        redis_start()
    print(f"slowest submission while Redis was down: {slowest:.2f} s")
    # Then every submission was accepted and stored, each exactly once
    assert list(submitted.values()) == [201] * 6, submitted
    assert set(Annotation.objects.filter(project=project).values_list("client_id", flat=True)) == {
        uuid.UUID(key) for key in submitted
    }
    assert set(Item.objects.filter(project=project).values_list("status", "annotation_count")) == {
        (ItemStatus.LABELLED, 3)
    }
    # And the job was accepted, stays queued and says why
    assert started_run.status_code == 202, started_run.json()
    assert (job_seen["status"], job_seen["message"]) == (
        "queued",
        "Waiting for the task broker; it will be sent when it is back.",
    )
    assert Job.objects.get(pk=job_id).enqueued_at is None
    # When Redis is back and the periodic sweep runs
    swept = jobs.jobs_sweep(now=timezone.now() + timedelta(minutes=2))
    # Then it re-sends the job, the reconnected worker runs it, and the run catches up the per-item consensus
    # whose hook messages were lost during the outage
    assert swept["resent"] == 1, swept
    done = wait_for_job(job_id, worker=worker)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["n_annotations"] == 6
    consensus = dict(Item.objects.filter(project=project).values_list("pk", "consensus_label"))
    assert {position[pk]: label for pk, label in consensus.items()} == {0: "pos", 1: "neg"}


# --- PostgreSQL -------------------------------------------------------


def pg_ctl(*args: str) -> subprocess.CompletedProcess:
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    command = [*as_owner, PG_CTL, "-D", PG_DATA, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def pg_stop() -> None:
    stopped = pg_ctl("-m", "fast", "-w", "stop")
    assert stopped.returncode == 0, stopped.stderr


def pg_start() -> None:
    if pg_ctl("status").returncode == 0:
        return
    started = pg_ctl("-l", f"{PG_DATA}/log", "-w", "-o", PG_OPTS, "start")
    assert started.returncode == 0, started.stderr


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


HTTP = urllib.request.build_opener(NoRedirect)


def call(url: str, *, token: str = "", body: dict | None = None, cookie: str = "") -> tuple[int, dict, dict]:
    """One HTTP request to the web process: (status, JSON body or {}, headers); times out, never hangs."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if cookie:
        headers["Cookie"] = cookie
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with HTTP.open(request, timeout=30) as response:
            status, raw, response_headers = response.status, response.read(), dict(response.headers)
    except HTTPError as error:
        status, raw, response_headers = error.code, error.read(), dict(error.headers)
    is_json = response_headers.get("Content-Type", "").startswith("application/json") and raw
    return status, json.loads(raw) if is_json else {}, response_headers


def gunicorn_workers(master_pid: int) -> list[str]:
    try:
        return Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []


@pytest.fixture
def web(transactional_db, tmp_path):
    """A real gunicorn web process (one sync worker) on the test database. It keeps its connection between
    requests as production does (CONN_MAX_AGE), so a connection a restart killed must be noticed, replaced."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DB_CONN_MAX_AGE": "600",
    }
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            return call(f"{url}/healthz/")[0] == 200
        except OSError:
            return False

    try:
        poll(ready, deadline_seconds=60, what="gunicorn serving /healthz/")
        yield {"url": url, "pid": proc.pid, "log": log_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.skipif(
    not (PG_CTL and PG_DATA and PG_OPTS),
    reason="needs the throwaway PostgreSQL of scripts/test.sh (LABELGATE_TEST_PG_*); "
    "a DATABASE_URL given by the user is never stopped",
)
def test_a_postgres_restart_gives_clear_503s_applies_nothing_and_service_resumes_without_a_restart(web):
    # Given an annotator holding a lease on an item, and a web process whose DB connection is open
    project = make_project(k=3)
    add_items(project, 2)
    annotator = add_member(project)
    token = Token.objects.create(user=annotator).key
    base, pid = web["url"], project.pk
    status, served, _ = call(f"{base}/api/projects/{pid}/next/", token=token)
    assert status == 200, served
    item_id = served["item"]["id"]
    workers = gunicorn_workers(web["pid"])
    assert len(workers) == 1
    body = {"item": item_id, "label": "pos", "client_id": str(uuid.uuid4())}
    page = {"cookie": "sessionid=" + "x" * 32}  # a (stale) session: loading it needs the database

    def requests_now() -> dict:
        return {
            "read": call(f"{base}/api/projects/{pid}/", token=token),
            "submit": call(f"{base}/api/projects/{pid}/annotations/", token=token, body=body),
            "page": call(f"{base}/projects/{pid}/", **page),
            "health": call(f"{base}/healthz/"),
        }

    try:
        # When PostgreSQL restarts while nobody is calling
        pg_stop()
        pg_start()
        # Then the first request after it is served: the web process noticed its dead connection
        assert call(f"{base}/api/projects/{pid}/", token=token)[0] == 200, web["log"].read_text()[-3000:]
        # When PostgreSQL is down and the annotator reads, submits and opens a page
        pg_stop()
        during = requests_now()
    finally:
        pg_start()
        connection.close()  # this test's own connection died with the server; the next query reconnects
    # Then every request got a clear 503 with Retry-After, not a 500 and not a hang
    for name in ("read", "submit", "page"):
        status, payload, headers = during[name]
        assert (status, payload, headers.get("Retry-After")) == (503, UNAVAILABLE, "5"), (name, during[name])
    assert during["health"][:2] == (503, {"status": "database unavailable"})
    # And the submission was not applied, not even in part: no row, counters untouched, the lease still held
    assert not Annotation.objects.filter(client_id=body["client_id"]).exists()
    assert Item.objects.get(pk=item_id).annotation_count == 0
    assert Assignment.objects.get(item_id=item_id, annotator=annotator).state == AssignmentState.ACTIVE
    # When the same requests are repeated after PostgreSQL is back
    after = requests_now()
    # Then they succeed from the same web process, and the retried submission is stored once and complete
    assert after["read"][0] == 200, after["read"]
    assert after["submit"][0] == 201, after["submit"]
    assert after["page"][0] == 302 and after["page"][2]["Location"].startswith("/login/")
    assert after["health"][:2] == (200, {"status": "ok"})
    assert gunicorn_workers(web["pid"]) == workers
    stored = Annotation.objects.get(client_id=body["client_id"])
    assert (stored.item_id, stored.annotator_id, stored.labels, stored.is_live) == (
        item_id,
        annotator.pk,
        ["pos"],
        True,
    )
    assert stored.assignment_id == Assignment.objects.get(item_id=item_id, annotator=annotator).pk
    assert Item.objects.get(pk=item_id).annotation_count == 1
    assert Assignment.objects.get(item_id=item_id, annotator=annotator).state == AssignmentState.DONE
