"""The active-learning training/re-scoring job at scale on PostgreSQL: a 10-label image project with a large pool
(1,000,000 items for issue #5) plus ~2,000 labelled items, strategy BALD (10 MC-dropout samples). Reports wall
seconds per phase (feature check, reads, training, scoring, writes), the job's total and the peak RSS of the
process that ran it.

    .venv/bin/python bench/al_scoring_job.py [--pool 1000000] [--labelled 2000] [--runs 2]

Starts a throwaway PostgreSQL (bench/pgserver.py) unless BENCH_DATABASE_URL is set, migrates in a subprocess,
seeds items, annotations, a feature space and a cached 64-dim vector for every item with COPY. The space is the
stateless image extractor's identity, so the job reuses the cached vectors and computes none (a trained project
re-scoring its pool). Each run is a new train job executed by ``job_execute`` + ``model_train_run`` in a fresh
child process, so its peak RSS (VmHWM) is the job's own. Run 1 inserts every Prediction row; run 2 is the steady
state of a project being re-scored (every row updated). Phase times are exclusive: the child wraps the adapters'
reads and writes and the model/strategy calls with timers; "other" is what no wrapper covers. Not a test.
"""

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.pgserver import throwaway_postgres  # noqa: E402
from bench.quality_scale import copy_model_rows  # noqa: E402

N_CLASSES, DIM, K, N_ANNOTATORS = 10, 64, 3, 5
PHASES = ("features", "read", "train", "score", "write", "other")


def _env(url: str, var_dir: str) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LABELGATE_VAR_DIR=var_dir,
        CELERY_BROKER_URL="filesystem://",
        LOG_LEVEL="WARNING",
    )


def seed(pool: int, labelled: int) -> int:
    """Create the project, its items, votes, feature space and cached features; returns the project id."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from activelearning.features import ImageFeatureExtractor
    from activelearning.models import FeatureCache, FeatureSpace
    from annotation.models import Annotation, Item, Label, Membership, Project

    rng = np.random.default_rng(0)
    n = pool + labelled
    labels = [f"class_{c}" for c in range(N_CLASSES)]
    started = time.perf_counter()
    with transaction.atomic():
        project = Project.objects.create(
            name="bench al job", task_type="image_classification", annotations_per_item=K, rescore_every=0
        )
        Label.objects.bulk_create([Label(project=project, value=v, order=i) for i, v in enumerate(labels)])
        users = get_user_model().objects.bulk_create(
            [
                get_user_model()(username=f"al-bench-p{project.pk}-{u}", password="!")
                for u in range(N_ANNOTATORS)
            ]
        )
        Membership.objects.bulk_create([Membership(user=u, project=project, role="annotator") for u in users])
        truth = rng.integers(0, N_CLASSES, n)
        stride = max(n // max(labelled, 1), 1)
        is_labelled = (np.arange(n) % stride == 0) & (np.cumsum(np.arange(n) % stride == 0) <= labelled)
        roll = rng.random(n)
        started_item = ~is_labelled & (roll < 0.01)  # 1 % of the pool has one vote (STARTED band)
        gold = ~is_labelled & ~started_item & (roll > 0.9995)  # ~500 gold items: held-out predictions
        status = np.where(is_labelled, "labelled", np.where(started_item, "in_progress", "new"))
        count = np.where(is_labelled, K, np.where(started_item, 1, 0))
        copy_model_rows(
            Item,
            {
                "project_id": project.pk,
                "external_id": [f"img-{i}" for i in range(n)],
                "file": [f"projects/{project.pk}/bench/{i}.png" for i in range(n)],
                "file_name": "bench.png",
                "content_type": "image/png",
                "sha256": [f"{i:064x}" for i in range(n)],
                "status": status.tolist(),
                "is_gold": gold.tolist(),
                "gold_label": [labels[t] if g else None for t, g in zip(truth, gold, strict=True)],
                "target_annotations": K,
                "annotation_count": count.tolist(),
                "consensus_label": [
                    labels[t] if f else None for t, f in zip(truth, is_labelled, strict=True)
                ],
            },
            n,
        )
        item_ids = np.asarray(
            Item.objects.filter(project=project).order_by("id").values_list("id", flat=True)
        )
        voted = np.flatnonzero(is_labelled | started_item)
        per_item = np.where(is_labelled[voted], K, 1)
        vote_items = np.repeat(voted, per_item)
        annotator = np.concatenate([rng.permutation(N_ANNOTATORS)[:c] for c in per_item])
        vote = np.where(
            rng.random(len(vote_items)) < 0.85, truth[vote_items], rng.integers(0, N_CLASSES, len(vote_items))
        )
        user_ids = np.asarray([u.pk for u in users])
        copy_model_rows(
            Annotation,
            {
                "project_id": project.pk,
                "item_id": item_ids[vote_items].tolist(),
                "annotator_id": user_ids[annotator].tolist(),
                "labels": [[labels[v]] for v in vote.tolist()],
                "lead_time_ms": 3000,
                "is_live": True,
            },
            len(vote_items),
        )
        identity = ImageFeatureExtractor().identity
        space = FeatureSpace.objects.create(
            project=project,
            key=f"{identity}#bench-{project.pk}",
            extractor=identity,
            params={},
            state=None,
            dim=DIM,
            n_fit_items=n,
        )
        # Overlapping classes (about 80 % accuracy), so BALD and the other scores are not all zero.
        centres = rng.normal(scale=0.35, size=(N_CLASSES, DIM)).astype(np.float32)
        now = timezone.now()
        table = FeatureCache._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {table} (item_id, extractor, vector, error, created_at) FROM STDIN"
            ) as copy,
        ):
            for start in range(0, n, 100_000):
                stop = min(start + 100_000, n)
                block = centres[truth[start:stop]] + 1.5 * rng.normal(size=(stop - start, DIM)).astype(
                    np.float32
                )
                for pk, row in zip(item_ids[start:stop].tolist(), block, strict=True):
                    copy.write_row((pk, space.key, row.tobytes(), "", now))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {n:,} items ({pool:,} pool, {int(is_labelled.sum()):,} labelled, {int(started_item.sum()):,} "
        f"started, {int(gold.sum()):,} gold), {len(vote_items):,} votes and {n:,} cached {DIM}-dim vectors "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return project.pk


class PhaseClock:
    """Exclusive wall time per phase: a wrapped call's time goes to its phase minus the time of wrapped calls
    inside it. ``inherit`` calls (model fits, predictions) count in the phase of the wrapped call around them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.stack: list[list] = []  # [phase, started, time in nested wrapped calls]

    def _enter(self, phase: str, inherit: bool) -> None:
        if inherit and self.stack:
            phase = self.stack[-1][0]
        self.stack.append([phase, time.perf_counter(), 0.0])

    def _leave(self) -> None:
        phase, started, nested = self.stack.pop()
        elapsed = time.perf_counter() - started
        self.seconds[phase] += elapsed - nested
        if self.stack:
            self.stack[-1][2] += elapsed

    def wrap(self, owner, name: str, phase: str, *, inherit: bool = False, generator: bool = False) -> None:
        original = getattr(owner, name)

        def timed_call(*args, **kwargs):
            self._enter(phase, inherit)
            try:
                return original(*args, **kwargs)
            finally:
                self._leave()

        def timed_generator(*args, **kwargs):
            iterator = original(*args, **kwargs)
            while True:
                self._enter(phase, inherit)
                try:
                    value = next(iterator)
                except StopIteration:
                    return
                finally:
                    self._leave()
                yield value

        setattr(owner, name, functools.wraps(original)(timed_generator if generator else timed_call))


