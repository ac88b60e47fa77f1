"""Faults: the Celery worker is killed with SIGKILL in the middle of a quality run, a model training and a dataset
freeze. Recovery is the production path: the stale-job sweep re-queues and re-sends the job, a restarted worker
completes it (second attempt) and the results equal those of an undisturbed run of the same job on the same data.
The killed worker's unacknowledged message, redelivered later by the broker, changes nothing.

The undisturbed run is the same Celery task executed in this process inside a transaction that is rolled back, so
both runs see exactly the same rows and the database is left as it was for the run that gets killed.
"""

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
import pytest
from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from activelearning import services as al_services
from activelearning import tasks as al_tasks
from activelearning.models import FeatureCache, FeatureSpace, ModelVersion, Prediction
from annotation.models import Annotation, Item, ItemStatus, Project
from core.jobs import jobs_sweep
from core.models import Job, JobStatus
from datasets import services as dataset_services
from datasets import tasks as dataset_tasks
from datasets.bulkcopy import insert_rows
from datasets.models import DatasetEntry, DatasetVersion, SplitAssignment
from quality import services as quality_services
from quality import tasks as quality_tasks
from quality.models import AnnotatorQuality, ItemQuality, QualityReport
from tests.activelearning.al_helpers import LABELS, text_for
from tests.conftest import WorkerProcess, wait_for_job
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

POLL_SECONDS = 0.05
JOB_DEADLINE_SECONDS = 300.0


# ---- data --------------------------------------------------------------------------------------------------------


def _insert_items(project: Project, rows: list[dict]) -> list[int]:
    """Items straight into the table (COPY); each row gives ``external_id`` and ``text`` and may set any other
    Item column (status, consensus_label, ...). Returns the project's item ids in id order. JSON columns are
    encoded here so that None stays SQL NULL (``final_label IS NULL`` means "no reviewer decision")."""
    now = timezone.now()
    template = Item(
        project=project, created_at=now, updated_at=now, target_annotations=project.annotations_per_item
    )
    fields = {field.attname: field for field in Item._meta.concrete_fields if not field.primary_key}
    json_columns = {name for name, field in fields.items() if isinstance(field, models.JSONField)}

    def cell(name: str, value: object) -> object:
        if name in json_columns:
            return None if value is None else json.dumps(value)
        return fields[name].get_prep_value(value)

    defaults = {name: getattr(template, name) for name in fields}

    def encoded(row: dict) -> tuple:
        merged = {**defaults, "sha256": f"{row['external_id']:0>64}"[-64:], **row}
        return tuple(cell(name, merged[name]) for name in fields)

    insert_rows(model=Item, columns=list(fields), rows=(encoded(row) for row in rows), json_as_text=True)
    return list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))


