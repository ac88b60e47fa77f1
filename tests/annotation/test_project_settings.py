"""Project settings a manager can change: PATCH /api/projects/{pid}/, the settings page, project_update."""

import pytest

from annotation.api.serializers import ProjectOutputSerializer, ProjectUpdateInputSerializer
from annotation.models import Item, ItemStatus, Project, Role
from annotation.services.projects import UPDATABLE_SETTINGS, project_update
from annotation.services.queue import assignment_next_for_annotator
from tests.factories import add_items, add_member, make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

CHANGES = {
    "name": "Sentiment v2",
    "annotations_per_item": 4,
    "max_annotations_per_item": 6,
    "gold_rate": 0.1,
    "lease_seconds": 600,
    "sampling_strategy": "entropy",
    "rescore_every": 50,
    "profile_thresholds": {"too_dark": 0.2, "text_too_long": 5000, "route_flags": ["corrupt", "empty"]},
    "route_flagged_to_review": False,
    "preannotation_for_annotators": True,
}


def url(project) -> str:
    return f"/api/projects/{project.pk}/"


def test_a_manager_changes_the_settings_and_gets_the_project_back(api):
    # Given a project and its manager
    project = make_project(k=3)
    # When the manager patches every mutable setting
    response = api(project.created_by).patch(url(project), CHANGES, format="json")
    # Then the answer and the stored project both hold the new values
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    for name, value in CHANGES.items():
        assert response.json()[name] == value
        assert getattr(project, name) == value


def test_every_updatable_setting_can_be_sent_and_is_shown():
    # Given the one list of settings a manager may change
    # Then PATCH validates exactly those and the project's answer shows each of them
    assert set(ProjectUpdateInputSerializer().fields) == set(UPDATABLE_SETTINGS)
    assert set(UPDATABLE_SETTINGS) <= set(ProjectOutputSerializer.Meta.fields)


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER])
def test_members_below_manager_get_403_and_change_nothing(api, role):
    project = make_project(k=3)
    response = api(add_member(project, role)).patch(url(project), {"gold_rate": 0.5}, format="json")
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.gold_rate == 0.0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"gold_rate": 1.5}, "gold_rate"),
        ({"annotations_per_item": 0}, "annotations_per_item"),
        ({"lease_seconds": 5}, "lease_seconds"),
        ({"rescore_every": -1}, "rescore_every"),
        ({"sampling_strategy": "psychic"}, "sampling_strategy"),
        ({"name": "  "}, "name"),
        ({"annotations_per_item": 4, "max_annotations_per_item": 3}, "max_annotations_per_item"),
        ({"max_annotations_per_item": 2}, "max_annotations_per_item"),  # below the stored k of 3
        ({"profile_thresholds": {"too_dark": 2}}, "profile_thresholds"),
        ({"profile_thresholds": {"brightness_max": 0.3}}, "profile_thresholds"),
        ({"profile_thresholds": {"text_too_long": "long"}}, "profile_thresholds"),
        ({"profile_thresholds": {"route_flags": ["not_a_flag"]}}, "profile_thresholds"),
        ({"profile_thresholds": ["too_dark"]}, "profile_thresholds"),
        ({"task_type": "image_classification"}, "task_type"),
    ],
)
def test_bad_values_are_refused_with_a_field_level_400(api, payload, field):
    # Given a project
    project = make_project(k=3)
    before = Project.objects.filter(pk=project.pk).values().get()
    # When its manager sends a bad value
    response = api(project.created_by).patch(url(project), payload, format="json")
    # Then the answer names the field and nothing changed
    assert response.status_code == 400
    assert isinstance(response.json().get(field), list) and response.json()[field], response.json()
    assert Project.objects.filter(pk=project.pk).values().get() == before


def test_a_new_k_applies_to_untouched_items_and_raises_the_maximum():
    # Given a project with k=3, max 5: one item leased (in progress), one untouched
    project = make_project(k=3)
    add_items(project, 2)
    leased = assignment_next_for_annotator(project=project, user=add_member(project)).item
    # When the manager raises k to 6
    project = project_update(project=project, annotations_per_item=6)
    # Then the untouched item needs 6, the one in progress keeps 3, and the maximum follows k
    untouched = Item.objects.filter(project=project, status=ItemStatus.NEW).get()
    assert untouched.target_annotations == 6
    assert Item.objects.get(pk=leased.pk).target_annotations == 3
    assert project.max_annotations_per_item == 6


def test_a_project_profile_threshold_changes_the_flags_of_the_next_import(api, media_roots):
    # Given a text project whose first import has a 40-character row (under the default length limit)
    project = make_project()
    text = "x" * 40
    first = run_import(project, "a.csv", f"external_id,text\nr1,{text}\n".encode())
    assert first.result["created"] == 1
    assert "too_long" not in Item.objects.get(project=project, external_id="r1").flags
    # When the manager lowers the text length threshold
    response = api(project.created_by).patch(
        url(project), {"profile_thresholds": {"text_too_long": 20}}, format="json"
    )
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    # And the next file is imported
    second = run_import(project, "b.csv", f"external_id,text\nr2,{'y' * 40}\n".encode())
    # Then the new row is flagged too long, and the earlier item keeps its flags
    assert second.result["created"] == 1
    assert "too_long" in Item.objects.get(project=project, external_id="r2").flags
    assert "too_long" not in Item.objects.get(project=project, external_id="r1").flags


def test_the_settings_page_saves_a_managers_changes_and_refuses_others(client):
    # Given a project, its manager and an annotator
    project = make_project(k=3)
    annotator = add_member(project, Role.ANNOTATOR)
    page = f"/projects/{project.pk}/settings/"
    client.force_login(annotator)
    assert client.get(page).status_code == 403
    client.force_login(project.created_by)
    assert 'id="project-settings-form"' in client.get(page).content.decode()
    form = {
        "name": "Renamed",
        "annotations_per_item": 2,
        "max_annotations_per_item": 4,
        "gold_rate": 0.05,
        "lease_seconds": 300,
        "sampling_strategy": "margin",
        "rescore_every": 0,
        "preannotation_for_annotators": "on",
        "profile_thresholds": '{"blurry": 30}',
    }
    # When the manager sends bad JSON thresholds, the form comes back with the error and nothing is saved
    bad = client.post(page, {**form, "profile_thresholds": "{nope"})
    assert bad.status_code == 200 and "Not valid JSON" in bad.content.decode()
    project.refresh_from_db()
    assert project.name == "Sentiment"
    # When the manager saves a valid form
    response = client.post(page, form)
    # Then they go back to the project and the settings are stored (an unticked box turns a setting off)
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.annotations_per_item, project.rescore_every) == ("Renamed", 2, 0)
    assert project.preannotation_for_annotators is True and project.route_flagged_to_review is False
    assert project.profile_thresholds == {"blurry": 30}
