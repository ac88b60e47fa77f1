"""A full quality run at scale on PostgreSQL: 1,000,000 annotations (200,000 items × 5 of 50 annotators,
10 labels), read → compute → write, timed per phase, with the peak RSS of the process doing the run.

Starts a throwaway PostgreSQL (initdb as the postgres user on a free port, like scripts/test.sh) unless
BENCH_DATABASE_URL is set, loads the data with COPY, then runs the quality job in a fresh subprocess so its
peak RSS is the run's own (Django + data + metrics), not the loader's.

Run: /root/.lgvenv/bin/python bench/quality_scale.py [--items 200000] [--per-item 5] [--annotators 50]
     [--with-probs] [--compare-bulk-update 20000]
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
from bench.pgserver import throwaway_postgres  # noqa: E402


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def copy_model_rows(model, columns: dict, n: int) -> None:
    """COPY ``n`` rows into ``model``'s table. ``columns`` maps attnames to a list (one value per row) or a
    constant; every other concrete field gets its default, so new nullable/defaulted fields do not break this."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    names, values, per_row = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in columns:
            continue
        names.append(field.column)
        is_json = field.get_internal_type() == "JSONField"
        if field.attname in columns and isinstance(columns[field.attname], list):
            per_row.append(len(values))
            given = columns[field.attname]
            values.append([json.dumps(v) if is_json and v is not None else v for v in given])
            continue
        if field.attname in columns:
            value = columns[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()  # the default, else "" for non-null text fields, else None
        values.append(json.dumps(value) if is_json and value is not None else value)
    encoded = values
    sql = f"COPY {model._meta.db_table} ({', '.join(names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        row = list(encoded)
        for r in range(n):
            for i in per_row:
                row[i] = encoded[i][r]
            copy.write_row(row)


def load(args) -> int:
    """Create the project and its data; returns the project id."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from annotation.models import Annotation, Item, Label, Membership, Project

    rng = np.random.default_rng(0)
    n_items, per_item, n_users, k = args.items, args.per_item, args.annotators, 10
    labels = [f"class_{c}" for c in range(k)]
    started = time.perf_counter()
    with transaction.atomic():
        project = Project.objects.create(
            name="bench", task_type="text_classification", annotations_per_item=per_item
        )
        Label.objects.bulk_create([Label(project=project, value=v, order=i) for i, v in enumerate(labels)])
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bench{u}", password="!") for u in range(n_users)]
        )
        Membership.objects.bulk_create([Membership(user=u, project=project, role="annotator") for u in users])
        truth = rng.integers(0, k, n_items)
        tag_names = ["night", "rain", "blurry", "indoor", "outdoor", "crowd", "close_up", "low_light"]
        tag_share = np.linspace(0.05, 0.4, len(tag_names))
        has_tag = rng.random((n_items, len(tag_names))) < tag_share
        tags = [[tag_names[t] for t in np.flatnonzero(row)] for row in has_tag]
        gold = np.where(rng.random(n_items) < 0.05, truth, -1)
        dup = np.where(rng.random(n_items) < 0.02, rng.integers(0, 1000, n_items), -1)
        flagged = rng.random(n_items) < 0.01
        probs_rows = None
        if args.with_probs:
            logits = rng.normal(size=(n_items, k))
            logits[np.arange(n_items), truth] += 2.5
            probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            probs_rows = [dict(zip(labels, np.round(row, 4).tolist(), strict=True)) for row in probs]
        copy_model_rows(
            Item,
            {
                "project_id": project.pk,
                "external_id": [f"x{i}" for i in range(n_items)],
                "text": "",
                "sha256": [f"{i:064x}" for i in range(n_items)],
                "tags": tags,
                "flags": [["empty"] if f else [] for f in flagged.tolist()],
                "gold_label": [labels[g] if g >= 0 else None for g in gold.tolist()],
                "is_gold": [bool(g >= 0) for g in gold.tolist()],
                "near_dup_group": [None if d < 0 else int(d) for d in dup.tolist()],
                "status": "labelled",
                "target_annotations": per_item,
                "annotation_count": per_item,
                "predicted_probs": probs_rows if probs_rows is not None else None,
            },
            n_items,
        )
        item_ids = np.array(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
        user_ids = np.array([u.pk for u in users])
        chosen = np.argsort(rng.random((n_items, n_users)), axis=1)[:, :per_item]
        skill = rng.uniform(0.55, 0.95, n_users)
        correct = rng.random((n_items, per_item)) < skill[chosen]
        label_idx = np.where(correct, truth[:, None], rng.integers(0, k, (n_items, per_item)))
        n_ann = n_items * per_item
        copy_model_rows(
            Annotation,
            {
                "project_id": project.pk,
                "item_id": np.repeat(item_ids, per_item).tolist(),
                "annotator_id": user_ids[chosen.ravel()].tolist(),
                "labels": [[labels[c]] for c in label_idx.ravel().tolist()],
                "unsure": (rng.random(n_ann) < 0.02).tolist(),
                "unusable": False,
                "comment": "",
                "lead_time_ms": rng.integers(500, 20_000, n_ann).tolist(),
                "guideline_version": rng.integers(1, 4, n_ann).tolist(),
                "is_live": True,
            },
            n_ann,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {n_items} items and {n_ann} annotations in {time.perf_counter() - started:.1f} s")
    return project.pk


def reset(project_id: int) -> None:
    """Put a reused project back to its freshly loaded state (no reports, no consensus, all labelled)."""
    from annotation.models import Item
    from core.models import Job
    from quality.models import QualityReport

    QualityReport.objects.filter(project_id=project_id).delete()
    Job.objects.filter(project_id=project_id).delete()
    Item.objects.filter(project_id=project_id).update(
        status="labelled",
        consensus_label=None,
        consensus_confidence=None,
        label_quality=None,
        is_label_issue=False,
        issue_kinds=[],
        issue_severity=0.0,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def run_child(project_id: int, job_id: str | None) -> None:
    """In a fresh process: one quality run of the project (or a re-run of ``job_id``); prints JSON."""
    from annotation.models import Project
    from core.jobs import job_execute
    from core.models import Job, JobStatus
    from quality.job_kinds import QUALITY_JOB
    from quality.services import quality_run

    started = time.perf_counter()
    project = Project.objects.get(pk=project_id)
    if job_id:  # a redelivered task: the job is running again
        Job.objects.filter(pk=job_id).update(status=JobStatus.QUEUED)
        job = Job.objects.get(pk=job_id)
    else:
        job = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
    # The same path as the Celery task: job_execute moves the job and stores the work's result.
    job_execute(job_id=str(job.pk), work=lambda job, context: quality_run(job=job, context=context))
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"job failed: {job.error}")
    result = dict(job.result)
    result["total_seconds"] = round(time.perf_counter() - started, 2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["process_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["job"] = str(job.pk)
    print("RESULT " + json.dumps(result))


def compare_bulk_update(project_id: int, n: int) -> None:
    """Time Django's bulk_update of the six denormalised fields for ``n`` items (the alternative to COPY)."""
    from django.db import transaction

    from annotation.models import Item

    items = list(Item.objects.filter(project_id=project_id).order_by("id").only("id")[:n])
    for item in items:
        item.consensus_label, item.consensus_confidence, item.label_quality = "class_1", 0.7, None
        item.is_label_issue, item.issue_kinds, item.issue_severity = False, [], 0.0
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, n, 1000):
            Item.objects.bulk_update(
                items[start : start + 1000],
                [
                    "consensus_label",
                    "consensus_confidence",
                    "label_quality",
                    "is_label_issue",
                    "issue_kinds",
                    "issue_severity",
                ],
            )
        transaction.set_rollback(True)
    print(f"bulk_update of {n} items: {time.perf_counter() - started:.1f} s")


