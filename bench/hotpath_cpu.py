"""CPU per labelling request inside the web process: next + submit through the whole Django/DRF stack, in-process.

    python bench/hotpath_cpu.py [--pairs 600] [--rounds 3]

Wall-clock load figures (bench/annotate_load.py) move with whatever else runs on the machine; the CPU time the
Python process spends per request moves much less, so this is the figure to compare two versions of the hot path
on a shared machine. Starts a throwaway PostgreSQL (bench/pgserver.py), seeds one project with 5,000 items and
one annotator per round, and prints CPU (process time) and wall time per ``next`` and per submit, and the
database queries each makes. Set CACHE_BACKEND/CACHE_LOCATION to measure with a shared cache (Redis).
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pgserver import throwaway_postgres  # noqa: E402


def measure(pairs: int, rounds: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotation.models import Membership, Role
    from annotation.services.projects import LabelSpec, project_create
    from ingress.services.bulk import item_bulk_create

    call_command("migrate", verbosity=0)
    users = get_user_model()
    manager = users.objects.create_user("cpu-manager", password="bench-pass-123")
    project = project_create(
        user=manager,
        name="cpu",
        task_type="text_classification",
        labels=[LabelSpec(value=v) for v in ("pos", "neg", "neutral")],
        annotations_per_item=3,
    )
    item_bulk_create(
        project=project, rows=[{"external_id": f"t{i}", "text": f"bench text {i} " * 3} for i in range(5000)]
    )
    results = {"next_cpu_ms": [], "submit_cpu_ms": [], "next_wall_ms": [], "submit_wall_ms": []}
    connection.force_debug_cursor = True
    queries = {}
    for round_number in range(rounds + 1):  # round 0 warms up imports, caches and the connection
        user = users.objects.create_user(f"cpu{round_number}", password="bench-pass-123")
        Membership.objects.create(
            user=user, project=project, role=Role.ANNOTATOR, acknowledged_guideline_version=1
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        totals = {"next": [0.0, 0.0], "submit": [0.0, 0.0]}
        for pair in range(pairs):
            reset_queries()
            c0, w0 = time.process_time(), time.perf_counter()
            served = client.get(f"/api/projects/{project.pk}/next/")
            c1, w1 = time.process_time(), time.perf_counter()
            n_next = len(connection.queries)
            assert served.status_code == 200, served.status_code
            body = {"item": served.json()["item"]["id"], "label": "pos", "client_id": str(uuid.uuid4())}
            reset_queries()
            c2, w2 = time.process_time(), time.perf_counter()
            stored = client.post(f"/api/projects/{project.pk}/annotations/", body, format="json")
            c3, w3 = time.process_time(), time.perf_counter()
            assert stored.status_code == 201, stored.status_code
            if pair == pairs - 1:
                queries = {"next": n_next, "submit": len(connection.queries)}
            totals["next"][0] += c1 - c0
            totals["next"][1] += w1 - w0
            totals["submit"][0] += c3 - c2
            totals["submit"][1] += w3 - w2
        if round_number:
            for kind in ("next", "submit"):
                results[f"{kind}_cpu_ms"].append(round(totals[kind][0] / pairs * 1000, 2))
                results[f"{kind}_wall_ms"].append(round(totals[kind][1] / pairs * 1000, 2))
    results["queries"] = queries
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with throwaway_postgres() as database_url:
        os.environ.update(
            DATABASE_URL=database_url,
            DJANGO_SETTINGS_MODULE="config.settings",
            LABELGATE_VAR_DIR=tempfile.mkdtemp(prefix="labelgate-cpu-"),
            CELERY_BROKER_URL="filesystem://",
            LABELGATE_API_RATE="100000000/hour",
            LOG_LEVEL="WARNING",
        )
        print(json.dumps(measure(args.pairs, args.rounds)))


if __name__ == "__main__":
    main()
