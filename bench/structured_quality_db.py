"""A span or box quality run end to end on PostgreSQL: N items × 3 annotators stored in the database, then the
quality job's own path (``core.jobs.job_execute`` running ``quality.services.quality_run``, as the Celery task
does): reading the answers, the kind's compute, writing the report, the per-item rows and the items' consensus.

The answers are the simulated crowds of ``bench/span_quality.py`` (documents of 40 tokens, ~10 spans, three
annotators with misses, type confusions and boundary shifts) and ``bench/box_quality.py`` (~5 objects per image,
3 of 10 annotators per image, one a spammer), loaded with COPY. Starts a throwaway PostgreSQL as
``bench/quality_scale.py`` does (unless BENCH_DATABASE_URL is set) and runs the job in a fresh subprocess, so the
peak RSS reported is the run's own (Django + answers + compute + write), not the loader's.

Run: OMP_NUM_THREADS=1 /work/main/.venv/bin/python bench/structured_quality_db.py --kind spans --items 10000
     (--kind boxes; --items 100000)
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from bench.pgserver import throwaway_postgres  # noqa: E402
from bench.quality_scale import copy_model_rows, setup_django  # noqa: E402


def simulated(kind: str, n_items: int) -> tuple[list[str], list[str], list[tuple[int, int, list]]]:
    """(label values, item texts, answers as (item index, annotator index, stored value)) for the kind."""
    if kind == "spans":
        from bench.span_quality import LABELS, simulate

        answers = simulate(n_items)
        rows = [
            (int(i), int(u), value)
            for i, u, value in zip(
                answers.answer_item, answers.answer_user, answers.answer_value, strict=True
            )
        ]
        return list(LABELS), list(answers.item_text), rows
    from bench.box_quality import LABELS, crowd_rows

    rows = [(image - 1, annotator - 1, boxes) for image, annotator, boxes, _, _ in crowd_rows(n_items)]
    return list(LABELS), [""] * n_items, rows


def load(kind: str, n_items: int) -> int:
    """Create the project, its items and the annotations; returns the project id."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotation.models import Annotation, Item, Label, Membership, Project

    started = time.perf_counter()
    labels, texts, rows = simulated(kind, n_items)
    simulated_at = time.perf_counter()
    n_users = 1 + max(u for _, u, _ in rows)
    with transaction.atomic():
        project = Project.objects.create(
            name=f"bench-{kind}",
            task_type="text_spans" if kind == "spans" else "image_boxes",
            annotations_per_item=3,
            max_annotations_per_item=3,
        )
        Label.objects.bulk_create([Label(project=project, value=v, order=i) for i, v in enumerate(labels)])
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bench{u}", password="!") for u in range(n_users)]
        )
        Membership.objects.bulk_create([Membership(user=u, project=project, role="annotator") for u in users])
        copy_model_rows(
            Item,
            {
                "project_id": project.pk,
                "external_id": [f"x{i}" for i in range(n_items)],
                "text": texts,
                "sha256": [f"{i:064x}" for i in range(n_items)],
                "status": "labelled",
                "target_annotations": 3,
                "annotation_count": 3,
            },
            n_items,
        )
        item_ids = np.array(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
        user_ids = [u.pk for u in users]
        copy_model_rows(
            Annotation,
            {
                "project_id": project.pk,
                "item_id": [int(item_ids[i]) for i, _, _ in rows],
                "annotator_id": [user_ids[u] for _, u, _ in rows],
                "labels": [value for _, _, value in rows],
                "unsure": False,
                "unusable": False,
                "comment": "",
                "lead_time_ms": 4000,
                "guideline_version": 1,
                "is_live": True,
            },
            len(rows),
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    n_values = sum(len(value) for _, _, value in rows)
    print(
        f"loaded {n_items:,} items, {len(rows):,} annotations, {n_values:,} {kind} in "
        f"{time.perf_counter() - started:.1f} s (simulation {simulated_at - started:.1f} s)"
    )
    return project.pk


def backend_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a PostgreSQL backend process on this machine, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB, from /proc."""
    status = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def watch_memory() -> dict:
    """Records (current, peak) RSS when the job's compute starts (answers read) and ends (before the write), by
    wrapping the structured compute the job calls; the job's path is otherwise unchanged."""
    import quality.services.engine as engine

    seen: dict = {}
    compute = engine.run_structured_quality

    def watched(**kwargs):
        seen["after_read"] = memory_mib()
        outcome = compute(**kwargs)
        seen["after_compute"] = memory_mib()
        return outcome

    engine.run_structured_quality = watched
    return seen


def run_child(project_id: int) -> None:
    """In a fresh process: one quality run through the job path; prints its figures as JSON. Beside wall time it
    reports the CPU time of this process and of its PostgreSQL backend: on a loaded machine their sum is what a
    quiet one would take, roughly."""
    from django.db import connection

    from annotation.models import Project
    from core.jobs import job_execute
    from core.models import Job, JobStatus
    from quality.job_kinds import QUALITY_JOB
    from quality.services import quality_run

    started = time.perf_counter()
    memory = watch_memory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_before = backend_cpu_seconds(backend)
    project = Project.objects.get(pk=project_id)
    job = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
    job_execute(job_id=str(job.pk), work=lambda job, context: quality_run(job=job, context=context))
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"job failed: {job.error}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = dict(job.result)
    result["total_seconds"] = round(time.perf_counter() - started, 2)
    result["process_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    result["postgres_backend_cpu_seconds"] = round(backend_cpu_seconds(backend) - backend_before, 1)
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    result["rss_mib_current_peak"] = {
        when: [round(current), round(peak)] for when, (current, peak) in memory.items()
    }
    print("RESULT " + json.dumps(result))


def child(url: str, project_id: int) -> dict:
    env = dict(os.environ, BENCH_CHILD_URL=url)
    command = [sys.executable, __file__, "--child", str(project_id)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"run failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("spans", "boxes"))
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        setup_django(os.environ["BENCH_CHILD_URL"])
        run_child(args.child)
        return
    if args.kind is None:
        parser.error("--kind is required")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with throwaway_postgres("-c work_mem=64MB") as url:
        setup_django(url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        project_id = load(args.kind, args.items)
        print(f"load average at the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        result = child(url, project_id)
        print("quality run:", json.dumps(result))
        print(
            f"{args.kind}, {result['n_items']:,} items, {result['n_annotations']:,} annotations: "
            f"{result['total_seconds']} s wall (read {result['seconds']['read']} s, compute "
            f"{result['seconds']['compute']} s, write {result['seconds']['write']} s), peak RSS "
            f"{result['peak_rss_mib']:,} MiB; CPU {result['process_cpu_seconds']} s in the run's process + "
            f"{result['postgres_backend_cpu_seconds']} s in its PostgreSQL backend; load average after "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


if __name__ == "__main__":
    main()