def child(url: str, project_id: int, job_id: str | None) -> dict:
    env = dict(os.environ, BENCH_CHILD_URL=url)
    command = [sys.executable, __file__, "--child", str(project_id)] + (["--job", job_id] if job_id else [])
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"run failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--per-item", type=int, default=5)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--with-probs", action="store_true", help="store model probabilities (CROWDLAB path)")
    parser.add_argument("--compare-bulk-update", type=int, default=0)
    parser.add_argument(
        "--reuse", action="store_true", help="with BENCH_DATABASE_URL: reuse a loaded project"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        setup_django(os.environ["BENCH_CHILD_URL"])
        run_child(args.child, args.job)
        return
    with throwaway_postgres("-c work_mem=64MB") as url:
        setup_django(url)
        from django.core.management import call_command

        from annotation.models import Project

        call_command("migrate", verbosity=0)
        existing = Project.objects.filter(name="bench").order_by("-id").first() if args.reuse else None
        if existing:
            reset(existing.pk)
        project_id = existing.pk if existing else load(args)
        first = child(url, project_id, None)
        print("first run:", json.dumps(first))
        again = child(url, project_id, first["job"])
        print("re-run of the same job:", json.dumps(again))
        if args.compare_bulk_update:
            compare_bulk_update(project_id, args.compare_bulk_update)


if __name__ == "__main__":
    main()
