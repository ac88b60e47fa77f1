"""Annotation load: N concurrent annotators (each its own user) looping next + submit against gunicorn.

    python bench/annotate_load.py --db postgres --items 100000 --levels 1,8,32 --seconds 30
    python bench/annotate_load.py --db sqlite   --items 100000 --levels 1,8,32 --seconds 30

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
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings", LABELGATE_VAR_DIR=var_dir,
               CELERY_BROKER_URL="filesystem://", LABELGATE_API_RATE="100000000/hour", LOG_LEVEL="WARNING")
    return env


SEED = r"""
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from annotation.models import Membership, Role, Project
from annotation.services.bulk import item_bulk_create
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
for i in range(n_users):
    user = users.objects.create_user(f"ann{i}", password="bench-pass-123")
    Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR, acknowledged_guideline_version=1)
    tokens.append(Token.objects.create(user=user).key)
print(json.dumps({"project": project.pk, "tokens": tokens}))
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def annotator_loop(port: int, project: int, token: str, stop_at: float, stats: dict, lock: threading.Lock) -> None:
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
            payload = json.dumps({"item": item, "label": rng.choice(["pos", "neg", "neutral"]),
                                  "client_id": str(uuid.uuid4()), "lead_time_ms": 900})
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


def run_level(port: int, project: int, tokens: list[str], seconds: float) -> dict:
    stats = {"next": [], "submit": [], "errors": 0, "annotations": 0, "error_samples": []}
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + seconds
    threads = [threading.Thread(target=annotator_loop, args=(port, project, t, stop_at, stats, lock)) for t in tokens]
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
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    var_dir = tempfile.mkdtemp(prefix="labelgate-bench-")
    context = throwaway_postgres() if args.db == "postgres" else None
    database_url = context.__enter__() if context else f"sqlite:///{var_dir}/bench.sqlite3"
    try:
        env = setup_env(database_url, var_dir)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        t0 = time.perf_counter()
        seeded = subprocess.run([sys.executable, "-c", SEED, str(args.items), sum(levels).__str__()], cwd=ROOT, env=env,
                                check=True, capture_output=True, text=True)
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        print(f"seeded {args.items} items in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
            cwd=ROOT, env=env,
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
                stats = run_level(port, info["project"], tokens, args.seconds)
                row = {
                    "db": args.db, "annotators": level, "annotations_per_s": round(stats["rate"], 1),
                    "next_p50": round(percentile(stats["next"], 50), 1), "next_p95": round(percentile(stats["next"], 95), 1),
                    "next_p99": round(percentile(stats["next"], 99), 1),
                    "submit_p50": round(percentile(stats["submit"], 50), 1),
                    "submit_p95": round(percentile(stats["submit"], 95), 1),
                    "submit_p99": round(percentile(stats["submit"], 99), 1), "errors": stats["errors"],
                }
                rows.append(row)
                print(json.dumps(row))
                for sample in stats["error_samples"][:5]:
                    print("   error:", sample)
        finally:
            server.terminate()
            server.wait(timeout=30)
        write_results(args, rows)
    finally:
        if context:
            context.__exit__(None, None, None)


def write_results(args, rows: list[dict]) -> None:
    out = ROOT / "bench" / "results" / "annotate_load.md"
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"
    lines = [
        f"\n### {args.db}: {args.items:,} items, {args.seconds:.0f} s per level, gunicorn {args.workers}×{args.threads} "
        f"({machine}, load generator on the same machine) — {time.strftime('%Y-%m-%d %H:%M')}\n",
        "| annotators | annotations/s | next p50/p95/p99 ms | submit p50/p95/p99 ms | errors |",
        "|---:|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['annotators']} | {r['annotations_per_s']} | {r['next_p50']}/{r['next_p95']}/{r['next_p99']} | "
                     f"{r['submit_p50']}/{r['submit_p95']}/{r['submit_p99']} | {r['errors']} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
