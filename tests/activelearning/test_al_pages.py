"""HTML: the model page, "Train now", and the project-page panel."""

import pytest

from activelearning.job_kinds import TRAIN_JOB
from annotation.models import Role
from core.models import Job
from tests.activelearning.al_helpers import al_project
from tests.activelearning.test_al_train import run_train
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.force_login(user)
    return client


def test_model_page_draws_the_learning_curve_projection_and_the_stop_sentence(client):
    project, _, _ = al_project()
    run_train(project)
    reviewer = add_member(project, Role.REVIEWER)
    html = _client(client, reviewer).get(f"/projects/{project.pk}/model/").content.decode()
    assert '<svg id="learning-curve"' in html
    # six curve points from 10 to 18 labels span less than 2x: the projection stops at 2x
    assert html.count('class="measured"') == 6 and html.count('class="projected"') == 1
    assert "First model:" in html and 'id="model-strategy">margin<' in html
    assert "36 (2× today)" in html  # projection table: twice the 18 labels
    assert "90 (5× today)" not in html
    assert "Train now" not in html  # reviewers see the model, managers train it


def test_manager_trains_from_the_page_and_a_second_click_is_refused(client):
    project, _, _ = al_project()
    manager = project.created_by
    c = _client(client, manager)
    page = c.get(f"/projects/{project.pk}/model/").content.decode()
    assert "Train now" in page and 'id="no-model"' in page
    response = c.post(f"/projects/{project.pk}/model/train/", {"strategy": "bald"})
    assert response.status_code == 302
    job = Job.objects.get(project=project, kind=TRAIN_JOB)
    assert job.params["strategy"] == "bald" and job.created_by == manager
    again = c.post(f"/projects/{project.pk}/model/train/", {"strategy": "bald"}, follow=True).content.decode()
    assert "already queued" in again and Job.objects.filter(project=project, kind=TRAIN_JOB).count() == 1


def test_model_page_permissions(client):
    project, _, _ = al_project()
    annotator = add_member(project, Role.ANNOTATOR)
    reviewer = add_member(project, Role.REVIEWER)
    assert _client(client, annotator).get(f"/projects/{project.pk}/model/").status_code == 403
    assert _client(client, UserFactory()).get(f"/projects/{project.pk}/model/").status_code == 404
    assert _client(client, reviewer).post(f"/projects/{project.pk}/model/train/").status_code == 403
    assert not Job.objects.filter(project=project, kind=TRAIN_JOB).exists()


def test_project_page_panel_shows_the_summary_to_reviewers_only(client):
    project, _, _ = al_project()
    run_train(project)
    reviewer = add_member(project, Role.REVIEWER)
    html = _client(client, reviewer).get(f"/projects/{project.pk}/").content.decode()
    assert 'id="model-panel"' in html and "First model:" in html
    annotator = add_member(project, Role.ANNOTATOR)
    assert (
        'id="model-panel"' not in _client(client, annotator).get(f"/projects/{project.pk}/").content.decode()
    )


def test_model_page_on_meaningless_texts_projects_nothing_and_says_why(client):
    # Given 12 labelled items whose texts carry no signal (random letters), 6 per label of two
    import random

    from annotation.models import Item, ItemStatus
    from ingress.services.bulk import item_bulk_create
    from tests.factories import make_project

    project = make_project(labels=("yes", "no"), k=1)
    rng = random.Random(7)
    rows = [
        {
            "external_id": f"m{i}",
            "text": " ".join("".join(rng.choice("abcdefghij") for _ in range(5)) for _ in range(6)),
        }
        for i in range(12)
    ]
    item_bulk_create(project=project, rows=rows)
    for i, item in enumerate(Item.objects.filter(project=project).order_by("id")):
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.LABELLED,
            consensus_label=("yes", "no")[i % 2],
            annotation_count=1,
            consensus_confidence=1.0,
        )
    # When a model is trained
    _, result = run_train(project)
    version = project.al_model_versions.order_by("-version").first()
    # Then, its 12-label accuracy's 95 % interval reaching 50 % (at most 9 of 12 right: the Wilson interval of
    # 9/12 starts at 46.8 %), the page shows no projected figure and says why
    assert version.cv_accuracy <= 9 / 12
    html = _client(client, project.created_by).get(f"/projects/{project.pk}/model/").content.decode()
    assert 'id="projection"' not in html and 'class="projected"' not in html
    assert "No projection: the model is not yet better than chance (50.0 % for 2 balanced labels)" in html
    assert "at twice the labels" not in html
