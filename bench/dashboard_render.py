"""Dashboard server render time on PostgreSQL: 100,000- and 1,000,000-item projects, p95 over 30 renders.

Starts a throwaway PostgreSQL (``bench.pgserver.throwaway_postgres``; honours BENCH_DATABASE_URL), seeds each
project with ``tests.quality.dashboard_seed.seed_project`` (the large tables through COPY), runs VACUUM ANALYZE,
takes what Celery beat keeps fresh in production (today's status snapshot and, for a large project, its stored
dashboard snapshot, timed as ``snapshot_ms``), then renders ``/projects/{pid}/dashboard/`` through Django's test
client as the project's reviewer: one warm-up, then ``--renders`` timed renders, each with the query count and the
time spent in the database; cold renders (cache emptied first); and cold renders without the stored dashboard
snapshot (``live_cold_*``: what a large project's page costs when the beat task has not run for a while). Also
times the CSV downloads and the items page once each.

Run: /root/.lgvenv/bin/python bench/dashboard_render.py [--sizes 100000 1000000] [--renders 30]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def copy_writer(model, objects) -> None:
    """COPY model instances into their table (primary keys left to the sequence)."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = f"COPY {model._meta.db_table} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objects:
            row = []
            for f in fields:
                value = f.pre_save(obj, True)  # auto_now fields get their timestamp, as in bulk_create
                if value is None and f.has_default():
                    value = f.get_default()
                if f.get_internal_type() == "JSONField":
                    row.append(None if value is None else json.dumps(value))
                else:
                    row.append(f.get_db_prep_save(value, connection))
            copy.write_row(row)


def seed(n_items: int) -> tuple[int, int]:
    """Returns (project id, reviewer id)."""
    from django.db import connection

    from tests.quality.dashboard_seed import seed_project

    started = time.perf_counter()
    seeded = seed_project(n_items=n_items, seed=n_items // 1000, writer=copy_writer, name=f"bench {n_items}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {n_items} items, {seeded.n_annotations} annotations in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return seeded.project.pk, seeded.reviewer.pk


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) + 1))) - 1))
    return ordered[rank]


def render_stats(project_id: int, reviewer_id: int, renders: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from quality.models import ProjectDashboardSnapshot
    from quality.services import project_dashboard_snapshot_take, project_status_snapshot_take

    def take_snapshots() -> float:
        now = timezone.now()
        project_status_snapshot_take(project_id=project_id, day=now.date(), taken_at=now)
        started = time.perf_counter()
        project_dashboard_snapshot_take(project_id=project_id, taken_at=now)
        return round(1000 * (time.perf_counter() - started), 1)

    snapshot_ms = take_snapshots()
    client = Client()
    client.force_login(get_user_model().objects.get(pk=reviewer_id))
    url = f"/projects/{project_id}/dashboard/"
    response = client.get(url)  # warm-up (templates compiled, connection open)
    assert response.status_code == 200, response.status_code
    times, db_times, counts = [], [], []
    for _ in range(renders):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
        db_times.append(1000 * sum(float(q["time"]) for q in captured.captured_queries))
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]
    # Cold renders: the 300 s activity cache emptied first. A large project's page then reads the stored
    # dashboard snapshot (``cold``); with the snapshot deleted it reads the tables (``live_cold``).
    from django.core.cache import cache

    def cold_ms(n: int) -> list[float]:
        out = []
        for _ in range(n):
            cache.clear()
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            out.append(1000 * (time.perf_counter() - started))
        return out

    cold = cold_ms(max(3, renders // 3))
    ProjectDashboardSnapshot.objects.filter(project_id=project_id).delete()
    live_cold = cold_ms(max(3, renders // 10))
    take_snapshots()
    extra = {}
    for name, path in (
        ("csv_progress", f"{url}?csv=activity"),
        ("items_page", f"/projects/{project_id}/items/"),
        ("items_page_flag", f"/projects/{project_id}/items/?flag=blurry"),
    ):
        started = time.perf_counter()
        assert client.get(path).status_code == 200
        extra[name] = round(1000 * (time.perf_counter() - started), 1)
    return {
        "renders": renders,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "cold_p50_ms": round(statistics.median(cold), 1),
        "cold_p95_ms": round(percentile(cold, 0.95), 1),
        "cold_renders": len(cold),
        "live_cold_p50_ms": round(statistics.median(live_cold), 1),
        "live_cold_p95_ms": round(percentile(live_cold, 0.95), 1),
        "snapshot_ms": snapshot_ms,
        "db_p50_ms": round(statistics.median(db_times), 1),
        "queries": sorted(set(counts)),
        "html_kb": round(len(response.content) / 1024, 1),
        "slowest_queries": [
            {"ms": round(1000 * float(q["time"]), 1), "sql": q["sql"][:160]} for q in slowest
        ],
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument(
        "--project",
        type=int,
        nargs=2,
        metavar=("PID", "REVIEWER"),
        help="render an already seeded project (needs BENCH_DATABASE_URL)",
    )
    args = parser.parse_args()
    from bench.pgserver import throwaway_postgres

    with throwaway_postgres() as url:
        setup_django(url)
        from django.conf import settings
        from django.core.management import call_command

        settings.DEBUG = False
        call_command("migrate", verbosity=0)
        targets = [tuple(args.project)] if args.project else [(n, None) for n in args.sizes]
        for first, second in targets:
            if second is None:
                project_id, reviewer_id = seed(first)
            else:
                project_id, reviewer_id = first, second
            stats = render_stats(project_id, reviewer_id, args.renders)
            print(json.dumps({"project": project_id, **stats}, indent=1), flush=True)
            write_result(first if second is None else None, stats)


def write_result(n_items, stats: dict) -> None:
    import platform

    out = ROOT / "bench" / "results" / "dashboard_render.md"
    if not out.exists():
        out.write_text(
            "# dashboard_render — server render time of the project dashboard (PostgreSQL)\n\n"
            "| items | warm p50 / p95 ms | cold p50 / p95 ms (cache emptied) | queries | items page ms | "
            "items ?flag= ms | run |\n|---:|---|---|---|---:|---:|---|\n"
        )
    load = os.getloadavg()[0]
    with out.open("a") as handle:
        handle.write(
            f"| {n_items or '?'} | {stats['p50_ms']} / {stats['p95_ms']} | {stats['cold_p50_ms']} / "
            f"{stats['cold_p95_ms']} | {stats['queries']} | {stats['items_page']} | {stats['items_page_flag']} | "
            f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load avg {load:.1f}; cold without the stored snapshot {stats['live_cold_p50_ms']} / "
            f"{stats['live_cold_p95_ms']} ms, snapshot task {stats['snapshot_ms']} ms |\n"
        )


if __name__ == "__main__":
    main()
