"""Labelgate's embedded default next to Label Studio's, on loopback, driven by the same HTTP client.

    .venv/bin/python bench/side_by_side.py [--rows 10000] [--seconds 30] [--rounds 2] [--burst 8]

Starts ``scripts/run.sh`` (temporary LABELGATE_VAR_DIR, a free port, no demo) and ``label-studio start`` (from
LS_VENV, default /tmp/lsvenv, its own data directory; see bench/interop/labelstudio_live.py), then measures:

1. idle PSS of each whole process tree once both answer and sit idle;
2. import of ``--rows`` text rows, alternating: Labelgate bulk API, Label Studio task import, Labelgate file
   job (CSV upload, timed until the job finished), Label Studio again; each into a fresh project;
3. one annotator looping next + submit for ``--seconds``, alternating Labelgate and Label Studio;
4. ``--burst`` annotators labelling on Labelgate for ``--seconds``, then a freeze requested at once (time until
   its job finished) and the per-item backlog's drain time (until no labelled item waits for its pass).

Both servers run during the whole bench, so the one not measured sits idle beside the other. Everything is
bounded in time; both process trees are stopped at the end. Prints a JSON summary and a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.footprint import cpu_ticks, descendants, free_port, pss_kb  # noqa: E402
from bench.interop.labelstudio_live import TEXT_CONFIG, LabelStudio, choices_result  # noqa: E402

LG_SEED = r"""
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from annotation.models import Membership, Role
users = get_user_model()
manager = users.objects.create_user("sbs-manager", password="sbs-pass-123", is_staff=True)
tokens = []
for i in range(int(sys.argv[1])):
    user = users.objects.create_user(f"sbs-ann{i}", password="sbs-pass-123")
    tokens.append(Token.objects.create(user=user).key)
print(json.dumps({"manager": Token.objects.create(user=manager).key, "annotators": tokens}))
"""

LG_MEMBERS = r"""
import sys
import django
django.setup()
from django.contrib.auth import get_user_model
from annotation.models import Membership, Role
project = int(sys.argv[1])
for user in get_user_model().objects.filter(username__startswith="sbs-ann"):
    Membership.objects.create(user=user, project_id=project, role=Role.ANNOTATOR, acknowledged_guideline_version=99)
"""

LG_BACKLOG = r"""
import json, sys
import django
django.setup()
from annotation.models import ItemPassSchedule, LabelledItemMark
project = int(sys.argv[1])
print(json.dumps({"marks": LabelledItemMark.objects.filter(project_id=project).count(),
                  "scheduled": ItemPassSchedule.objects.filter(project_id=project).count()}))