def _insert_votes(project: Project, votes: list[tuple[int, int, str]], seed: int = 0) -> None:
    """Live annotations ``(item id, annotator id, label)`` straight into the table, with annotation counts."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    lead = rng.integers(800, 20_000, size=len(votes)).tolist()
    insert_rows(
        model=Annotation,
        columns=[
            "project_id",
            "item_id",
            "annotator_id",
            "labels",
            "unsure",
            "unusable",
            "comment",
            "lead_time_ms",
            "guideline_version",
            "is_live",
            "created_at",
        ],
        rows=(
            (project.pk, item_id, user_id, json.dumps([label]), False, False, "", lead[i], 1, True, now)
            for i, (item_id, user_id, label) in enumerate(votes)
        ),
        json_as_text=True,
    )
    per_item = Counter(item_id for item_id, _, _ in votes)
    for count in set(per_item.values()):
        Item.objects.filter(pk__in=[pk for pk, n in per_item.items() if n == count]).update(
            annotation_count=count
        )


def _quality_project(*, n_items: int, n_annotators: int = 20, per_item: int = 5) -> Project:
    """Labelled items, each with ``per_item`` votes from annotators of varied skill (seeded)."""
    project = make_project(labels=("pos", "neg", "neutral"), k=per_item, max_annotations_per_item=per_item)
    labels = ("pos", "neg", "neutral")
    ids = _insert_items(
        project,
        [
            {"external_id": f"q{i}", "text": f"item {i}", "status": ItemStatus.LABELLED}
            for i in range(n_items)
        ],
    )
    users = [add_member(project).pk for _ in range(n_annotators)]
    rng = np.random.default_rng(11)
    truth = rng.integers(0, 3, n_items)
    skill = rng.uniform(0.55, 0.95, n_annotators)
    who = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item]
    right = rng.random((n_items, per_item)) < skill[who]
    noise = rng.integers(0, 3, (n_items, per_item))
    given = np.where(right, truth[:, None], noise)
    _insert_votes(
        project,
        [(ids[i], users[who[i, j]], labels[given[i, j]]) for i in range(n_items) for j in range(per_item)],
    )
    return project


def _training_project(*, n_labelled_per_label: int, n_pool: int) -> Project:
    """Labelled text items whose words carry their label (3 votes each, a few split) and an unlabelled pool."""
    project = make_project(labels=LABELS, k=3)
    rows = []
    for offset, label in enumerate(LABELS):
        rows += [
            {
                "external_id": f"L-{label}-{i}",
                "text": text_for(label, 1000 * offset + i),
                "status": ItemStatus.LABELLED,
                "consensus_label": label,
                "consensus_confidence": 1.0,
            }
            for i in range(n_labelled_per_label)
        ]
    rows += [{"external_id": f"P-{i}", "text": text_for(LABELS[i % 3], 50_000 + i)} for i in range(n_pool)]
    _insert_items(project, rows)
    users = [add_member(project).pk for _ in range(3)]
    votes = []
    labelled = Item.objects.filter(project=project, status=ItemStatus.LABELLED).order_by("id")
    for position, (item_id, label) in enumerate(labelled.values_list("id", "consensus_label")):
        others = [value for value in LABELS if value != label]
        # Every 7th item split 2:1 (a majority: settled), every 11th three ways (adaptive overlap reopens it).
        given = (
            (label, others[0], others[1])
            if position % 11 == 0
            else ((label, label, others[0]) if position % 7 == 0 else (label, label, label))
        )
        votes += [(item_id, user, value) for user, value in zip(users, given, strict=True)]
    _insert_votes(project, votes)
    return project


def _freeze_project(*, n_items: int) -> Project:
    """Consensus-labelled items (pos, neg alternating) with two live votes each, so every entry carries
    annotation lineage."""
    project = make_project(labels=("pos", "neg"), k=2)
    labels = ("pos", "neg")
    ids = _insert_items(
        project,
        [
            {
                "external_id": f"f{i}",
                "text": f"review f{i} of a perfectly ordinary product",
                "tags": ["bulk"],
                "metadata": {"n": i},
                "status": ItemStatus.LABELLED,
                "consensus_label": labels[i % 2],
                "consensus_confidence": 0.8,
            }
            for i in range(n_items)
        ],
    )
    users = [add_member(project).pk for _ in range(2)]
    _insert_votes(project, [(pk, user, labels[i % 2]) for i, pk in enumerate(ids) for user in users])
    return project


# ---- results as comparable values --------------------------------------------------------------------------------


def _plain(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


def _rows(queryset, *, key: str, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Every concrete column of the rows but ``id`` and ``exclude``, ordered by ``key``."""
    names = [f.attname for f in queryset.model._meta.concrete_fields if f.attname not in ("id", *exclude)]
    return [
        {name: _plain(value) for name, value in row.items()}
        for row in queryset.order_by(key, "id").values(*names)
    ]


def _without(result: dict, *keys: str) -> dict:
    return {name: value for name, value in result.items() if name not in keys}


def _quality_results(job: Job) -> dict:
    report = QualityReport.objects.get(job=job)
    return {
        "report": _rows(
            QualityReport.objects.filter(pk=report.pk), key="id", exclude=("job_id", "created_at")
        ),
        "items": _rows(ItemQuality.objects.filter(report=report), key="item_id", exclude=("report_id",)),
        "annotators": _rows(
            AnnotatorQuality.objects.filter(report=report), key="user_id", exclude=("report_id",)
        ),
        # The consensus the run denormalised onto the items (and the items it routed to review).
        "item_rows": list(
            Item.objects.filter(project_id=job.project_id)
            .order_by("id")
            .values_list(
                "id",
                "status",
                "consensus_label",
                "consensus_confidence",
                "label_quality",
                "is_label_issue",
                "issue_kinds",
                "issue_severity",
            )
        ),
        # The report id and the phase timings are not results of the data.
        "job_result": _without(job.result, "report", "seconds"),
    }


