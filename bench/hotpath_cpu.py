"""CPU per labelling request inside the web process: next + submit through the whole Django/DRF stack, in-process.

    python bench/hotpath_cpu.py [--pairs 600] [--rounds 3]
    python bench/hotpath_cpu.py --sqlite [--profile 200]   # the embedded default's database and cache

Wall-clock load figures (bench/annotate_load.py) move with whatever else runs on the machine; the CPU time the
Python process spends per request moves much less, so this is the figure to compare two versions of the hot path
on a shared machine. Starts a throwaway PostgreSQL (bench/pgserver.py), seeds one project with 5,000 items and
one annotator per round, and prints CPU (process time) and wall time per ``next`` and per submit, and the
database queries each makes. Set CACHE_BACKEND/CACHE_LOCATION to measure with a shared cache (Redis).

--sqlite measures what ``scripts/run.sh`` runs: no DATABASE_URL, so config/settings.py picks the SQLite file
under a fresh LABELGATE_VAR_DIR with its connection settings (WAL, IMMEDIATE, per-request connections) and the
local-memory cache. --session authenticates as the labelling page does (session cookie + CSRF token) instead of
a token. --profile N runs N more pairs under cProfile after the timed rounds and prints the top functions.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.pgserver import throwaway_postgres  # noqa: E402


def measure(pairs: int, rounds: int, session: bool = False, profile: int = 0) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from rest_framework.authtoken.models import Token

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
        client = _client(user, session, Token)
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
    if profile:
        results["profile"] = _profile(project, users, profile, session, Token, Membership, Role)
    return results


def _client(user, session: bool, token_model):
    from django.conf import settings
    from django.utils.crypto import get_random_string
    from rest_framework.test import APIClient

    if not session:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_model.objects.create(user=user).key}")
        return client
    # As the labelling page: a logged-in session, and the CSRF token api.js sends with each write.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    client.credentials(HTTP_X_CSRFTOKEN=secret)
    return client


def _profile(project, users, pairs: int, session: bool, token_model, membership_model, role) -> str:
    user = users.objects.create_user("cpu-profile", password="bench-pass-123")
    membership_model.objects.create(
        user=user, project=project, role=role.ANNOTATOR, acknowledged_guideline_version=1
    )
    client = _client(user, session, token_model)
    profiler = cProfile.Profile()
    for _ in range(pairs):
        profiler.enable()
        served = client.get(f"/api/projects/{project.pk}/next/")
        body = {"item": served.json()["item"]["id"], "label": "pos", "client_id": str(uuid.uuid4())}
        client.post(f"/api/projects/{project.pk}/annotations/", body, format="json")
        profiler.disable()
    if os.environ.get("HOTPATH_PROFILE_OUT"):
        profiler.dump_stats(os.environ["HOTPATH_PROFILE_OUT"])
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sqlite", action="store_true", help="the embedded default (scripts/run.sh) settings"
    )
    parser.add_argument("--session", action="store_true", help="session + CSRF, as the labelling page")
    parser.add_argument("--profile", type=int, default=0, help="pairs to run under cProfile afterwards")
    args = parser.parse_args()
    env = dict(
        DJANGO_SETTINGS_MODULE="config.settings",
        LABELGATE_VAR_DIR=tempfile.mkdtemp(prefix="labelgate-cpu-"),
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_API_RATE="100000000/hour",
        LOG_LEVEL="WARNING",
    )
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
        for name in ("CACHE_BACKEND", "CACHE_LOCATION", "LABELGATE_HOTPATH_CACHE"):
            os.environ.pop(name, None)
        os.environ.update(env)
        result = measure(args.pairs, args.rounds, args.session, args.profile)
    else:
        with throwaway_postgres() as database_url:
            os.environ.update(env, DATABASE_URL=database_url)
            result = measure(args.pairs, args.rounds, args.session, args.profile)
    report = result.pop("profile", None)
    print(json.dumps(result))
    if report:
        print(report)


if __name__ == "__main__":
    main()