def child(project_id: int) -> None:
    """In a fresh process: one train job of the project, strategy BALD; prints a RESULT line."""
    import django

    django.setup()
    from django.db import connection

    from activelearning import adapters, basemodel, strategies
    from activelearning.job_kinds import TRAIN_JOB
    from activelearning.services import scoring, targets, training
    from activelearning.services.jobs import TRAIN_TASK
    from annotation.models import Project
    from core.jobs import job_execute
    from core.models import Job, JobStatus

    clock = PhaseClock()
    clock.wrap(training, "feature_space_ensure", "features")
    for name in ("training_set_load", "features_for_items", "previous_predictions", "votes_load"):
        clock.wrap(adapters, name, "read")
    for name in ("pool_chunks", "held_out_chunks"):
        clock.wrap(adapters, name, "read", generator=True)
    for name in (
        "predictions_write",
        "priorities_write",
        "targets_set_for_new",
        "relabel_scores_write",
        "items_reopen",
    ):
        clock.wrap(adapters, name, "write")
    clock.wrap(training, "_version_store", "write")
    clock.wrap(basemodel, "out_of_sample_proba", "train")
    clock.wrap(training.outlook, "curve_and_projection", "train")
    clock.wrap(training, "_relabel_scores", "train")
    clock.wrap(targets, "overlap_apply", "train")
    clock.wrap(basemodel.BaseModel, "fit", "train", inherit=True)
    clock.wrap(basemodel.BaseModel, "predict_proba", "score", inherit=True)
    clock.wrap(scoring, "pool_score", "score")
    clock.wrap(strategies, "score", "score")
    queries = {"n": 0, "seconds": 0.0}
    by_kind: dict[str, float] = defaultdict(float)

    def count_queries(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            queries["n"] += 1
            queries["seconds"] += elapsed
            words = sql.split()
            table = next(
                (w for w in words[1:6] if w.strip('"').startswith(("annotation_", "activelearning_", "al_"))),
                "",
            )
            by_kind[f"{words[0].upper()} {table.strip(chr(34))}"] += elapsed

    # A worker pays for importing the ML stack (torch, its optimisers' lazy imports, librosa, scikit-learn) once,
    # not per job: warm it up before the clock starts and report it apart.
    warm_started = time.perf_counter()
    import numpy as np
    import torch

    import activelearning.features  # noqa: F401
    from activelearning import relabel, stopping  # noqa: F401

    warm_X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    basemodel.BaseModel(config=basemodel.TrainingConfig(max_epochs=3)).fit(
        warm_X, np.arange(20) % 2, n_classes=2
    )
    clock.seconds.clear()
    warm_seconds = time.perf_counter() - warm_started
    rss_setup = peak_rss_mib()
    project = Project.objects.get(pk=project_id)
    job = Job.objects.create(
        kind=TRAIN_JOB,
        task_name=TRAIN_TASK,
        project=project,
        params={"strategy": "bald", "seed": 0, "n_labelled": 0, "trigger": "manual"},
    )
    load_before = os.getloadavg()
    cpu_started, started = time.process_time(), time.perf_counter()
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # a cProfile dump of the job, for finding where the time goes
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    with connection.execute_wrapper(count_queries):
        clock._enter("other", False)
        job_execute(
            job_id=str(job.pk), work=lambda job, context: training.model_train_run(job=job, context=context)
        )
        clock._leave()
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"job failed: {job.error}")
    result = {
        key: job.result.get(key)
        for key in (
            "n_pool",
            "n_scored",
            "n_batch",
            "n_train",
            "n_held_out",
            "n_features_computed",
            "cv_accuracy",
            "n_reopened",
        )
    }
    print(
        "RESULT "
        + json.dumps(
            {
                **result,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "phases": dict(clock.seconds),
                "queries": queries,
                "query_seconds_by_kind": dict(by_kind),
                "rss_setup_mib": rss_setup,
                "warm_up_seconds": warm_seconds,
                "peak_rss_mib": peak_rss_mib(),
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "torch_threads": torch.get_num_threads(),
            }
        )
    )


