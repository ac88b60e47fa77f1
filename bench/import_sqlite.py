"""Text import throughput on the embedded default (SQLite in WAL mode, settings as ``scripts/run.sh`` runs them),
bulk API and file job, optionally for two code trees alternated back to back.

    python bench/import_sqlite.py [--rows 10000 100000] [--runs 3] [--tree OLD_TREE --tree NEW_TREE]
                                  [--profile DIR]

For each tree, one database is migrated once (``DATABASE_URL`` unset, ``LABELGATE_VAR_DIR`` a temporary
directory) and copied before every run, so each run starts from the same empty database. A run is a fresh child
process (cwd = the tree, so it imports that tree's code) that creates a text project and times, for every
``--rows`` size:

* bulk: the rows as JSON posted to ``/api/projects/<id>/items/bulk/`` through Django's test client (request
  parsing, validation, profiling, the insert; at most 10,000 rows per call as the API allows, so larger sizes
  are several calls), the refresh job it schedules is not waited for;
* file: the same rows as a CSV through the import job's work function (``import_local_file``: reading,
  profiling, hashing, the inserts, duplicate groups, batch summary and drift), each into a fresh project.

Rows come from ``bench/import_scale.py``'s generator (pseudo-prose, ~1% exact copies, ~1% one-word edits,
~0.5% blank rows). Each child first imports 20 rows both ways into a throwaway project (see ``child``). With ``--profile DIR`` each child also writes a cProfile of every import there. Runs
alternate trees (old, new, old, new, ...); ``uptime``'s load average is printed before each run. Not a test:
numbers are printed.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK_MAX = 10_000


def child(rows_sizes: list[int], csv_dir: str, profile_dir: str | None) -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import cProfile

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from annotation.models import Item, Membership, Role
    from annotation.services.projects import LabelSpec, project_create
    from ingress.services.imports import import_local_file

    user, _ = get_user_model().objects.get_or_create(username="bench-import", defaults={"is_staff": True})

    def fresh_project(name: str):
        project = project_create(
            user=user,
            name=name,
            task_type="text_classification",
            labels=[LabelSpec(value="a"), LabelSpec(value="b")],
        )
        Membership.objects.get_or_create(project=project, user=user, defaults={"role": Role.MANAGER})
        return project

    client = Client()
    client.force_login(user)
    # Warm-up: the first import in a process loads the profiling and hashing libraries (numpy, scipy), about a
    # second; a server's web or worker process pays that once, so the timed imports below start warm.
    warm = fresh_project(f"bench warm-up {time.time():.0f}")
    client.post(
        f"/api/projects/{warm.pk}/items/bulk/",
        data=json.dumps([{"external_id": f"w{i}", "text": f"warm-up row {i}"} for i in range(20)]),
        content_type="application/json",
    )
    warm_csv = os.path.join(csv_dir, f"warm-{os.getpid()}.csv")
    with open(warm_csv, "w", encoding="utf-8") as handle:
        handle.write("external_id,text\n" + "".join(f"v{i},warm-up line {i}\n" for i in range(20)))
    import_local_file(project=warm, path=warm_csv, user=user)
    out: dict = {"database": connection.vendor, "journal_mode": None, "runs": []}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        out["journal_mode"] = cursor.fetchone()[0]
    for n in rows_sizes:
        path = os.path.join(csv_dir, f"texts-{n}.csv")
        with open(path, encoding="utf-8", newline="") as handle:
            rows = [
                {
                    "external_id": r["external_id"],
                    "text": r["text"],
                    "tags": [t for t in r["tags"].split(";") if t],
                }
                for r in csv.DictReader(handle)
            ]
        for kind in ("bulk", "file"):
            project = fresh_project(f"bench {kind} {n} {time.time():.0f}")
            profiler = cProfile.Profile() if profile_dir else None
            start, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            if kind == "bulk":
                created = 0
                for offset in range(0, len(rows), BULK_MAX):
                    response = client.post(
                        f"/api/projects/{project.pk}/items/bulk/",
                        data=json.dumps(rows[offset : offset + BULK_MAX]),
                        content_type="application/json",
                    )
                    if response.status_code not in (200, 201):
                        raise SystemExit(f"bulk -> {response.status_code}: {response.content[:300]!r}")
                    created += response.json()["created"]
                status = "succeeded"
            else:
                job = import_local_file(project=project, path=path, user=user)
                status = job.status
                created = (job.result or {}).get("created")
            if profiler:
                profiler.disable()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            if profiler:
                profiler.dump_stats(os.path.join(profile_dir, f"{kind}-{n}-{os.getpid()}.prof"))
            out["runs"].append(
                {
                    "kind": kind,
                    "rows": n,
                    "status": status,
                    "created": created,
                    "in_db": Item.objects.filter(project=project).count(),
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                }
            )
    print(json.dumps(out))


def _migrated_db(tree: Path, python: str, work: Path) -> Path:
    var = work / "template"
    var.mkdir(parents=True)
    env = {**os.environ, "LABELGATE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=tree, env=env, check=True)
    return var / "labelgate.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, action="append", help="code tree to run (repeat to alternate)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sizes, csv_dir = args.child
        child([int(s) for s in sizes.split(",")], csv_dir, os.environ.get("BENCH_PROFILE_DIR"))
        return
    sys.path.insert(0, str(ROOT))
    from bench.import_scale import write_text_csv

    trees = [t.resolve() for t in (args.tree or [ROOT])]
    results: dict[str, list] = {str(t): [] for t in trees}
    with tempfile.TemporaryDirectory(prefix="labelgate-bench-sqlite-") as tmp:
        work = Path(tmp)
        for n in args.rows:
            write_text_csv(work / f"texts-{n}.csv", n)
        templates = {t: _migrated_db(t, args.python, work / f"tree{i}") for i, t in enumerate(trees)}
        for run in range(args.runs):
            for tree in trees:
                var = work / f"run-{run}-{trees.index(tree)}"
                var.mkdir()
                shutil.copy(templates[tree], var / "labelgate.sqlite3")
                env = {
                    **os.environ,
                    "LABELGATE_VAR_DIR": str(var),
                    "DJANGO_SETTINGS_MODULE": "config.settings",
                }
                env.pop("DATABASE_URL", None)
                if args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    env["BENCH_PROFILE_DIR"] = str(args.profile.resolve())
                load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
                proc = subprocess.run(
                    [
                        args.python,
                        str(Path(__file__).resolve()),
                        "--child",
                        ",".join(map(str, args.rows)),
                        str(work),
                    ],
                    cwd=tree,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
                if proc.returncode or not lines:
                    raise SystemExit(f"run failed in {tree}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
                data = json.loads(lines[-1])
                data["load"] = load.split("load average:")[-1].strip()
                results[str(tree)].append(data)
                shutil.rmtree(var)
                summary = ", ".join(
                    f"{r['kind']} {r['rows']}: {r['rows'] / r['seconds']:,.0f} rows/s ({r['status']}, {r['in_db']} in db)"
                    for r in data["runs"]
                )
                print(
                    f"run {run + 1} {tree.name} [{data['journal_mode']}, load {data['load']}]: {summary}",
                    flush=True,
                )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
