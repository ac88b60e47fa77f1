"""Label Studio ⇄ Labelgate round trip on loopback, both ways, text and image (run by hand; tests never run it).

    LS_VENV=/tmp/lsvenv .venv/bin/python bench/interop/ls_roundtrip.py [--out bench/interop/RESULTS.md]

1. Starts a real Label Studio (``labelstudio_live``), a small http server for the image URLs, and a real
   Labelgate (``runserver`` + a Celery worker, embedded SQLite, a temporary ``LABELGATE_VAR_DIR``) on 127.0.0.1.
2. In Label Studio: a text and an image project, each task labelled by two annotators (alice, bob; bob skips
   one task), a prediction per task; the snapshot export (JSON) is taken.
3. Into Labelgate through its API: each export is uploaded with its labelling config; the script reads back
   the items, each annotator's annotations and the kept predictions; a quality run gives consensus labels and a
   dataset version is frozen.
4. Back into Label Studio: the version's ``labelstudio`` export and its ``labelstudio-config`` make a new Label
   Studio project; the script reads back its tasks, annotations per annotator, predictions, and loads each
   image URL as Label Studio's browser would (no Labelgate session, ``Origin`` of Label Studio).

Prints what it saw at each step and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.interop.labelstudio_live import (  # noqa: E402
    IMAGE_CONFIG,
    TEXT_CONFIG,
    LabelStudio,
    Session,
    seed_project,
    tiny_png,
)
from bench.pgserver import free_port  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
LINES: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    LINES.append(text)


class Labelgate:
    """runserver + worker on a throwaway SQLite database; ``api`` calls with the manager's token."""

    def __init__(self, *, port: int, ls: LabelStudio, image_base: str):
        self.port, self.base = port, f"http://127.0.0.1:{port}"
        self.var = Path(tempfile.mkdtemp(prefix="labelgate-rt-"))
        self.env = {
            **os.environ,
            "LABELGATE_VAR_DIR": str(self.var),
            "MEDIA_ROOT": str(self.var / "media"),
            "DEBUG": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LABELGATE_LS_MEDIA_ROOT": str(ls.media_root),
            "LABELGATE_LS_FETCH_URLS": "1",
            "LABELGATE_CORS_ORIGINS": ls.base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.processes: list[subprocess.Popen] = []
        self.image_base = image_base

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        ).stdout

    def start(self) -> Labelgate:
        self.manage("migrate", "--noinput")
        self.manage(
            "labelgate_createuser",
            "manager",
            "--password",
            "manager-pass-1",
            "--email",
            "m@example.com",
            "--staff",
        )
        log = open(self.var / "server.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.processes.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        self.processes.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=WARNING",
                    "--concurrency=1",
                    "--pool=solo",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz/", timeout=5):
                    break
            except OSError:
                time.sleep(1)
        token = self.call(
            "POST", "/api/auth/token/", {"username": "manager", "password": "manager-pass-1"}, auth=False
        )
        self.token = token["token"]
        return self

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        auth: bool = True,
        raw: bool = False,
        content_type: str = "application/json",
        data: bytes | None = None,
    ):
        headers = {"Content-Type": content_type}
        if auth:
            headers["Authorization"] = f"Token {self.token}"
        payload = data if data is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=payload, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            content = response.read()
        return content if raw else (json.loads(content) if content else None)

    def upload(self, pid: int, name: str, content: bytes, fields: dict[str, str]) -> dict:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/json\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.call(
            "POST",
            f"/api/projects/{pid}/imports/",
            data=data,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    def wait(self, job_id: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.call("GET", f"/api/jobs/{job_id}/")
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(1)
        raise RuntimeError(f"job {job_id} did not finish")

    def stop(self) -> None:
        import shutil
        import signal

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.var, ignore_errors=True)


def serve_images(port: int) -> http.server.ThreadingHTTPServer:
    folder = Path(tempfile.mkdtemp(prefix="rt-images-"))
    (folder / "cat-2.png").write_bytes(tiny_png((210, 130, 50)))
    (folder / "dog-2.png").write_bytes(tiny_png((50, 90, 210)))
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def snapshot(session: Session, project_id: int) -> list[dict]:
    from bench.interop.record_ls_fixtures import snapshot as take

    return json.loads(take(session, project_id))


def ls_counts(tasks: list[dict]) -> dict:
    per = Counter()
    cancelled = truth = 0
    for task in tasks:
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                cancelled += 1
                continue
            if annotation.get("ground_truth"):
                truth += 1  # the dataset version's label, attributed by Label Studio to whoever imports it
                continue
            who = annotation.get("completed_by")
            per[who.get("email") if isinstance(who, dict) else who] += 1
    predictions = Counter(
        p.get("model_version") for t in tasks for p in t.get("predictions") or [] if isinstance(p, dict)
    )
    return {
        "tasks": len(tasks),
        "annotations_per_annotator": dict(per),
        "ground_truth": truth,
        "cancelled": cancelled,
        "predictions_per_model_version": dict(predictions),
    }


def one_way_in(lg: Labelgate, kind: str, tasks: list[dict], config: str) -> int:
    labels = ["pos", "neg", "neutral"] if kind == "text" else ["cat", "dog"]
    project = lg.call(
        "POST",
        "/api/projects/",
        {
            "name": f"from LS {kind}",
            "task_type": "text_classification" if kind == "text" else "image_classification",
            "labels": [{"value": v} for v in labels],
            "annotations_per_item": 2,
        },
    )
    started = lg.upload(
        project["id"], f"{kind}.json", json.dumps(tasks).encode(), {"labelstudio_config": config}
    )
    job = lg.wait(started["job"])
    result = job["result"] or {}
    ls = result.get("labelstudio") or {}
    say(
        f"  import job: {job['status']}; rows {result.get('rows')} = created {result.get('created')} + duplicates "
        f"{result.get('duplicates')} + errors {result.get('errors')}"
    )
    say(
        f"  annotations imported per annotator: {ls.get('annotations', {}).get('per_annotator')}; skipped: "
        f"{ls.get('annotations', {}).get('skipped_reasons')}"
    )
    say(
        f"  annotators mapped: { {k: (v['username'], 'created inactive' if v['created_inactive'] else v['matched_by']) for k, v in (ls.get('annotators') or {}).items()} }"
    )
    say(f"  predictions kept per model version: {ls.get('predictions', {}).get('kept_per_model_version')}")
    items = lg.call("GET", f"/api/projects/{project['id']}/items/?page_size=100")
    items = items.get("results", items)
    # Imported annotators may be inactive accounts, which the user lookup leaves out: the report names them.
    users = {v["user_id"]: v["username"] for v in (ls.get("annotators") or {}).values()}
    per = Counter()
    for item in items:
        detail = lg.call("GET", f"/api/projects/{project['id']}/items/{item['id']}/")
        for annotation in detail.get("annotations") or []:
            per[users.get(annotation.get("annotator"), f"user {annotation.get('annotator')} (inactive)")] += 1
    say(
        f"  read back from Labelgate: {len(items)} items; annotations per annotator (item detail): {dict(per)}; "
        f"statuses: {dict(Counter(item['status'] for item in items))}"
    )
    return project["id"]


def one_way_out(lg: Labelgate, owner: Session, kind: str, pid: int) -> None:
    run = lg.call("POST", f"/api/projects/{pid}/quality-runs/", {})
    say(f"  quality run: {lg.wait(run['job'])['status']}")
    freeze = lg.call("POST", f"/api/projects/{pid}/dataset-versions/", {"include_needs_review": True})
    frozen = lg.wait(freeze["job"])
    say(f"  freeze: {frozen['status']} {frozen.get('error') or ''}")
    vid = frozen["result"]["version"]
    version = lg.call("GET", f"/api/dataset-versions/{vid}/")
    say(f"  version: {version.get('counts')} (items still short of their 2 votes are not in a version)")
    tasks = json.loads(lg.call("GET", f"/api/dataset-versions/{vid}/export/?format=labelstudio", raw=True))
    config = lg.call(
        "GET", f"/api/dataset-versions/{vid}/export/?format=labelstudio-config", raw=True
    ).decode()
    say(f"  Labelgate export: {ls_counts(tasks)}")
    project = owner.api(
        "POST", "/api/projects/", json_body={"title": f"back from Labelgate {kind}", "label_config": config}
    )
    owner.api("POST", f"/api/projects/{project['id']}/import", json_body=tasks)
    back = snapshot(owner, project["id"])
    say(f"  read back from Label Studio: {ls_counts(back)}")
    names = {(r["from_name"], r["to_name"]) for t in back for a in t["annotations"] for r in a["result"]}
    say(
        f"  result names in Label Studio: {sorted(names)}; config control/object: "
        f"{config.split('<Choices name=')[1].split()[0]} / {config.split('toName=')[1].split()[0]}"
    )
    if kind == "image":
        loaded = []
        for task in back:
            url = next(v for k, v in task["data"].items() if isinstance(v, str) and "/media/signed/" in v)
            request = urllib.request.Request(url, headers={"Origin": owner.base})
            with urllib.request.urlopen(request, timeout=30) as response:
                loaded.append(
                    (
                        response.status,
                        response.headers.get("Access-Control-Allow-Origin") == owner.base,
                        response.read(8) == b"\x89PNG\r\n\x1a\n",
                    )
                )
        say(f"  image URLs loaded without a Labelgate session (status, CORS for LS origin, PNG): {loaded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "interop" / "RESULTS.md"))
    args = parser.parse_args()
    images = serve_images(8765)
    ls = LabelStudio(port=free_port()).start()
    lg = None
    try:
        owner = ls.session(ls.owner, ls.password)
        second = ls.session("bob@example.com", "bobpass12345", signup=True)
        lg = Labelgate(port=free_port(), ls=ls, image_base="http://127.0.0.1:8765").start()
        say(f"Label Studio 1.23.2 at {ls.base}, Labelgate at {lg.base} (both 127.0.0.1)")
        for kind, config in (("text", TEXT_CONFIG), ("image", IMAGE_CONFIG)):
            seeded = seed_project(owner=owner, second=second, kind=kind)
            tasks = snapshot(owner, seeded.project_id)
            say(f"\n## {kind}: Label Studio → Labelgate")
            say(f"  made in Label Studio: {seeded.annotations} annotations, {seeded.predictions} predictions")
            say(f"  Label Studio export: {ls_counts(tasks)}")
            pid = one_way_in(lg, kind, tasks, config)
            say(f"\n## {kind}: Labelgate → Label Studio")
            one_way_out(lg, owner, kind, pid)
    finally:
        if lg is not None:
            lg.stop()
        ls.stop()
        images.shutdown()
    Path(args.out).write_text(
        "# Label Studio round trip (bench/interop/ls_roundtrip.py)\n\nOutput of the last hand run:\n\n```\n"
        + "\n".join(LINES)
        + "\n```\n"
    )


if __name__ == "__main__":
    main()
