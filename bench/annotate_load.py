"""Annotation load: N concurrent annotators (each its own user) looping next + submit against gunicorn.

    python bench/annotate_load.py --db postgres --items 100000 --levels 1,8,32 --seconds 30
    python bench/annotate_load.py --db sqlite   --items 100000 --levels 1,8,32 --seconds 30
    python bench/annotate_load.py --db postgres --levels 64 --seconds 60 --background
    python bench/annotate_load.py --db postgres --levels 64 --seconds 60 --background --think-ms 1000

--think-ms makes each simulated annotator pause between receiving an item and submitting it (uniformly 0.5-1.5x
the given mean), as a person reading the item would. Without it every annotator is a closed loop with no pause, so
latency is simply annotators / throughput (Little's law) and measures saturation, not the wait a person sees.

--background starts a throwaway Redis and a real Celery worker, and during each level starts a quality run (a
third of the way in) and a CSV import of 20,000 rows (at the start) through the REST API as the manager, so the
annotators' latencies are measured while both jobs load the database; the jobs' outcomes are printed too.

Prints p50/p95/p99 per endpoint, annotations/s and errors per level, and appends a table to
bench/results/annotate_load.md. Traffic goes to 127.0.0.1 only and every loop is bounded in time.
"""

import argparse
import http.client
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pgserver import free_port, throwaway_postgres  # noqa: E402


def setup_env(database_url: str, var_dir: str) -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LABELGATE_VAR_DIR=var_dir,
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_API_RATE="100000000/hour",
        LOG_LEVEL="WARNING",
    )
    return env


