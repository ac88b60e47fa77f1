"""Flood of labels: does background work keep up, and does a freeze requested right after wait behind it?

Submits N annotations through the submit service (``annotation_submit``, the code behind the API; two annotators
agree on each of N/2 items, k=2) as fast as one process goes, with the workers running as ``scripts/run.sh`` starts
them, then requests a freeze at once. Reports the burst rate, the per-item backlog at the end of the burst (broker
messages, and labelled items waiting for their pass), the freeze's time to finished, and the drain time: from the
end of the burst until every item holds its consensus. Runs on the embedded default (SQLite + filesystem broker)
and on PostgreSQL + Redis.

    python bench/item_flood.py [--annotations 10000] [--backend sqlite|postgres|both] [--root PATH]

``--root`` runs another checkout (e.g. ``git worktree add /tmp/lg-old <commit>``) with this script, for a
before/after comparison; a tree without per-item passes gets one worker on every queue, as its run.sh did.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgserver import free_port, throwaway_postgres  # noqa: E402

HERE = Path(__file__).resolve().parents[1]

DRIVER = r"""
import json, os, sys, time
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from annotation.models import Item, Membership, Role
from core.models import Job
from annotation.services.annotations import AnnotationInput, annotation_submit
from ingress.services.bulk import item_bulk_create
from annotation.services.projects import LabelSpec, project_create
from datasets.services import dataset_freeze_request

n = int(sys.argv[1])
User = get_user_model()
manager = User.objects.create_user("flood-manager", password="x", is_staff=True)
project = project_create(user=manager, name="flood", task_type="text_classification",
                         labels=[LabelSpec(value="pos"), LabelSpec(value="neg")], annotations_per_item=2,
                         guidelines="")
result = item_bulk_create(project=project, rows=[{"external_id": f"t{i}", "text": f"text {i}"} for i in range(n // 2)])
users = [User.objects.create_user(f"flood-{a}", password="x") for a in range(2)]
for user in users:
    Membership.objects.create(user=user, project=project, role=Role.ANNOTATOR, acknowledged_guideline_version=99)
items = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))


def broker_backlog():
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis
        client = redis.Redis.from_url(url)
        return {name: client.llen(name) for name in ("celery", "items")}
    folder = settings.BROKER_DIR / "queue"
    counts = {}
    for path in folder.iterdir():
        queue = path.name.rsplit(".", 2)[-2] if path.name.endswith(".msg") else "?"
        counts[queue] = counts.get(queue, 0) + 1
    return counts


def waiting_items():
    try:
        from annotation.models import LabelledItemMark
    except ImportError:
        return None
    return LabelledItemMark.objects.filter(project=project).count()


def unsettled():
    return Item.objects.filter(project=project, annotation_count__gte=2, consensus_label__isnull=True).count()


t0 = time.perf_counter()
for position, item_id in enumerate(items):
    label = "pos" if position % 3 else "neg"
    for user in users:
        annotation_submit(project=project, user=user, data=AnnotationInput(item_id=item_id, labels=[label]))
burst = time.perf_counter() - t0
backlog = broker_backlog()
waiting = waiting_items()
t_end = time.perf_counter()
job = dataset_freeze_request(project=project, user=manager, params={})
freeze_s = drain_s = None
deadline = t_end + float(os.environ.get("FLOOD_DEADLINE", "1800"))
while time.perf_counter() < deadline and (freeze_s is None or drain_s is None):
    if freeze_s is None and Job.objects.filter(pk=job.pk, status__in=("succeeded", "failed")).exists():
        freeze_s = time.perf_counter() - t_end
        freeze_status = Job.objects.get(pk=job.pk).status
    if drain_s is None and unsettled() == 0:
        drain_s = time.perf_counter() - t_end
    time.sleep(0.1)
print(json.dumps({"annotations": 2 * len(items), "burst_s": burst, "burst_rate": 2 * len(items) / burst,
                  "broker_backlog": backlog, "items_waiting": waiting, "freeze_s": freeze_s,
                  "freeze_status": Job.objects.get(pk=job.pk).status, "drain_s": drain_s,
                  "end_to_end_rate": 2 * len(items) / (burst + drain_s) if drain_s else None}))
"""


def workers(root: Path, env: dict) -> list[subprocess.Popen]:
    common = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
    if (root / "annotation" / "models" / "item_events.py").exists():
        commands = [
            common + ["-Q", "celery", "--concurrency=2", "-n", "jobs@%h"],
            common + ["-Q", "items", "--concurrency=1", "-n", "items@%h"],
        ]
    else:
        commands = [common + ["--concurrency=2"]]
    return [
        subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in commands
    ]


def run(root: Path, n: int, database_url: str | None, broker_url: str | None) -> dict:
    var = tempfile.mkdtemp(prefix="labelgate-flood-")
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        LABELGATE_VAR_DIR=var,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(root),
    )
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    procs = workers(root, env)
    try:
        time.sleep(3)  # workers import the app before the burst starts, as a running install's already have
        out = subprocess.run(
            [sys.executable, "-c", DRIVER, str(n)],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotations", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--root", type=Path, default=HERE)
    args = parser.parse_args()
    print(f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · {args.root}")
    if args.backend in ("sqlite", "both"):
        print(
            "embedded (SQLite + filesystem broker):", json.dumps(run(args.root, args.annotations, None, None))
        )
    if args.backend in ("postgres", "both"):
        redis_port = free_port()
        redis = subprocess.Popen(
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
        try:
            with throwaway_postgres() as database_url:
                result = run(args.root, args.annotations, database_url, f"redis://127.0.0.1:{redis_port}/0")
                print("PostgreSQL + Redis:", json.dumps(result))
        finally:
            redis.terminate()


if __name__ == "__main__":
    main()
