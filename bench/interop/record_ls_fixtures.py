"""Record real Label Studio exports as test fixtures (run by hand; the tests only read what it wrote).

    LS_VENV=/tmp/lsvenv python bench/interop/record_ls_fixtures.py [--port 8091]

Starts Label Studio on 127.0.0.1 (see ``labelstudio_live``), makes a text project (``<Text value="$review">``)
and an image project (2 uploaded files, 2 http URLs), each task labelled by two annotators (one of them skips
a task) with a prediction per task, and writes under ``tests/fixtures/labelstudio/``: the quick exports
(``GET /api/projects/{id}/export?exportType=JSON|JSON_MIN|CSV``: annotators and predictions as ids only), the
snapshot export (``POST /api/projects/{id}/exports/``: annotators with e-mail, predictions in full), a second
snapshot after one more annotation (for re-import), the labelling configs, the user list and the uploaded media
(``media/upload/<project>/<file>``, as Label Studio stores them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.interop.labelstudio_live import (  # noqa: E402
    IMAGE_CONFIG,
    TEXT_CONFIG,
    LabelStudio,
    Session,
    choices_result,
    export,
    seed_project,
)

OUT = ROOT / "tests" / "fixtures" / "labelstudio"


def snapshot(session: Session, project_id: int) -> bytes:
    created = session.api(
        "POST",
        f"/api/projects/{project_id}/exports/",
        json_body={
            "title": "fixture",
            "serialization_options": {
                "predictions": {"only_id": False},
                "annotations__completed_by": {"only_id": False},
            },
        },
    )
    deadline = time.monotonic() + 60
    while session.api("GET", f"/api/projects/{project_id}/exports/{created['id']}")["status"] != "completed":
        if time.monotonic() > deadline:
            raise RuntimeError("snapshot export did not complete")
        time.sleep(1)
    status, body, _ = session.request(
        "GET", f"/api/projects/{project_id}/exports/{created['id']}/download?exportType=JSON"
    )
    if status != 200:
        raise RuntimeError(f"snapshot download -> {status}")
    return body


def pretty(body: bytes) -> bytes:
    return (json.dumps(json.loads(body), indent=1, ensure_ascii=False) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    ls = LabelStudio(port=args.port).start()
    try:
        owner = ls.session(ls.owner, ls.password)
        second = ls.session("bob@example.com", "bobpass12345", signup=True)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "text.xml").write_text(TEXT_CONFIG + "\n")
        (OUT / "image.xml").write_text(IMAGE_CONFIG + "\n")
        for kind in ("text", "image"):
            seeded = seed_project(owner=owner, second=second, kind=kind)
            for export_type, suffix in (("JSON", "json"), ("JSON_MIN", "min.json"), ("CSV", "csv")):
                body = export(owner, seeded.project_id, export_type)
                (OUT / f"{kind}.{suffix}").write_bytes(body if export_type == "CSV" else pretty(body))
            (OUT / f"{kind}.snapshot.json").write_bytes(pretty(snapshot(owner, seeded.project_id)))
            print(kind, seeded)
            if kind == "text":
                # A later state of the same project: the second annotator labels the task they had skipped.
                control, target = "sentiment", "review"
                second.api(
                    "POST",
                    f"/api/tasks/{seeded.task_ids[-1]}/annotations/",
                    json_body={"result": choices_result(control, target, ["pos"]), "lead_time": 1.5},
                )
                (OUT / "text.snapshot.v2.json").write_bytes(pretty(snapshot(owner, seeded.project_id)))
                (OUT / "text.v2.min.json").write_bytes(pretty(export(owner, seeded.project_id, "JSON_MIN")))
            else:
                media = OUT / "media"
                shutil.rmtree(media, ignore_errors=True)
                shutil.copytree(ls.media_root / "upload", media / "upload")
        users = owner.api("GET", "/api/users/")
        (OUT / "users.json").write_text(
            json.dumps({str(u["id"]): u["email"] for u in users}, indent=1) + "\n"
        )
    finally:
        ls.stop()


if __name__ == "__main__":
    main()
