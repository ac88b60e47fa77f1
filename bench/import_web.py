"""Import, web side: peak RSS of the gunicorn worker while it receives a large upload through the REST API.

    python bench/import_web.py [--rows 100000] [--images 5000] [--big-mb 1024] [--threads 1]

For each file (a 100,000-row text CSV, a zip of 5,000 images and a CSV of ``--big-mb`` MB; 0 disables one)
a fresh gunicorn (one worker) is started on a throwaway PostgreSQL, warmed up with a GET, and the file is
POSTed to ``/api/projects/<pid>/imports/`` as multipart ``file``, streamed from disk in 1 MB blocks, so the
bench process never holds it in memory. The worker's ``VmHWM`` (/proc/<pid>/status) before and after the
upload gives its peak RSS for exactly that one upload. No Celery worker runs: the job stays queued (the
filesystem broker needs no server); bench/import_scale.py measures the worker side. Prints a table and appends
it to bench/results/import_web.md. Traffic goes to 127.0.0.1 only; every wait is bounded.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.import_scale import write_image_zip, write_text_csv  # noqa: E402
from bench.pgserver import free_port, throwaway_postgres  # noqa: E402

BLOCK = 2**20

SEED = r"""
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from annotation.services.projects import LabelSpec, project_create
manager = get_user_model().objects.create_user("bench-manager", password="bench-pass-123")
labels = [LabelSpec(value="a"), LabelSpec(value="b")]
text = project_create(user=manager, name="web import text", task_type="text_classification", labels=labels)
images = project_create(user=manager, name="web import images", task_type="image_classification", labels=labels)
print(json.dumps({"text": text.pk, "images": images.pk, "token": Token.objects.create(user=manager).key}))
"""


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of a process in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # kB
    return values


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Token {token}"} if token else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def gunicorn(env: dict, threads: int, timeout: int, log_path: Path) -> Iterator[tuple[int, int, int]]:
    """A fresh gunicorn with one worker; yields (port, master pid, worker pid) once /healthz/ answers 200."""
    port = free_port()
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--timeout",
                str(timeout),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer /healthz/ within 60 s")
            try:
                if get(port, "/healthz/")[0] == 200 and len(children(server.pid)) == 1:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield port, server.pid, children(server.pid)[0]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)


def upload(port: int, project: int, token: str, path: Path, content_type: str) -> tuple[int, bytes]:
    """POST the file as multipart ``file``, streamed from disk; the body is never held in memory."""
    boundary = uuid.uuid4().hex
    preamble = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    epilogue = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    try:
        conn.putrequest("POST", f"/api/projects/{project}/imports/")
        conn.putheader("Authorization", f"Token {token}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(preamble) + path.stat().st_size + len(epilogue)))
        conn.endheaders()
        conn.send(preamble)
        with open(path, "rb") as handle:
            while block := handle.read(BLOCK):
                conn.send(block)
        conn.send(epilogue)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def measure(env: dict, info: dict, kind: str, path: Path, args, log_path: Path) -> dict:
    project = info["images" if kind == "images" else "text"]
    content_type = "application/zip" if path.suffix == ".zip" else "text/csv"
    row = {"kind": kind, "file_mb": path.stat().st_size / 2**20, "load_before": os.getloadavg()[0]}
    with gunicorn(env, args.threads, args.timeout, log_path) as (port, master, worker):
        get(port, "/healthz/")  # warm-up: an authenticated API GET loads DRF, auth and the ingress views
        get(port, f"/api/projects/{project}/imports/", info["token"])
        before = proc_status(worker)
        cpu_before = cpu_seconds(worker)
        start = time.perf_counter()
        try:
            status, body = upload(port, project, info["token"], path, content_type)
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, f"{type(exc).__name__}: {exc}".encode()
        row["seconds"] = time.perf_counter() - start
        alive = worker in children(master)  # a worker killed by the timeout is replaced by a new pid
        if alive:
            after = proc_status(worker)
            row.update(
                cpu_s=cpu_seconds(worker) - cpu_before, rss_after_mb=after["VmRSS"], peak_mb=after["VmHWM"]
            )
        row.update(
            status=status,
            rss_before_mb=before["VmRSS"],
            hwm_before_mb=before["VmHWM"],
            worker_alive=alive,
            load_after=os.getloadavg()[0],
        )
        if status == 202:
            job = json.loads(body)["job"]
            job_status, job_body = get(port, f"/api/jobs/{job}/", info["token"])
            row["job"] = json.loads(job_body).get("status") if job_status == 200 else f"GET {job_status}"
        else:
            row["error"] = body[:300].decode(errors="replace")
    print(json.dumps(row))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="text CSV rows (0: skip)")
    parser.add_argument("--images", type=int, default=5_000, help="images in the zip (0: skip)")
    parser.add_argument("--big-mb", type=int, default=1024, help="size of the long-row CSV in MB (0: skip)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads (1: sync worker)")
    parser.add_argument("--timeout", type=int, default=30, help="gunicorn worker timeout (its default: 30)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="labelgate-bench-web-") as tmp:
        work = Path(tmp)
        var_dir = work / "var"
        var_dir.mkdir()
        files = []
        if args.rows:
            write_text_csv(work / "texts.csv", args.rows)
            files.append(("text", work / "texts.csv"))
        if args.images:
            write_image_zip(work / "images.zip", args.images)
            files.append(("images", work / "images.zip"))
        if args.big_mb:
            write_text_csv(work / "big.csv", args.big_mb * 2**20 // 3000, words=(300, 420), seed=3)
            files.append(("big-text", work / "big.csv"))
        with throwaway_postgres() as database_url:
            env = os.environ.copy()
            env.update(
                DATABASE_URL=database_url,
                DJANGO_SETTINGS_MODULE="config.settings",
                LABELGATE_VAR_DIR=str(var_dir),
                CELERY_BROKER_URL="filesystem://",
                LABELGATE_API_RATE="100000000/hour",
                LOG_LEVEL="WARNING",
            )
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            seeded = subprocess.run(
                [sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )
            info = json.loads(seeded.stdout.strip().splitlines()[-1])
            for kind, path in files:
                rows.append(measure(env, info, kind, path, args, work / "gunicorn.log"))
            log = (
                (work / "gunicorn.log").read_text(errors="replace")
                if (work / "gunicorn.log").exists()
                else ""
            )
    table = render(rows)
    print("\n" + "\n".join(table))
    if log.strip() and any(r["status"] != 202 for r in rows):
        print("\ngunicorn log (tail):\n" + log[-2000:])
    write_results(args, table)


def render(rows: list[dict]) -> list[str]:
    lines = [
        "| file | MB | HTTP | upload s | MB/s | worker CPU s | worker RSS before | peak RSS | RSS after | job |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        peak = f"{r['peak_mb']:.0f} MB" if "peak_mb" in r else "worker gone"
        after = f"{r['rss_after_mb']:.0f} MB" if "rss_after_mb" in r else "-"
        cpu = f"{r['cpu_s']:.1f}" if "cpu_s" in r else "-"
        outcome = r.get("job") or r.get("error", "")[:80]
        lines.append(
            f"| {r['kind']} | {r['file_mb']:.1f} | {r['status']} | {r['seconds']:.2f} | "
            f"{r['file_mb'] / r['seconds']:.0f} | {cpu} | {r['rss_before_mb']:.0f} MB "
            f"(HWM {r['hwm_before_mb']:.0f}) | {peak} | {after} | {outcome} |"
        )
    loads = ", ".join(f"{r['kind']} {r['load_before']:.2f}→{r['load_after']:.2f}" for r in rows)
    lines.append(f"\n1-min load average before→after each upload: {loads}")
    return lines


def write_results(args, table: list[str]) -> None:
    out = ROOT / "bench" / "results" / "import_web.md"
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
    worker = "sync" if args.threads == 1 else f"gthread ×{args.threads}"
    header = (
        f"\n### {time.strftime('%Y-%m-%d %H:%M')} — `--rows {args.rows} --images {args.images} "
        f"--big-mb {args.big_mb}`, gunicorn 1 {worker} worker, timeout {args.timeout} s ({machine}, "
        "client on the same machine)\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        if out.stat().st_size == 0:
            handle.write(
                "# Import, web side: gunicorn worker peak RSS during an upload (bench/import_web.py)\n"
            )
        handle.write(header + "\n" + "\n".join(table) + "\n")


if __name__ == "__main__":
    main()