def _quality_counts(project: Project) -> dict:
    return {
        "reports": QualityReport.objects.filter(project=project).count(),
        "item_rows": ItemQuality.objects.filter(report__project=project).count(),
        "annotator_rows": AnnotatorQuality.objects.filter(report__project=project).count(),
    }


def _training_results(job: Job) -> dict:
    version = ModelVersion.objects.filter(job=job)
    predictions = Prediction.objects.filter(project_id=job.project_id)
    assert not predictions.exclude(job=job).exists(), "a prediction of another job is left"
    return {
        # ``extractor`` is the feature space's key, which ends in a random suffix per space (the undisturbed
        # run's space was rolled back); extractor_name/extractor_version identify the extractor itself.
        "version": _rows(version, key="id", exclude=("job_id", "created_at", "extractor")),
        "predictions": _rows(predictions, key="item_id", exclude=("job_id", "updated_at")),
        "items": list(
            Item.objects.filter(project_id=job.project_id)
            .order_by("id")
            .values_list(
                "id", "status", "priority", "target_annotations", "predicted_label", "predicted_probs"
            )
        ),
        "features": [
            (pk, _plain(vector), error)
            for pk, vector, error in FeatureCache.objects.filter(item__project_id=job.project_id)
            .order_by("item_id")
            .values_list("item_id", "vector", "error")
        ],
        # n_features_computed counts the vectors the last attempt had to compute: the killed attempt cached them
        # all, so the retry computes none (the vectors themselves are compared above). The other two are ids.
        "job_result": _without(job.result, "model_version", "extractor", "n_features_computed"),
    }


def _training_counts(project: Project) -> dict:
    return {
        "versions": ModelVersion.objects.filter(project=project).count(),
        "predictions": Prediction.objects.filter(project=project).count(),
        "spaces": FeatureSpace.objects.filter(project=project).count(),
        "vectors": FeatureCache.objects.filter(item__project=project).count(),
    }


def _freeze_results(job: Job) -> dict:
    version = DatasetVersion.objects.get(job_id=job.pk)
    return {
        "version": _rows(
            DatasetVersion.objects.filter(pk=version.pk), key="id", exclude=("job_id", "created_at")
        ),
        "entries": _rows(
            DatasetEntry.objects.filter(version=version), key="item_id", exclude=("version_id",)
        ),
        # first_version_id is the version's row id, which differs from the rolled-back run's.
        "splits": list(
            SplitAssignment.objects.filter(project_id=job.project_id)
            .order_by("item_id")
            .values_list("item_id", "split")
        ),
        "first_version": set(
            SplitAssignment.objects.filter(project_id=job.project_id).values_list(
                "first_version_id", flat=True
            )
        )
        == {version.pk},
        "job_result": _without(job.result, "version"),
    }


def _freeze_counts(project: Project) -> dict:
    return {
        "versions": DatasetVersion.objects.filter(project=project).count(),
        "entries": DatasetEntry.objects.filter(version__project=project).count(),
        "splits": SplitAssignment.objects.filter(project=project).count(),
    }


# ---- the fault harness -------------------------------------------------------------------------------------------


@contextmanager
def _worker_left_running(worker: WorkerProcess) -> Iterator[None]:
    """Whatever happens in the test, later tests find a live worker."""
    try:
        yield
    finally:
        if worker.proc is None or worker.proc.poll() is not None:
            worker.start()


def _undisturbed(create: Callable[[], Job], task, results: Callable[[Job], dict]) -> dict:
    """The job's task run to the end in this process, inside a transaction that is then rolled back."""
    with transaction.atomic():
        job = create()
        task(job_id=str(job.pk))
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1), job.error
        stored = results(job)
        transaction.set_rollback(True)
    return stored


def _running(job_id, *, ready: Callable[[Job], bool], worker: WorkerProcess) -> Job:
    """Poll the job until it is running and ``ready``; fails when it ends first (the project is too small)."""
    end = time.monotonic() + JOB_DEADLINE_SECONDS
    while time.monotonic() < end:
        job = Job.objects.get(pk=job_id)
        if job.is_terminal:
            pytest.fail(
                f"job {job_id} ended ({job.status}) before it could be killed; enlarge its project.\n"
                f"{worker.log_tail()}"
            )
        if job.status == JobStatus.RUNNING and ready(job):
            return job
        time.sleep(POLL_SECONDS)
    pytest.fail(f"job {job_id} never reached the point to kill it at.\n{worker.log_tail()}")