def peak_rss_mib() -> float:
    """This process's own peak RSS. ``ru_maxrss`` is kept across exec, so a child started by a big parent would
    report the parent's size; VmHWM belongs to the current address space."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(env: dict, project_id: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(project_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"child failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=100_000, help="unlabelled items (issue #5: 1000000)")
    parser.add_argument("--labelled", type=int, default=2_000)
    parser.add_argument(
        "--runs", type=int, default=2, help="train jobs in a row (run 2+ update every prediction)"
    )
    parser.add_argument("--project", type=int, help="with BENCH_DATABASE_URL: re-score this seeded project")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with (
        tempfile.TemporaryDirectory(prefix="labelgate-bench-al-") as var_dir,
        throwaway_postgres("-c work_mem=64MB") as url,
    ):
        env = _env(url, var_dir)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.update(env)
        import django

        django.setup()
        project_id = args.project or seed(args.pool, args.labelled)
        header = " | ".join(f"{p} s" for p in PHASES)
        print(
            f"| run | pool | {header} | total s | CPU s | queries (s) | peak RSS MiB | load 1 min before/after |"
        )
        print("|---" * (len(PHASES) + 7) + "|")
        for run in range(1, args.runs + 1):
            r = run_child(env, project_id)
            phases = " | ".join(f"{r['phases'].get(p, 0.0):.1f}" for p in PHASES)
            print(
                f"| {run} | {r['n_pool']:,} | {phases} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
                f"{r['queries']['n']:,} ({r['queries']['seconds']:.1f}) | {r['peak_rss_mib']:.0f} | "
                f"{r['load_before'][0]:.2f} / {r['load_after'][0]:.2f} |",
                flush=True,
            )
            slow = sorted(r["query_seconds_by_kind"].items(), key=lambda pair: -pair[1])[:6]
            print("    statement time: " + ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in slow))
            print(
                f"    run {run}: scored {r['n_scored']:,}, batch {r['n_batch']}, trained on {r['n_train']}, "
                f"held out {r['n_held_out']}, features computed {r['n_features_computed']}, cv accuracy "
                f"{r['cv_accuracy']:.3f}, reopened {r['n_reopened']}, RSS after setup {r['rss_setup_mib']:.0f} "
                f"MiB, warm-up (imports, once per worker process) {r['warm_up_seconds']:.1f} s, torch threads after the "
                f"job {r['torch_threads']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
