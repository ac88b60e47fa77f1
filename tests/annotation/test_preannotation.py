"""Pre-annotation for annotators: off by default; when a manager turns it on, the model's suggestion comes with
a warning that it biases independent labels (annotation.selectors.suggestion_for_annotator)."""

import pytest

from annotation.models import Item, Role
from annotation.selectors import PREANNOTATION_WARNING
from annotation.services.projects import project_update
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db

PROBS = {"pos": 0.15, "neg": 0.8, "neutral": 0.05}


def project_with_a_predicted_item(*, preannotation: bool):
    project = make_project(k=3)
    add_items(project, 1)
    Item.objects.filter(project=project).update(predicted_label="neg", predicted_probs=PROBS)
    if preannotation:
        project = project_update(project=project, preannotation_for_annotators=True)
    return project, add_member(project, Role.ANNOTATOR)


def test_by_default_the_annotator_sees_no_suggestion_and_no_warning(api, client):
    # Given a project whose model predicted the item, with pre-annotation left at its default
    project, annotator = project_with_a_predicted_item(preannotation=False)
    assert project.preannotation_for_annotators is False
    # When the annotator is served the item
    response = api(annotator).get(f"/api/projects/{project.pk}/next/")
    # Then the payload holds no suggestion and no probabilities
    assert response.status_code == 200
    assert set(response.json()) == {"assignment", "item"}
    assert "0.8" not in response.content.decode()
    # And the labelling page shows no pre-annotation warning
    client.force_login(annotator)
    html = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert "preannotation-warning" not in html
    assert '"preannotation": false' in html


def test_when_a_manager_turns_it_on_the_suggestion_comes_with_a_bias_warning(api, client):
    # Given the same project with pre-annotation for annotators switched on
    project, annotator = project_with_a_predicted_item(preannotation=True)
    # When the annotator is served the item
    response = api(annotator).get(f"/api/projects/{project.pk}/next/")
    # Then the payload carries the model's label and probabilities with the warning
    assert response.status_code == 200
    assert response.json()["suggestion"] == {"label": "neg", "probs": PROBS, "warning": PREANNOTATION_WARNING}
    assert "biases" in PREANNOTATION_WARNING
    # And the labelling page shows a visible warning and tells its script to render suggestions
    client.force_login(annotator)
    html = client.get(f"/projects/{project.pk}/label/").content.decode()
    assert 'id="preannotation-warning"' in html
    assert "biases your label towards the model" in html
    assert '"preannotation": true' in html


def test_an_item_without_a_prediction_has_no_suggestion_even_when_on(api):
    # Given pre-annotation on but no model prediction for the item
    project, annotator = project_with_a_predicted_item(preannotation=True)
    Item.objects.filter(project=project).update(predicted_label=None, predicted_probs=None)
    # When the annotator is served it; then there is nothing to suggest
    body = api(annotator).get(f"/api/projects/{project.pk}/next/").json()
    assert "suggestion" not in body