def _unacked_messages(job_id) -> dict[str, dict]:
    """{delivery tag: message} of the broker's unacknowledged deliveries of the job's task."""
    with current_app.connection_for_write() as conn:
        channel = conn.default_channel
        found = {}
        for tag, raw in channel.client.hgetall(channel.unacked_key).items():
            message = json.loads(raw)[0]
            if str(job_id) in message["headers"].get("kwargsrepr", ""):
                found[tag.decode() if isinstance(tag, bytes) else tag] = message
        return found


def _kill(worker: WorkerProcess, job_id) -> dict[str, dict]:
    """SIGKILL the worker's process group mid-job; returns the broker's unacknowledged delivery of the job."""
    worker.kill()
    # The broker still holds the delivery the dead worker never acknowledged: it would come back only after
    # the visibility timeout (an hour), so the sweep is what re-drives the job.
    unacked = _unacked_messages(job_id)
    assert len(unacked) == 1
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    return unacked


def _recover(worker: WorkerProcess, job_id) -> Job:
    """What production does: the periodic sweep re-queues and re-sends the stale job; a worker is restarted."""
    # A heartbeat younger than the stale horizon may be a slow worker: the sweep leaves the job alone,
    assert jobs_sweep()["requeued"] == 0
    # and past the horizon it re-queues and re-sends it.
    later = timezone.now() + timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS + 1)
    assert jobs_sweep(now=later) == {"resent": 0, "requeued": 1, "failed": 0}
    assert Job.objects.get(pk=job_id).status == JobStatus.QUEUED
    worker.start()
    return wait_for_job(job_id, worker=worker, deadline_seconds=JOB_DEADLINE_SECONDS)


def _redeliver(worker: WorkerProcess, unacked: dict[str, dict]) -> None:
    """Put the dead worker's unacknowledged messages back on their queue (what the broker does once the
    visibility timeout passes) and wait until the live worker has run and acknowledged them."""
    with current_app.connection_for_write() as conn:
        channel = conn.default_channel
        for tag in unacked:
            channel.qos.restore_by_tag(tag, channel.client)
        end = time.monotonic() + JOB_DEADLINE_SECONDS
        while time.monotonic() < end:
            log = worker.log_path.read_text(errors="replace")
            ran = all(f"[{message['headers']['id']}] succeeded" in log for message in unacked.values())
            if ran and not any(channel.client.hexists(channel.unacked_key, tag) for tag in unacked):
                return
            time.sleep(POLL_SECONDS)
    pytest.fail(f"the redelivered message was not consumed.\n{worker.log_tail()}")


def _assert_recovered(job: Job, *, expected: dict, results: Callable[[Job], dict]) -> None:
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    got = results(job)
    for name in expected:
        assert got[name] == expected[name], f"{name} differs from the undisturbed run"


def _assert_duplicate_is_a_no_op(
    worker, job: Job, unacked: dict, *, results, counts: Callable[[], dict]
) -> None:
    before, stored = counts(), results(job)
    _redeliver(worker, unacked)
    again = Job.objects.get(pk=job.pk)
    assert (again.status, again.attempts, again.finished_at) == (JobStatus.SUCCEEDED, 2, job.finished_at)
    assert counts() == before
    assert results(again) == stored


# ---- the tests ---------------------------------------------------------------------------------------------------


def test_a_quality_run_killed_mid_run_completes_on_retry_with_the_undisturbed_results(worker):
    with _worker_left_running(worker):
        # Given 8,000 items with 5 votes each (40,000 annotations) and what an undisturbed run stores for them
        project = _quality_project(n_items=8000)
        manager = project.created_by
        expected = _undisturbed(
            lambda: quality_services.quality_run_create(project=project, user=manager),
            quality_tasks.run,
            _quality_results,
        )
        assert _quality_counts(project) == {"reports": 0, "item_rows": 0, "annotator_rows": 0}
        # When the worker is killed while the run is under way (its results are stored in one transaction at
        # the end, so any point before that commit is equivalent; the first progress report is the one that
        # can be caught reliably on a fast machine)
        job = quality_services.quality_run_create(project=project, user=manager)
        _running(job.pk, ready=lambda j: j.progress > 0, worker=worker)
        unacked = _kill(worker, job.pk)
        assert _quality_counts(project) == {"reports": 0, "item_rows": 0, "annotator_rows": 0}
        # and recovered by the sweep and a restarted worker
        job = _recover(worker, job.pk)
        # Then the second attempt stored exactly the undisturbed run's report, item rows and annotator rows
        _assert_recovered(job, expected=expected, results=_quality_results)
        assert _quality_counts(project) == {"reports": 1, "item_rows": 8000, "annotator_rows": 20}
        # and the late redelivery of the killed attempt's message changes nothing
        _assert_duplicate_is_a_no_op(
            worker, job, unacked, results=_quality_results, counts=lambda: _quality_counts(project)
        )


