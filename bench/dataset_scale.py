"""Freeze and export a 1,000,000-entry dataset version on PostgreSQL; print and record the numbers.

    python bench/dataset_scale.py [--items 1000000] [--annotations 3] [--write-results]

Starts a throwaway PostgreSQL (like scripts/test.sh) unless DATABASE_URL is set, inserts the items (and their
live annotations) with COPY, then runs each phase in its own subprocess so every phase's peak RSS is its own:
freeze v1, freeze v2 (same data: every item keeps its split), JSONL/CSV/Parquet exports of v2 (drained, bytes
counted), checksum verification and the v1→v2 diff. Run by hand; tests never assert times.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LABELS = ["positive", "negative", "neutral", "mixed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(workdir: Path) -> tuple[str, callable]:
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = workdir / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    shutil.chown(workdir, "postgres", "postgres")
    port = free_port()
    run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "labelgate", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=256MB"
    )
    subprocess.run(
        [
            *run_as,
            str(pgbin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(data / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.run(
            [*run_as, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    return f"postgres://labelgate@127.0.0.1:{port}/postgres", stop


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(n_items: int, n_annotations: int) -> int:
    """Create a project with ``n_items`` labelled items (COPY) and live annotations; returns the project id."""
    from django.db import connection, transaction

    from annotation.models import Annotation, Item
    from annotation.services.projects import LabelSpec, project_create
    from tests.factories import UserFactory

    manager = UserFactory(username="bench-manager")
    annotators = [UserFactory(username=f"bench-annotator-{i}") for i in range(max(n_annotations, 1))]
    project = project_create(
        user=manager,
        name="Scale",
        task_type="text_classification",
        labels=[LabelSpec(value=v) for v in LABELS],
        multi_label=False,
        annotations_per_item=max(n_annotations, 1),
        guidelines="# Rules",
    )
    guideline_id = project.guidelines.get().pk
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = [
            "project_id",
            "external_id",
            "text",
            "file",
            "file_name",
            "content_type",
            "sha256",
            "near_dup_key",
            "metadata",
            "tags",
            "profile",
            "flags",
            "is_gold",
            "status",
            "priority",
            "target_annotations",
            "annotation_count",
            "consensus_label",
            "consensus_confidence",
            "is_label_issue",
            "issue_kinds",
            "issue_severity",
            "created_at",
            "updated_at",
        ]
        copy_sql = f"COPY {Item._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        now = "2026-01-01 00:00:00+00"
        with cursor.cursor.copy(copy_sql) as copy:
            for i in range(n_items):
                label = LABELS[(i * 7919) % len(LABELS)]
                copy.write_row(
                    (
                        project.pk,
                        f"item-{i:07d}",
                        f"review number {i}: the product was {label} overall",
                        "",
                        "",
                        "",
                        f"{i:064x}",
                        "",
                        json.dumps({"source": "bench", "batch": i // 10000}),
                        json.dumps(["en"]),
                        "{}",
                        "[]",
                        False,
                        "labelled",
                        0.0,
                        n_annotations,
                        n_annotations,
                        json.dumps(label),
                        0.5 + ((i * 31) % 50) / 100,
                        False,
                        "[]",
                        0.0,
                        now,
                        now,
                    )
                )
        print(f"  items: {n_items:,} in {time.monotonic() - started:.1f}s", flush=True)
        if n_annotations:
            started = time.monotonic()
            cursor.execute(
                f"SELECT id FROM {Item._meta.db_table} WHERE project_id = %s ORDER BY id LIMIT 1",
                [project.pk],
            )
            first_id = cursor.fetchone()[0]
            columns = [
                "project_id",
                "item_id",
                "annotator_id",
                "labels",
                "unsure",
                "unusable",
                "comment",
                "guideline_id",
                "guideline_version",
                "is_live",
                "created_at",
            ]
            copy_sql = f"COPY {Annotation._meta.db_table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for i in range(n_items):
                    label = json.dumps([LABELS[(i * 7919) % len(LABELS)]])
                    for annotator in annotators[:n_annotations]:
                        copy.write_row(
                            (
                                project.pk,
                                first_id + i,
                                annotator.pk,
                                label,
                                False,
                                False,
                                "",
                                guideline_id,
                                1,
                                True,
                                now,
                            )
                        )
            print(
                f"  annotations: {n_items * n_annotations:,} in {time.monotonic() - started:.1f}s", flush=True
            )
        cursor.execute(f"ANALYZE {Item._meta.db_table}; ANALYZE {Annotation._meta.db_table}")
    return project.pk


def backend_cpu_seconds() -> float | None:
    """CPU time of this process's PostgreSQL backend so far (same machine: read from /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(name: str, project_id: int, version_ids: list[int]) -> dict:
    """Run one measured phase in this process; returns its numbers."""
    from annotation.models import Project
    from datasets.checksums import version_checksum_verify
    from datasets.diffs import version_diff
    from datasets.exporters import stream_csv, stream_jsonl, stream_parquet
    from datasets.models import DatasetVersion
    from datasets.policy import policy_from_params
    from datasets.services import dataset_version_freeze

    baseline = peak_rss_mb()
    db_cpu = backend_cpu_seconds()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    result: dict = {"phase": name}
    if name.startswith("freeze"):
        version = dataset_version_freeze(
            project=Project.objects.get(pk=project_id), policy=policy_from_params({"seed": 1})
        )
        result.update(
            version=version.pk,
            entries=version.n_entries,
            checksum=version.checksum,
            splits=version.split_counts,
        )
    elif name.startswith("export-"):
        version = DatasetVersion.objects.select_related("project").get(pk=version_ids[-1])
        exporter = {"jsonl": stream_jsonl, "csv": stream_csv, "parquet": stream_parquet}[
            name.split("-", 1)[1]
        ]
        size = sum(len(chunk) for chunk in exporter(version=version))
        result.update(rows=version.n_entries, bytes=size)
    elif name == "verify":
        version = DatasetVersion.objects.get(pk=version_ids[-1])
        result.update(ok=version_checksum_verify(version=version)["ok"])
    elif name == "diff":
        base, target = (DatasetVersion.objects.get(pk=pk) for pk in version_ids[-2:])
        result.update(counts=version_diff(base=base, target=target, limit=100)["counts"])
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    db_cpu_after = backend_cpu_seconds()
    if db_cpu is not None and db_cpu_after is not None:
        result["db_cpu_seconds"] = round(db_cpu_after - db_cpu, 2)
    result.update(
        seconds=round(seconds, 2),
        cpu_seconds=round(after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime, 2),
        load_avg=round(os.getloadavg()[0], 1),
        baseline_rss_mb=round(baseline, 1),
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
    if "rows" in result:
        result["rows_per_s"] = round(result["rows"] / seconds)
        result["mb_per_s"] = round(result["bytes"] / seconds / 1e6, 1)
    return result


def write_results(args, results: list[dict]) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    by = {r["phase"]: r for r in results}
    lines = [
        "# Dataset freeze and export at scale",
        "",
        f"`python bench/dataset_scale.py --items {args.items} --annotations {args.annotations}` on "
        f"{os.cpu_count()} vCPU ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB RAM, "
        f"PostgreSQL (throwaway, fsync off) on the same machine, Python {platform.python_version()}. "
        f"{args.items:,} labelled text items, {args.items * args.annotations:,} live annotations. "
        "Each phase ran in its own process; peak RSS is that process's maximum resident set "
        "(baseline = after Django setup, before the phase: the apps no longer import torch or pandas at startup). "
        "Python CPU s is the phase process's own CPU time, DB backend CPU s that of its PostgreSQL backend "
        "(read from /proc; background writers and WAL not included); load avg is the "
        "1-minute load average at the end of the phase (the machine has 2 cores and was shared).",
        "",
        "| phase | wall s | Python CPU s | DB backend CPU s | load avg | rows/s | MB/s | peak RSS (MB) | baseline RSS (MB) | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        notes = ""
        if r["phase"].startswith("freeze"):
            notes = f"{r['entries']:,} entries, splits {r['splits']}"
        elif "bytes" in r:
            notes = f"{r['bytes'] / 1e6:,.0f} MB streamed"
        elif "ok" in r:
            notes = f"checksum ok: {r['ok']}"
        elif "counts" in r:
            notes = f"{r['counts']}"
        lines.append(
            f"| {r['phase']} | {r['seconds']} | {r['cpu_seconds']} | {r.get('db_cpu_seconds', '')} | {r['load_avg']} | "
            f"{r.get('rows_per_s', '')} | "
            f"{r.get('mb_per_s', '')} | {r['peak_rss_mb']} | "
            f"{r['baseline_rss_mb']} | {notes} |"
        )
    targets = [
        f"- freeze ≤ 60 s: v1 {by['freeze-v1']['seconds']} s, v2 {by['freeze-v2']['seconds']} s",
        f"- JSONL ≥ 100,000 rows/s: {by['export-jsonl']['rows_per_s']:,} rows/s",
        "- memory flat (< 300 MB) while exporting: growth over baseline "
        + ", ".join(
            f"{p} {round(by[p]['peak_rss_mb'] - by[p]['baseline_rss_mb'], 1)} MB"
            for p in by
            if p.startswith("export")
        ),
    ]
    lines += ["", "Targets:", *targets, ""]
    out = ROOT / "bench" / "results" / "dataset_scale.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--annotations", type=int, default=3)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--versions", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        django_setup()
        versions = [int(v) for v in args.versions.split(",") if v]
        print(json.dumps(phase(args.phase, args.project, versions)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="labelgate-bench-"))
    stop = None
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"], stop = start_postgres(workdir)
    os.environ["LABELGATE_VAR_DIR"] = str(workdir / "var")
    try:
        django_setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"seeding {args.items:,} items", flush=True)
        project_id = seed(args.items, args.annotations)
        from django.db import connections

        connections.close_all()
        results, versions = [], []
        for name in [
            "freeze-v1",
            "freeze-v2",
            "export-jsonl",
            "export-csv",
            "export-parquet",
            "verify",
            "diff",
        ]:
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--phase",
                    name,
                    "--project",
                    str(project_id),
                    "--versions",
                    ",".join(map(str, versions)),
                ],
                capture_output=True,
                text=True,
                env=os.environ.copy(),
            )
            if output.returncode != 0:
                raise SystemExit(f"phase {name} failed:\n{output.stderr[-4000:]}")
            result = json.loads(output.stdout.strip().splitlines()[-1])
            if "version" in result:
                versions.append(result["version"])
            results.append(result)
            print(json.dumps(result), flush=True)
        if args.write_results:
            write_results(args, results)
    finally:
        if stop:
            stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
