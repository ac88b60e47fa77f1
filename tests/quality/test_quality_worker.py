"""End to end with the real Celery worker: annotations through the API trigger the per-item consensus hook,
and a quality run created through the API is executed by the worker."""

import time

import pytest

from annotation.models import Item, ItemStatus, Role
from core.models import JobStatus
from quality.models import ItemQuality, QualityReport
from tests.conftest import wait_for_job
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.worker]

VOTES = [
    ["pos", "pos", "neg"],
    ["neg", "neg", "neg"],
    ["pos", "neg", "neutral"],
    ["neutral", "neutral", "pos"],
]


def _wait_for(predicate, *, deadline_seconds: float = 120.0, worker=None):
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"condition not met in {deadline_seconds}s\n{worker.log_tail() if worker else ''}")


def test_quality_run_through_the_api_and_the_real_worker(worker, api):
    # Given a project (k=3, no adaptive extra votes: the active-learning hook would otherwise reopen the
    # split item for a fourth annotation) whose four items are labelled through the API
    project = make_project(k=3, consensus_method="majority_vote", max_annotations_per_item=3)
    add_items(project, len(VOTES))
    items = list(Item.objects.filter(project=project).order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    for item, row in zip(items, VOTES, strict=True):
        for user, label in zip(annotators, row, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "label": label}, format="json"
            )
            assert response.status_code == 201, response.json()
    # Then the per-item hook (run by the worker) sets consensus and routes the three-way split to review
    _wait_for(
        lambda: not Item.objects.filter(project=project, consensus_label__isnull=True).exists(), worker=worker
    )
    assert Item.objects.get(pk=items[2].pk).status == ItemStatus.NEEDS_REVIEW
    assert Item.objects.get(pk=items[1].pk).consensus_label == "neg"
    # When a reviewer starts a quality run through the API
    reviewer = add_member(project, Role.REVIEWER)
    response = api(reviewer).post(f"/api/projects/{project.pk}/quality-runs/", {"n_boot": 20}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    # Then the worker completed it and the report is served
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["n_annotations"] == 12 and job.progress == 1.0
    body = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    assert body["job"] == str(job.pk)
    assert body["fleiss_kappa"] == pytest.approx(10 / 94)
    assert body["consensus_method"] == "majority_vote"
    assert ItemQuality.objects.filter(report=QualityReport.objects.get(job=job)).count() == 4
    annotators_body = api(reviewer).get(f"/api/projects/{project.pk}/annotators/").json()
    assert annotators_body["count"] == 3
