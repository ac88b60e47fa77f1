"""REST: train, latest model and queue — permissions, bad input, order, preview re-ranking, query counts."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import Prediction
from activelearning.services import scoring
from annotation.models import Item, Role
from core.models import Job, JobStatus
from tests.activelearning.al_helpers import al_project
from tests.activelearning.test_al_train import run_train
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db

ALLOWED = "random, least_confidence, margin, entropy, bald"


@pytest.fixture
def trained(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    project, labelled, pool = al_project()
    run_train(project)
    return project, labelled, pool


def test_manager_starts_a_train_job_and_a_second_one_waits(api):
    # Given a project and its manager
    project, _, _ = al_project()
    manager = project.created_by
    # When the manager asks for training with the entropy strategy
    response = api(manager).post(
        f"/api/projects/{project.pk}/model/train/", {"strategy": "entropy"}, format="json"
    )
    # Then a queued train job is returned, recording the strategy and the label count
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.status, job.task_name) == (TRAIN_JOB, JobStatus.QUEUED, "activelearning.train")
    assert job.params == {"strategy": "entropy", "seed": 0, "n_labelled": 18, "trigger": "manual"}
    # and a second request while it is queued is refused with the running job named
    again = api(manager).post(f"/api/projects/{project.pk}/model/train/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["job"] == str(job.pk) and "already queued" in again.json()["detail"]


@pytest.mark.parametrize("body", [{"strategy": "smartest"}, {"strategy": ""}])
def test_train_with_an_unknown_strategy_is_a_400_naming_the_allowed_ones(api, body):
    project, _, _ = al_project()
    response = api(project.created_by).post(f"/api/projects/{project.pk}/model/train/", body, format="json")
    assert response.status_code == 400
    assert ALLOWED in response.json()["strategy"][0]
    assert not Job.objects.filter(project=project, kind=TRAIN_JOB).exists()


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"seed": "abc"}, "seed", "valid integer"),
        (["margin"], "non_field_errors", "Expected a dictionary"),
    ],
)
def test_train_bad_body_is_a_field_level_400(api, body, field, text):
    project, _, _ = al_project()
    response = api(project.created_by).post(f"/api/projects/{project.pk}/model/train/", body, format="json")
    assert response.status_code == 400
    assert text in response.json()[field][0]
    assert not Job.objects.filter(project=project, kind=TRAIN_JOB).exists()


def test_roles_annotator_403_reviewer_reads_non_member_404(api, trained):
    project, _, _ = trained
    annotator = add_member(project, Role.ANNOTATOR)
    reviewer = add_member(project, Role.REVIEWER)
    outsider = UserFactory()
    base = f"/api/projects/{project.pk}"
    for path in ("/model/", "/queue/"):
        assert api(annotator).get(base + path).status_code == 403
        assert api(outsider).get(base + path).status_code == 404
        assert api(reviewer).get(base + path).status_code == 200
    assert api(annotator).post(base + "/model/train/", {}, format="json").status_code == 403
    assert api(reviewer).post(base + "/model/train/", {}, format="json").status_code == 403
    assert api(outsider).post(base + "/model/train/", {}, format="json").status_code == 404
    assert "manager" in api(reviewer).post(base + "/model/train/", {}, format="json").json()["detail"]


def test_model_is_404_with_a_clear_message_before_the_first_model(api):
    project, _, _ = al_project()
    response = api(project.created_by).get(f"/api/projects/{project.pk}/model/")
    assert response.status_code == 404
    assert "No model has been trained" in response.json()["detail"]


def test_model_returns_the_latest_version(api, trained):
    project, _, _ = trained
    body = api(project.created_by).get(f"/api/projects/{project.pk}/model/").json()
    assert (body["version"], body["n_train"], body["strategy"]) == (1, 18, "margin")
    assert body["learning_curve"][-1] == {"n": 18, "accuracy": pytest.approx(body["cv_accuracy"])}
    # the curve spans under twice its first size (10 -> 18 labels): it projects to twice the labels at most
    assert body["learning_curve"][0]["n"] * 2 > body["learning_curve"][-1]["n"]
    assert [p["factor"] for p in body["projection"]["points"]] == [2]
    assert body["stability"] is None and body["summary"].startswith("First model:")


def test_queue_serves_the_stored_order_with_scores(api, trained):
    project, _, pool = trained
    reviewer = add_member(project, Role.REVIEWER)
    # When the queue is listed
    body = api(reviewer).get(f"/api/projects/{project.pk}/queue/?limit=50").json()
    rows = body["results"]
    # Then it lists exactly the 18 pool items, ordered as next serves them (priority desc, then id)
    assert (body["strategy"], body["model_version"], body["is_preview"]) == ("margin", 1, False)
    expected = list(
        Item.objects.filter(pk__in=[i.pk for i in pool])
        .order_by("-priority", "id")
        .values_list("pk", flat=True)
    )
    assert [row["id"] for row in rows] == expected
    # with each item's stored score; the batch band first, then the pool band by falling score
    scores = dict(Prediction.objects.filter(item__in=pool).values_list("item_id", "score"))
    assert all(row["score"] == pytest.approx(scores[row["id"]]) for row in rows)
    assert [row["band"] for row in rows] == ["batch"] * 4 + ["pool"] * 14
    pool_scores = [row["score"] for row in rows[4:]]
    assert pool_scores == sorted(pool_scores, reverse=True)
    # and limit cuts the list
    assert [
        r["id"] for r in api(reviewer).get(f"/api/projects/{project.pk}/queue/?limit=3").json()["results"]
    ] == expected[:3]


def test_queue_preview_reranks_by_another_strategy_from_the_stored_probabilities(api, trained):
    project, _, pool = trained
    body = api(project.created_by).get(f"/api/projects/{project.pk}/queue/?strategy=entropy").json()
    assert (body["strategy"], body["is_preview"]) == ("entropy", True)
    entropies = {}
    for prediction in Prediction.objects.filter(item__in=pool):
        p = prediction.probabilities.astype(np.float64)
        entropies[prediction.item_id] = -(p * np.log(p)).sum()
    # Then the pool comes by falling entropy (hand-computed from the stored probabilities)
    assert [row["id"] for row in body["results"]] == sorted(entropies, key=lambda pk: (-entropies[pk], pk))
    assert [row["score"] for row in body["results"]] == pytest.approx(
        sorted(entropies.values(), reverse=True), abs=1e-5
    )


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ("strategy=best", "strategy", ALLOWED),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("limit=501", "limit", "less than or equal to 500"),
        ("limit=many", "limit", "valid integer"),
    ],
)
def test_queue_bad_input_is_a_field_level_400(api, trained, query, field, text):
    project, _, _ = trained
    response = api(project.created_by).get(f"/api/projects/{project.pk}/queue/?{query}")
    assert response.status_code == 400
    assert text in response.json()[field][0]


def test_queue_before_a_model_follows_priorities_and_refuses_a_preview(api):
    project, _, pool = al_project()
    body = api(project.created_by).get(f"/api/projects/{project.pk}/queue/").json()
    assert body["strategy"] == "cold_start" and body["model_version"] is None
    assert all(row["score"] is None for row in body["results"]) and len(body["results"]) == 18
    response = api(project.created_by).get(f"/api/projects/{project.pk}/queue/?strategy=margin")
    assert response.status_code == 409 and "No model yet" in response.json()["strategy"][0]


def test_queue_query_count_does_not_grow_with_the_pool(api, monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    counts = []
    for per_label in (2, 12):
        project, _, _ = al_project(n_pool_per_label=per_label)
        run_train(project)
        client = api(project.created_by)
        for query in ("", "?strategy=entropy"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"/api/projects/{project.pk}/queue/{query}")
            assert response.status_code == 200 and len(response.json()["results"]) == 3 * per_label
            counts.append(len(captured))
    # token lookup, membership, latest model, one items query — for 6 and for 36 pool items alike
    assert counts == [4, 4, 4, 4]
