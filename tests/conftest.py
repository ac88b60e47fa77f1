"""Suite-wide fixtures: a real Celery worker process on the test database, headless Chromium, API clients."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_test_db() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    auth = quote(cfg["USER"] or "")
    if cfg.get("PASSWORD"):
        auth += ":" + quote(cfg["PASSWORD"])
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{cfg['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` subprocess bound to the test database; restartable (hardening tests kill it).

    ``queues``: what it consumes, as ``-Q`` takes it; the suite runs one for the jobs queue (the one hardening
    tests kill) and a one-slot one for the per-item queue, as ``scripts/run.sh`` does."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        queues: str = "",
        concurrency: int = 2,
        name: str = "test",
    ):
        self.env = env
        self.log_path = log_path
        self.queues = queues
        self.concurrency = concurrency
        self.name = name
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the subprocess for its lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.name}-{os.getpid()}@%h",
                *(["-Q", self.queues] if self.queues else []),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[WorkerProcess]:
    env = os.environ.copy()
    with django_db_blocker.unblock():
        env["DATABASE_URL"] = database_url_for_test_db()
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["LABELGATE_JOB_STALE_SECONDS"] = os.environ.get("LABELGATE_JOB_STALE_SECONDS", "300")
    from django.conf import settings

    worker = WorkerProcess(
        env,
        tmp_path_factory.mktemp("worker") / "worker.log",
        queues=settings.LABELGATE_JOBS_QUEUE,
        name="test",
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def celery_items_worker_process(celery_worker_process, tmp_path_factory) -> Iterator[WorkerProcess]:
    """The per-item queue's worker (one slot, like the embedded default's)."""
    from django.conf import settings

    worker = WorkerProcess(
        celery_worker_process.env,
        tmp_path_factory.mktemp("worker") / "items.log",
        queues=settings.LABELGATE_ITEMS_QUEUE,
        concurrency=1,
        name="test-items",
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process, celery_items_worker_process, transactional_db) -> Iterator[WorkerProcess]:
    """The real worker; tests using it commit their data (transactional_db) so the worker can see it.

    After the test, waits (bounded) until the worker has nothing queued or running: a task still running
    would hold locks on tables the test's teardown truncates (a deadlock) or write into the next test."""
    for process in (celery_worker_process, celery_items_worker_process):
        if process.proc is None or process.proc.poll() is not None:
            process.start()
    yield celery_worker_process
    if celery_worker_process.proc is not None and celery_worker_process.proc.poll() is None:
        wait_until_worker_idle()


@contextmanager
def queue_held(queue: str) -> Iterator[None]:
    """The workers that consume ``queue`` stop taking its tasks until the block ends (they wait in the broker).

    Only those workers are told, by name: a broadcast ``add_consumer`` would make every worker consume the queue
    afterwards (the per-item worker would start taking jobs, and a test that kills the jobs worker would see its
    job run anyway)."""
    from config.celery import app

    replies = app.control.inspect(timeout=10).active_queues() or {}
    owners = [name for name, queues in replies.items() if any(q["name"] == queue for q in queues)]
    assert owners, f"no worker consumes {queue!r}"
    assert app.control.cancel_consumer(queue, destination=owners, reply=True, timeout=10)
    try:
        yield
    finally:
        app.control.add_consumer(queue, destination=owners, reply=True, timeout=10)


def wait_until_worker_idle(deadline_seconds: float = 60.0) -> None:
    from django.conf import settings

    from config.celery import app

    broker = app.conf.broker_url or ""
    if not broker.startswith("redis"):
        return
    import redis

    client = redis.Redis.from_url(broker)
    end = time.monotonic() + deadline_seconds
    idle_polls = 0
    while time.monotonic() < end:
        if _worker_holds_nothing(
            app, client, (settings.LABELGATE_JOBS_QUEUE, settings.LABELGATE_ITEMS_QUEUE)
        ):
            idle_polls += 1
            # A task can finish and enqueue its follow-up between two of the reads below; a second idle poll in
            # a row sees that follow-up.
            if idle_polls == 2:
                return
        else:
            idle_polls = 0
        time.sleep(0.2)


def _worker_holds_nothing(app, client, queues) -> bool:
    """True when the broker queues are empty and every worker that answers holds no task: none running
    (active), none fetched ahead and waiting for a free slot (reserved: with prefetching a worker takes tasks
    off the broker before it can start them) and none waiting for its countdown (scheduled: a per-item pass).

    Read upstream first (broker, then reserved/scheduled, then active) so a task moving along is seen at one
    of the stages. No answer from the workers is not taken for idle."""
    if sum(client.llen(queue) for queue in queues):
        return False
    inspect = app.control.inspect(timeout=1.0)
    replies = [inspect.reserved(), inspect.scheduled(), inspect.active()]
    # A worker missing from one answer (slow to reply) could be holding tasks: only the same answering workers
    # in all three count.
    if any(not reply for reply in replies) or len({frozenset(reply) for reply in replies}) != 1:
        return False
    return not any(tasks for reply in replies for tasks in reply.values())


PARKED_QUEUE = "labelgate-test-parked"


@pytest.fixture(autouse=True)
def _park_tasks_unless_the_test_uses_the_worker(request, monkeypatch):
    """The real worker is session-wide: once started it would also run the tasks that tests which never asked
    for it enqueue, racing their assertions ("the job is still queued") and their database teardown. Those
    tests' tasks still go to the real broker, but to a queue no worker consumes."""
    if "worker" in request.fixturenames:
        return
    from config.celery import app

    send_task = app.send_task

    def parked(name, args=None, kwargs=None, **options):
        options["queue"] = PARKED_QUEUE
        return send_task(name, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(app, "send_task", parked)


def wait_for_job(job_id, *, deadline_seconds: float = 180.0, worker: WorkerProcess | None = None):
    """Poll the Job row until it is terminal; fails with the worker's log tail when the deadline passes."""
    from core.models import Job

    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        job = Job.objects.get(pk=job_id)
        if job.is_terminal:
            return job
        time.sleep(0.2)
    tail = worker.log_tail() if worker else ""
    pytest.fail(f"job {job_id} did not finish in {deadline_seconds}s (status {job.status}).\n{tail}")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}; scripts/test.sh installs it with apt.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def media_roots(settings, tmp_path) -> dict[str, Path]:
    """Isolated MEDIA_ROOT and the file_url import root inside the test's temporary directory."""
    media = tmp_path / "media"
    allowed = tmp_path / "import"
    media.mkdir()
    allowed.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.LABELGATE_IMPORT_ROOTS = [str(allowed)]
    return {"media": media, "import": allowed, "tmp": tmp_path}


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("LABELGATE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def api():
    """An APIClient factory: api(user) returns a client authenticated with that user's token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs ~0.3 s per user; tests create hundreds of users and never need strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    for item in items:
        if on_sqlite and "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