def test_a_training_job_killed_while_scoring_the_pool_completes_on_retry_with_the_undisturbed_model(worker):
    with _worker_left_running(worker):
        # Given 60 labelled items and a 4,500-item pool (three scoring chunks), and the undisturbed run's results
        project = _training_project(n_labelled_per_label=20, n_pool=4500)
        manager = project.created_by
        n_items = Item.objects.filter(project=project).count()
        expected = _undisturbed(
            lambda: al_services.model_train_start(project=project, user=manager, seed=3),
            al_tasks.train,
            _training_results,
        )
        assert _training_counts(project) == {"versions": 0, "predictions": 0, "spaces": 0, "vectors": 0}
        # When the worker is killed after the first pool chunk's predictions are committed (partial writes)
        job = al_services.model_train_start(project=project, user=manager, seed=3)
        _running(job.pk, ready=lambda j: Prediction.objects.filter(job=j).exists(), worker=worker)
        unacked = _kill(worker, job.pk)
        assert 0 < Prediction.objects.filter(job=job).count() < n_items
        assert not ModelVersion.objects.filter(project=project).exists()
        # and recovered by the sweep and a restarted worker
        job = _recover(worker, job.pk)
        # Then the retry (reusing the killed attempt's feature space and overwriting its predictions) stored the
        # undisturbed run's model metrics, predictions, probabilities, priorities and targets
        _assert_recovered(job, expected=expected, results=_training_results)
        assert _training_counts(project) == {
            "versions": 1,
            "predictions": n_items,
            "spaces": 1,
            "vectors": n_items,
        }
        # and the late redelivery of the killed attempt's message changes nothing
        _assert_duplicate_is_a_no_op(
            worker, job, unacked, results=_training_results, counts=lambda: _training_counts(project)
        )


def _inserting_entries(job: Job) -> bool:
    """A backend other than this test's holds the row lock of an INSERT into the entry table: the freeze's
    transaction is writing entries (uncommitted, so invisible otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND mode = 'RowExclusiveLock' "
            "AND granted AND pid <> pg_backend_pid()",
            [DatasetEntry._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def test_a_freeze_killed_while_writing_entries_completes_on_retry_with_the_undisturbed_version(worker):
    with _worker_left_running(worker):
        # Given 20,000 consensus-labelled items with votes, and the version an undisturbed freeze makes of them
        project = _freeze_project(n_items=20_000)
        manager = project.created_by
        params = {"name": "nightly", "seed": 5, "splits": {"train": 0.7, "dev": 0.15, "test": 0.15}}
        expected = _undisturbed(
            lambda: dataset_services.dataset_freeze_request(project=project, user=manager, params=params),
            dataset_tasks.freeze,
            _freeze_results,
        )
        assert _freeze_counts(project) == {"versions": 0, "entries": 0, "splits": 0}
        # When the worker is killed while its freeze transaction is inserting entries
        job = dataset_services.dataset_freeze_request(project=project, user=manager, params=params)
        _running(job.pk, ready=_inserting_entries, worker=worker)
        unacked = _kill(worker, job.pk)
        assert _freeze_counts(project) == {"versions": 0, "entries": 0, "splits": 0}
        # and recovered by the sweep and a restarted worker
        job = _recover(worker, job.pk)
        # Then the retry made version 1 with the undisturbed entries, splits, labels and checksum
        _assert_recovered(job, expected=expected, results=_freeze_results)
        assert _freeze_counts(project) == {"versions": 1, "entries": 20_000, "splits": 20_000}
        version = DatasetVersion.objects.get(job_id=job.pk)
        assert (version.number, version.label_distribution) == (1, {"pos": 10_000, "neg": 10_000})
        assert set(DatasetEntry.objects.filter(version=version).values_list("label_source", flat=True)) == {
            "consensus"
        }
        # and the late redelivery of the killed attempt's message changes nothing
        _assert_duplicate_is_a_no_op(
            worker, job, unacked, results=_freeze_results, counts=lambda: _freeze_counts(project)
        )