"""


class Client:
    """One keep-alive HTTP connection with fixed auth headers (a token, or Label Studio's session cookie)."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed an idle keep-alive connection; a fresh one sends the request again.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload=None):
        status, raw = self.call(method, path, None if payload is None else json.dumps(payload).encode())
        if status >= 400:
            raise RuntimeError(f"{method} {path} -> {status}: {raw[:300]!r}")
        return json.loads(raw) if raw else None

    def close(self) -> None:
        self.conn.close()


WORDS = (
    "plot acting score pacing cast ending script camera scene music dialogue twist hero villain story "
    "light sound colour runtime sequel director actor actress humour drama tension effects costume set "
    "edit cut frame mood tone theme voice lead support cameo chase fight romance mystery horror comedy"
).split()
ADJECTIVES = (
    "fine dull sharp slow brilliant weak tender loud clumsy moving flat vivid messy tight odd warm".split()
)


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    delta = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(
        start.replace("Z", "+00:00")
    )
    return round(delta.total_seconds(), 2)


def text_rows(n: int, tag: str) -> list[dict]:
    """``n`` rows of 12-20 words each, the same for both tools; distinct enough that near-duplicate detection
    finds none, as in real reviews (rows that all share one sentence make every item a near-duplicate)."""
    rng = random.Random(tag)
    rows = []
    for i in range(n):
        words = [f"{rng.choice(ADJECTIVES)} {rng.choice(WORDS)}" for _ in range(rng.randint(6, 10))]
        rows.append({"external_id": f"{tag}-{i}", "text": f"review {i}: " + " and ".join(words)})
    return rows


def tree_pss_mb(pid: int) -> tuple[float, int]:
    total, count = 0, 0
    for child in [pid, *descendants(pid)]:
        try:
            total += pss_kb(child)
            count += 1
        except OSError:
            continue
    return total / 1024, count


def wait_idle(pids: list[int], settle: float = 10.0, deadline: float = 180.0) -> bool:
    """Waits until every tree used under 2 % of one core over ``settle`` seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        before = [cpu_ticks([p, *descendants(p)]) for p in pids]
        time.sleep(settle)
        after = [cpu_ticks([p, *descendants(p)]) for p in pids]
        if all((b - a) / hz < 0.02 * settle for a, b in zip(before, after, strict=True)):
            return True
    return False


# --- Labelgate -------------------------------------------------------------------------------------------------


class Labelgate:
    def __init__(self, venv: Path):
        self.var_dir = Path(tempfile.mkdtemp(prefix="labelgate-sbs-"))
        self.port = free_port()
        self.env = {
            **os.environ,
            "LABELGATE_VAR_DIR": str(self.var_dir),
            "LABELGATE_PORT": str(self.port),
            "LABELGATE_DEMO": "0",
            "LABELGATE_VENV": str(venv),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
            self.env.pop(name, None)
        self.python = str(venv / "bin" / "python")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> float:
        self.log = open(self.var_dir / "run.log", "wb")  # noqa: SIM115 - closed by stop()
        started = time.monotonic()
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "scripts/run.sh")],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.monotonic() < started + timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"run.sh exited; see {self.var_dir / 'run.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz/")
                if conn.getresponse().status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("run.sh did not answer in time")

    def django(self, script: str, *args) -> str:
        out = subprocess.run(
            [self.python, "-c", script, *map(str, args)],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""

    def seed(self, annotators: int) -> None:
        info = json.loads(self.django(LG_SEED, annotators))
        self.manager = Client(self.port, {"Authorization": f"Token {info['manager']}"})
        self.annotators = [{"Authorization": f"Token {t}"} for t in info["annotators"]]

    def project(self, name: str, per_item: int = 1) -> int:
        pid = self.manager.json(
            "POST",
            "/api/projects/",
            {
                "name": name,
                "task_type": "text_classification",
                "annotations_per_item": per_item,
                "labels": [{"value": v} for v in ("pos", "neg", "neutral")],
            },
        )["id"]
        self.django(LG_MEMBERS, pid)
        return pid

    def wait_job(self, job: str, deadline: float) -> dict:
        while time.monotonic() < deadline:
            data = self.manager.json("GET", f"/api/jobs/{job}/")
            if data["status"] in ("succeeded", "failed"):
                return data
            time.sleep(0.05)
        return {"status": "not finished by the deadline"}

    def import_bulk(self, rows: list[dict]) -> tuple[float, int]:
        pid = self.project(f"bulk {uuid.uuid4().hex[:6]}")
        body = json.dumps(rows).encode()
        t0 = time.perf_counter()
        status, raw = self.manager.call("POST", f"/api/projects/{pid}/items/bulk/", body)
        elapsed = time.perf_counter() - t0
        if status >= 400:
            raise RuntimeError(f"bulk import -> {status}: {raw[:300]!r}")
        return elapsed, json.loads(raw)["created"]

    def import_file(self, rows: list[dict]) -> tuple[float, int, str]:
        pid = self.project(f"file {uuid.uuid4().hex[:6]}")
        csv = "external_id,text\n" + "".join(
            f"{r['external_id']},{r['text'].replace(',', ';')}\n" for r in rows
        )
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        ).encode()
        t0 = time.perf_counter()
        status, raw = self.manager.call(
            "POST", f"/api/projects/{pid}/imports/", body, f"multipart/form-data; boundary={boundary}"
        )
        if status >= 400:
            raise RuntimeError(f"file import -> {status}: {raw[:300]!r}")
        job = self.wait_job(json.loads(raw)["job"], time.monotonic() + 600)
        elapsed = time.perf_counter() - t0
        result = job.get("result") or {}
        return elapsed, result.get("created", result), job["status"]

    def backlog(self, pid: int) -> dict:
        return json.loads(self.django(LG_BACKLOG, pid))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        for leftover in descendants(self.process.pid) if self.process else []:
            try:
                os.kill(leftover, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def lg_next_submit(client: Client, pid: int, rng: random.Random) -> str:
    status, raw = client.call("GET", f"/api/projects/{pid}/next/")
    if status == 204:
        return "empty"
    if status != 200:
        return f"next {status}"
    item = json.loads(raw)["item"]["id"]
    payload = {
        "item": item,
        "label": rng.choice(["pos", "neg", "neutral"]),
        "client_id": str(uuid.uuid4()),
        "lead_time_ms": 900,
    }
    status, raw = client.call("POST", f"/api/projects/{pid}/annotations/", json.dumps(payload).encode())
    return "ok" if status in (200, 201) else f"submit {status} {raw[:80]!r}"


# --- Label Studio ------------------------------------------------------------------------------------------------


def ls_headers(ls: LabelStudio) -> dict[str, str]:
    session = ls.session(ls.owner, ls.password)
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.jar)
    csrf = next((c.value for c in session.jar if c.name == "csrftoken"), "")
    return {"Cookie": cookies, "X-CSRFToken": csrf, "Referer": ls.base + "/"}


def ls_project(client: Client, name: str) -> int:
    return client.json("POST", "/api/projects/", {"title": name, "label_config": TEXT_CONFIG})["id"]


def ls_import(client: Client, rows: list[dict]) -> tuple[float, int]:
    pid = ls_project(client, f"import {uuid.uuid4().hex[:6]}")
    body = json.dumps([{"review": r["text"], "external_id": r["external_id"]} for r in rows]).encode()
    t0 = time.perf_counter()
    status, raw = client.call("POST", f"/api/projects/{pid}/import", body)
    elapsed = time.perf_counter() - t0
    if status >= 400:
        raise RuntimeError(f"LS import -> {status}: {raw[:300]!r}")
    return elapsed, client.json("GET", f"/api/projects/{pid}/")["task_number"]


def ls_next_submit(client: Client, pid: int, rng: random.Random) -> str:
    status, raw = client.call("GET", f"/api/projects/{pid}/next/")
    if status == 404:
        return "empty"
    if status != 200:
        return f"next {status}"
    task = json.loads(raw)["id"]
    payload = {
        "result": choices_result("sentiment", "review", [rng.choice(["pos", "neg", "neutral"])]),
        "lead_time": 0.9,
    }
    status, raw = client.call(
        "POST", f"/api/tasks/{task}/annotations/?project={pid}", json.dumps(payload).encode()
    )
    return "ok" if status in (200, 201) else f"submit {status} {raw[:80]!r}"


# --- the shared load loop ----------------------------------------------------------------------------------------


def label_loop(port: int, headers_list: list[dict], pid: int, step, seconds: float) -> dict:
    stats = {"annotations": 0, "errors": 0, "samples": [], "empty": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def one(headers: dict) -> None:
        client, rng = Client(port, headers), random.Random(str(headers))
        ok = errors = 0
        samples = []
        while time.monotonic() < stop_at:
            try:
                outcome = step(client, pid, rng)
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"{type(exc).__name__}"
            if outcome == "ok":
                ok += 1
            elif outcome == "empty":
                with lock:
                    stats["empty"] += 1
                break
            else:
                errors += 1
                samples.append(outcome)
        client.close()
        with lock:
            stats["annotations"] += ok
            stats["errors"] += errors
            stats["samples"].extend(samples[:3])

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(h,)) for h in headers_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats["elapsed"] = time.monotonic() - t0
    stats["rate"] = stats["annotations"] / stats["elapsed"]
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=8)
    parser.add_argument("--venv", type=Path, default=Path(os.environ.get("LABELGATE_VENV", ROOT / ".venv")))
    args = parser.parse_args()
    out: dict = {
        "machine": f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    }
    lg = Labelgate(args.venv)
    ls = LabelStudio(port=free_port())
    try:
        out["lg_start_s"] = round(lg.start(), 1)
        t0 = time.monotonic()
        ls.start()
        out["ls_start_s"] = round(time.monotonic() - t0, 1)
        out["idle"] = wait_idle([lg.process.pid, ls.process.pid])
        out["lg_idle_pss_mb"], out["lg_processes"] = tree_pss_mb(lg.process.pid)
        out["ls_idle_pss_mb"], out["ls_processes"] = tree_pss_mb(ls.process.pid)
        print(json.dumps(out), flush=True)

        lg.seed(max(args.burst, 1))
        ls_owner = ls_headers(ls)
        ls_client = Client(ls.port, ls_owner)
        imports: dict[str, list] = {"lg_bulk": [], "lg_file": [], "ls": []}
        for round_ in range(args.rounds):
            rows = text_rows(args.rows, f"r{round_}")
            elapsed, created = lg.import_bulk(rows)
            imports["lg_bulk"].append((round(elapsed, 2), created))
            imports["ls"].append(tuple(round(v, 2) for v in ls_import(ls_client, rows)))
            elapsed, created, status = lg.import_file(rows)
            imports["lg_file"].append((round(elapsed, 2), created, status))
            print(json.dumps(imports), flush=True)
        out["imports"] = imports

        # One annotator: a project of ``--rows`` items on each side, runs alternating.
        lg_pid = lg.project("one annotator")
        lg.manager.json("POST", f"/api/projects/{lg_pid}/items/bulk/", text_rows(args.rows, "one"))
        ls_pid = ls_project(ls_client, "one annotator")
        ls_client.json(
            "POST",
            f"/api/projects/{ls_pid}/import",
            [{"review": r["text"]} for r in text_rows(args.rows, "one")],
        )
        single: dict[str, list] = {"lg": [], "ls": []}
        for _ in range(args.rounds):
            stats = label_loop(lg.port, lg.annotators[:1], lg_pid, lg_next_submit, args.seconds)
            single["lg"].append((round(stats["rate"], 1), stats["errors"], stats["samples"][:2]))
            stats = label_loop(ls.port, [ls_owner], ls_pid, ls_next_submit, args.seconds)
            single["ls"].append((round(stats["rate"], 1), stats["errors"], stats["samples"][:2]))
            print(json.dumps(single), flush=True)
        out["single"] = single
        out["lg_backlog_after_single"] = lg.backlog(lg_pid)

        # The burst, then a freeze at once and the per-item backlog's drain.
        burst_pid = lg.project("burst", per_item=2)
        lg.manager.json("POST", f"/api/projects/{burst_pid}/items/bulk/", text_rows(args.rows, "burst"))
        load_before, ticks_before = (
            os.getloadavg()[0],
            cpu_ticks([lg.process.pid, *descendants(lg.process.pid)]),
        )
        stats = label_loop(lg.port, lg.annotators[: args.burst], burst_pid, lg_next_submit, args.seconds)
        t_end = time.monotonic()
        lg_cpu = (cpu_ticks([lg.process.pid, *descendants(lg.process.pid)]) - ticks_before) / os.sysconf(
            "SC_CLK_TCK"
        )
        status, raw = lg.manager.call("POST", f"/api/projects/{burst_pid}/dataset-versions/", b"{}")
        backlog_at_end = lg.backlog(burst_pid)
        job = json.loads(raw).get("job") if status < 400 else None
        freeze_s = drain_s = None
        freeze_status = f"request {status} {raw[:120]!r}" if not job else None
        # How many jobs the freeze waited behind (running, or queued before it) when it was requested.
        freeze_ahead = lg.manager.json("GET", f"/api/jobs/{job}/").get("jobs_ahead") if job else None
        freeze_times: dict = {}
        deadline = t_end + 900
        while time.monotonic() < deadline and ((job and freeze_s is None) or drain_s is None):
            if job and freeze_s is None:
                data = lg.manager.json("GET", f"/api/jobs/{job}/")
                if data["status"] in ("succeeded", "failed"):
                    freeze_s, freeze_status = time.monotonic() - t_end, data["status"]
                    freeze_times = {k: data.get(k) for k in ("created_at", "started_at", "finished_at")}
            if drain_s is None:
                left = lg.backlog(burst_pid)
                if left["marks"] == 0 and left["scheduled"] == 0:
                    drain_s = time.monotonic() - t_end
            time.sleep(0.1)
        out["burst"] = {
            "annotators": args.burst,
            "annotations": stats["annotations"],
            "rate": round(stats["rate"], 1),
            "errors": stats["errors"],
            "samples": stats["samples"][:3],
            "backlog_at_end": backlog_at_end,
            "load_before": round(load_before, 2),
            "lg_cpu_s_during": round(lg_cpu, 1),
            "freeze_s": None if freeze_s is None else round(freeze_s, 2),
            "freeze_status": freeze_status,
            # Queue wait (created → started) apart from the freeze's own run (started → finished).
            "freeze_jobs_ahead_at_request": freeze_ahead,
            "freeze_wait_s": _seconds_between(freeze_times.get("created_at"), freeze_times.get("started_at")),
            "freeze_run_s": _seconds_between(freeze_times.get("started_at"), freeze_times.get("finished_at")),
            "drain_s": None if drain_s is None else round(drain_s, 2),
            "end_to_end_rate": round(stats["annotations"] / (stats["elapsed"] + drain_s), 1)
            if drain_s
            else None,
        }
        print(json.dumps(out["burst"]), flush=True)
        out["lg_pss_after_work_mb"], _ = tree_pss_mb(lg.process.pid)
        out["ls_pss_after_work_mb"], _ = tree_pss_mb(ls.process.pid)
        ls_client.close()
    finally:
        lg.stop()
        ls.stop()
    print(json.dumps(out, indent=1))
    print(table(out, args))


def table(out: dict, args) -> str:
    def rates(pairs):
        return ", ".join(f"{args.rows / p[0]:,.0f}" for p in pairs)

    lg1 = [r[0] for r in out["single"]["lg"]]
    ls1 = [r[0] for r in out["single"]["ls"]]
    ratio = (sum(lg1) / len(lg1)) / (sum(ls1) / len(ls1)) if sum(ls1) else float("nan")
    b = out["burst"]
    return "\n".join(
        [
            "| work | Label Studio | Labelgate | ratio / target |",
            "|---|---|---|---|",
            f"| import {args.rows:,} text rows (rows/s) | {rates(out['imports']['ls'])} | bulk {rates(out['imports']['lg_bulk'])}; "
            f"file job {rates(out['imports']['lg_file'])} | ≥ 10k rows/s |",
            f"| next+submit, 1 annotator, {args.seconds:.0f} s (ann/s) | {', '.join(map(str, ls1))} | "
            f"{', '.join(map(str, lg1))} | {ratio:.1f}× (≥ 10×) |",
            f"| {b['annotators']} annotators {args.seconds:.0f} s burst | — | {b['annotations']:,} annotations, "
            f"{b['rate']} ann/s; end to end {b['end_to_end_rate']} ann/s | |",
            f"| freeze requested right after the burst | — | {b['freeze_s']} s ({b['freeze_status']}; "
            f"{b.get('freeze_jobs_ahead_at_request')} jobs ahead at request, queued {b.get('freeze_wait_s')} s, "
            f"ran {b.get('freeze_run_s')} s) | ≤ 5 s |",
            f"| per-item backlog drained after the burst | — | {b['drain_s']} s (at end: {b['backlog_at_end']}) | ≤ 30 s |",
            f"| idle PSS after start (whole tree) | {out['ls_idle_pss_mb']:.0f} MB ({out['ls_processes']} processes) | "
            f"{out['lg_idle_pss_mb']:.0f} MB ({out['lg_processes']} processes) | ≤ 500 MB |",
            f"| PSS after the bench | {out['ls_pss_after_work_mb']:.0f} MB | {out['lg_pss_after_work_mb']:.0f} MB | |",
            f"| start to first healthy answer | {out['ls_start_s']} s | {out['lg_start_s']} s | |",
        ]
    )


if __name__ == "__main__":
    main()
