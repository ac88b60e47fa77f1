"""End to end with the real Celery worker: a train job from the API, and the label hook (adaptive overlap and
the automatic re-score) run by the worker process."""

import time

import numpy as np
import pytest

from activelearning import priority
from activelearning.basemodel import TrainingConfig, out_of_sample_proba
from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import FeatureCache, ModelVersion, Prediction
from annotation.models import Item, ItemStatus, Role
from core.models import Job, JobStatus
from tests.activelearning.al_helpers import LABELS, al_project
from tests.conftest import wait_for_job
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.worker]


def _wait_for(predicate, *, worker, deadline_seconds: float = 120.0):
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"condition not met in {deadline_seconds}s\n{worker.log_tail()}")


def test_train_job_through_the_api_and_the_real_worker(worker, api):
    # Given 18 labelled items and an 18-item pool
    project, labelled, pool = al_project()
    reviewer = add_member(project, Role.REVIEWER)
    # When the manager starts training and the worker runs it
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/model/train/", {"seed": 1}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker, deadline_seconds=300)
    # Then it succeeded and stored a version
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.result["mode"] == "model" and job.result["n_train"] == 18
    version = ModelVersion.objects.get(project=project)
    # and every labelled item has out-of-sample probabilities, equal to a k-fold run on the cached features
    vectors = dict(FeatureCache.objects.filter(extractor=version.extractor).values_list("item_id", "vector"))
    X = np.vstack([np.frombuffer(bytes(vectors[i.pk]), dtype=np.float32) for i in labelled])
    expected = out_of_sample_proba(
        X, np.repeat([0, 1, 2], 6), n_classes=3, n_folds=5, seed=1, config=TrainingConfig(seed=1)
    )
    stored = {p.item_id: p for p in Prediction.objects.filter(item__in=labelled, is_out_of_sample=True)}
    assert np.allclose(np.vstack([stored[i.pk].probabilities for i in labelled]), expected.proba, atol=1e-6)
    items = Item.objects.filter(pk__in=[i.pk for i in labelled])
    assert all(set(item.predicted_probs) == set(LABELS) for item in items)
    # and every pool item has a score and a priority in the diverse batch band (18 ≤ the batch size)
    pool_rows = list(Item.objects.filter(pk__in=[i.pk for i in pool]).values_list("pk", "priority"))
    scores = dict(
        Prediction.objects.filter(item__in=pool, is_out_of_sample=False).values_list("item_id", "score")
    )
    assert len(scores) == 18
    assert all(
        value == pytest.approx(priority.BAND_BATCH + min(scores[pk], priority.TOP)) for pk, value in pool_rows
    )
    # and the API serves the version and the queue in that order
    body = api(reviewer).get(f"/api/projects/{project.pk}/model/").json()
    assert (body["version"], body["n_train"], body["cv_accuracy"]) == (
        1,
        18,
        pytest.approx(expected.metrics.cv_accuracy),
    )
    queue = api(reviewer).get(f"/api/projects/{project.pk}/queue/").json()["results"]
    assert [row["id"] for row in queue] == [pk for pk, _ in sorted(pool_rows, key=lambda r: (-r[1], r[0]))]


def test_the_worker_reopens_a_split_item_and_starts_one_retrain(worker, api):
    # Given k = 3, a re-score after every new label, and two items
    project = make_project(k=3, rescore_every=1, consensus_method="majority_vote")
    add_items(project, 2)
    agree, split = Item.objects.filter(project=project).order_by("id")
    annotators = [add_member(project) for _ in range(3)]
    add_member(project)  # a fourth annotator, who can give the split item another vote
    # When three annotators label them through the API: one unanimous, one split three ways
    for item, labels in ((agree, ["pos", "pos", "pos"]), (split, ["pos", "neg", "neutral"])):
        for user, label in zip(annotators, labels, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "label": label}, format="json"
            )
            assert response.status_code == 201, response.json()
    # Then the worker's label hook asks a fourth annotation for the split item and sends it back to the queue
    _wait_for(lambda: Item.objects.get(pk=split.pk).target_annotations == 4, worker=worker)
    split_now = Item.objects.get(pk=split.pk)
    assert split_now.status == ItemStatus.IN_PROGRESS and split_now.priority >= priority.BAND_EXTRA
    # and the first label started exactly one automatic train job, which ran (cold start: too few labels)
    _wait_for(lambda: Job.objects.filter(project=project, kind=TRAIN_JOB).exists(), worker=worker)
    job = wait_for_job(
        Job.objects.get(project=project, kind=TRAIN_JOB).pk, worker=worker, deadline_seconds=300
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["trigger"] == "labels" and job.result["mode"] == "cold_start"
    assert Item.objects.get(pk=agree.pk).status == ItemStatus.LABELLED
    assert Job.objects.filter(project=project, kind=TRAIN_JOB).count() == 1