SEED = r"""
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from annotation.models import Membership, Role, Project
from ingress.services.bulk import item_bulk_create
from annotation.services.projects import LabelSpec, project_create
n_items, n_users = int(sys.argv[1]), int(sys.argv[2])
users = get_user_model()
manager = users.objects.create_user("bench-manager", password="bench-pass-123")
project = project_create(user=manager, name="load", task_type="text_classification",
    labels=[LabelSpec(value=v) for v in ("pos", "neg", "neutral")], annotations_per_item=3)
for start in range(0, n_items, 10000):
    rows = [{"external_id": f"t{i}", "text": f"bench text {i} " * 3} for i in range(start, min(n_items, start + 10000))]
    item_bulk_create(project=project, rows=rows)
tokens = []
manager_token = Token.objects.create(user=manager).key
for i in range(n_users):
    user = users.objects.create_user(f"ann{i}", password="bench-pass-123")
    Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR, acknowledged_guideline_version=1)
    tokens.append(Token.objects.create(user=user).key)
print(json.dumps({"project": project.pk, "tokens": tokens, "manager": manager_token}))
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def annotator_loop(
    port: int,
    project: int,
    token: str,
    stop_at: float,
    stats: dict,
    lock: threading.Lock,
    think_ms: float = 0.0,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    rng = random.Random(token)
    local = {"next": [], "submit": [], "errors": 0, "annotations": 0, "error_samples": []}
    while time.monotonic() < stop_at:
        try:
            t0 = time.perf_counter()
            conn.request("GET", f"/api/projects/{project}/next/", headers=headers)
            response = conn.getresponse()
            body = response.read()
            local["next"].append((time.perf_counter() - t0) * 1000)
            if response.status == 204:
                break
            if response.status != 200:
                local["errors"] += 1
                local["error_samples"].append(f"next {response.status} {body[:120]!r}")
                continue
            item = json.loads(body)["item"]["id"]
            if think_ms:
                time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
            payload = json.dumps(
                {
                    "item": item,
                    "label": rng.choice(["pos", "neg", "neutral"]),
                    "client_id": str(uuid.uuid4()),
                    "lead_time_ms": 900,
                }
            )
            t0 = time.perf_counter()
            conn.request("POST", f"/api/projects/{project}/annotations/", body=payload, headers=headers)
            response = conn.getresponse()
            body = response.read()
            local["submit"].append((time.perf_counter() - t0) * 1000)
            if response.status in (200, 201):
                local["annotations"] += 1
            else:
                local["errors"] += 1
                local["error_samples"].append(f"submit {response.status} {body[:120]!r}")
        except (OSError, http.client.HTTPException) as exc:
            local["errors"] += 1
            local["error_samples"].append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.close()
    with lock:
        for key in ("next", "submit", "error_samples"):
            stats[key].extend(local[key])
        stats["errors"] += local["errors"]
        stats["annotations"] += local["annotations"]


def api_call(
    port: int,
    token: str,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            method, path, body=body, headers={"Authorization": f"Token {token}", "Content-Type": content_type}
        )
        response = conn.getresponse()
        raw = response.read()
        return response.status, (
            json.loads(raw) if raw and raw[:1] in b"{[" else {"raw": raw[:200].decode(errors="replace")}
        )
    finally:
        conn.close()


def background_jobs(port: int, project: int, manager: str, seconds: float, out: dict) -> None:
    """An import at the start and a quality run a third of the way in, both through the REST API."""
    boundary = uuid.uuid4().hex
    csv_rows = "external_id,text\n" + "".join(
        f"bg{uuid.uuid4().hex[:12]},background import row {i}\n" for i in range(20_000)
    )
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bg.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv_rows}\r\n--{boundary}--\r\n"
    ).encode()
    status, data = api_call(
        port,
        manager,
        "POST",
        f"/api/projects/{project}/imports/",
        body,
        f"multipart/form-data; boundary={boundary}",
    )
    out["import"] = {"submit_status": status, "job": data.get("job")}
    time.sleep(seconds / 3)  # let annotations accumulate before measuring quality
    status, data = api_call(port, manager, "POST", f"/api/projects/{project}/quality-runs/", b"{}")
    out["quality"] = {"submit_status": status, "job": data.get("job") or data}


def job_outcome(port: int, manager: str, job_id, deadline: float) -> dict:
    while job_id and time.monotonic() < deadline:
        status, data = api_call(port, manager, "GET", f"/api/jobs/{job_id}/")
        if status == 200 and data.get("status") in ("succeeded", "failed"):
            started, finished = data.get("created_at"), data.get("finished_at")
            return {
                "status": data["status"],
                "error": (data.get("error") or "")[:200],
                "created_at": started,
                "finished_at": finished,
            }
        time.sleep(1.0)
    return {"status": "not finished by the deadline"}


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of a process and all its descendants (Linux /proc), for CPU per annotation."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def run_level(
    port: int,
    project: int,
    tokens: list[str],
    seconds: float,
    background: dict | None = None,
    think_ms: float = 0.0,
) -> dict:
    stats = {"next": [], "submit": [], "errors": 0, "annotations": 0, "error_samples": []}
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + seconds
    threads = [
        threading.Thread(target=annotator_loop, args=(port, project, t, stop_at, stats, lock, think_ms))
        for t in tokens
    ]
    if background is not None:
        threads.append(
            threading.Thread(
                target=background_jobs, args=(port, project, background["manager"], seconds, background)
            )
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    stats["elapsed"] = elapsed
    stats["rate"] = stats["annotations"] / elapsed
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_GUNICORN_WORKERS", "3")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_GUNICORN_THREADS", "4")))
    parser.add_argument(
        "--background",
        action="store_true",
        help="run a quality job and an import job (real Celery worker on Redis) during each level",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause between an item arriving and its submission (0: closed loop, no pause)",
    )
    parser.add_argument("--out", default="annotate_load.md", help="file name under bench/results/")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    var_dir = tempfile.mkdtemp(prefix="labelgate-bench-")
    context = throwaway_postgres() if args.db == "postgres" else None
    database_url = context.__enter__() if context else f"sqlite:///{var_dir}/bench.sqlite3"
    try:
        env = setup_env(database_url, var_dir)
        helpers: list[subprocess.Popen] = []
        if args.background:
            redis_port = free_port()
            helpers.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
            env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        t0 = time.perf_counter()
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, str(args.items), sum(levels).__str__()],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        print(f"seeded {args.items} items in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        if args.background:
            helpers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--loglevel=WARNING",
                        "--concurrency=1",
                        "--without-gossip",
                        "--without-mingle",
                        "-Q",
                        "celery,items",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
            )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            for _ in range(100):
                try:
                    http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz/")
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(1.0)
            rows = []
            offset = 0
            for level in levels:
                tokens = info["tokens"][offset : offset + level]
                offset += level
                background = {"manager": info["manager"]} if args.background else None
                cpu_before = tree_cpu_seconds(server.pid)
                stats = run_level(port, info["project"], tokens, args.seconds, background, args.think_ms)
                server_cpu = tree_cpu_seconds(server.pid) - cpu_before
                row = {
                    "db": args.db,
                    "annotators": level,
                    "think_ms": args.think_ms,
                    "annotations_per_s": round(stats["rate"], 1),
                    "next_p50": round(percentile(stats["next"], 50), 1),
                    "next_p95": round(percentile(stats["next"], 95), 1),
                    "next_p99": round(percentile(stats["next"], 99), 1),
                    "submit_p50": round(percentile(stats["submit"], 50), 1),
                    "submit_p95": round(percentile(stats["submit"], 95), 1),
                    "submit_p99": round(percentile(stats["submit"], 99), 1),
                    "errors": stats["errors"],
                    "requests": len(stats["next"]) + len(stats["submit"]),
                    # the web server's own CPU (gunicorn and its workers) per stored annotation
                    "server_cpu_ms_per_annotation": round(
                        server_cpu / max(stats["annotations"], 1) * 1000, 2
                    ),
                }
                if background is not None:
                    deadline = time.monotonic() + 900
                    for kind in ("import", "quality"):
                        info_kind = background.get(kind, {})
                        job_id = info_kind.get("job") if isinstance(info_kind.get("job"), str) else None
                        row[kind] = {**info_kind, **job_outcome(port, info["manager"], job_id, deadline)}
                rows.append(row)
                print(json.dumps(row))
                for sample in stats["error_samples"][:5]:
                    print("   error:", sample)
        finally:
            server.terminate()
            server.wait(timeout=30)
            for helper in reversed(helpers):
                helper.terminate()
                helper.wait(timeout=30)
        write_results(args, rows)
    finally:
        if context:
            context.__exit__(None, None, None)


def write_results(args, rows: list[dict]) -> None:
    out = ROOT / "bench" / "results" / args.out
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
    lines = [
        f"\n### {args.db}: {args.items:,} items, {args.seconds:.0f} s per level, gunicorn {args.workers}×{args.threads} "
        f"({machine}, load generator on the same machine)"
        f"{' + background quality run and 20k-row import (Celery worker on Redis)' if args.background else ''}"
        f"{f', think time {args.think_ms:.0f} ms mean per item' if args.think_ms else ', no think time'}"
        f" — {time.strftime('%Y-%m-%d %H:%M')}\n",
        "| annotators | annotations/s | next p50/p95/p99 ms | submit p50/p95/p99 ms | errors |",
        "|---:|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['annotators']} | {r['annotations_per_s']} | {r['next_p50']}/{r['next_p95']}/{r['next_p99']} | "
            f"{r['submit_p50']}/{r['submit_p95']}/{r['submit_p99']} | {r['errors']} |"
        )
    for r in rows:
        for kind in ("import", "quality"):
            if kind in r:
                lines.append(f"\n- background {kind} job: {json.dumps(r[kind])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
