"""The label page's media viewer keys (image zoom, audio replay) can never be a label's hotkey: project creation
and label add refuse them on image and audio classification projects, while text projects and the digit keys
stay free."""

from html import unescape

import pytest

from annotation.models import Label
from annotation.services.projects import LabelSpec, project_create, reserved_hotkeys
from core.errors import ValidationFailed
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def test_image_projects_reserve_the_zoom_keys_and_audio_projects_the_replay_key():
    assert {"+", "=", "-"} <= reserved_hotkeys("image_classification")
    assert "," in reserved_hotkeys("audio_classification")
    # Only where the viewer is: a text project may still give a label "-", and digits stay free (the digits demo
    # labels 0-9 with their own digit)
    assert not {"+", "=", "-", ","} & reserved_hotkeys("text_classification")
    assert not set("0123456789") & reserved_hotkeys("image_classification")


@pytest.mark.parametrize(
    ("task_type", "key"),
    [("image_classification", "+"), ("image_classification", "-"), ("audio_classification", ",")],
)
def test_project_create_refuses_a_media_key_as_a_label_hotkey(task_type, key):
    with pytest.raises(ValidationFailed) as error:
        project_create(
            user=UserFactory(),
            name="Keys",
            task_type=task_type,
            labels=[LabelSpec(value="cat", hotkey=key), LabelSpec(value="dog", hotkey="0")],
        )
    assert error.value.field == "labels"
    assert f"'{key}' of label 'cat'" in error.value.message
    assert "label 'dog'" not in error.value.message


def test_create_form_names_the_media_keys(client):
    client.force_login(UserFactory(project_creator=True))
    text = unescape(client.get("/projects/new/").content.decode())
    assert "+ - = on Image classification" in text
    assert "comma on Audio classification" in text


def test_label_add_refuses_a_zoom_key_and_never_picks_one(api):
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    manager = project.created_by
    response = api(manager).post(
        f"/api/projects/{project.pk}/label-changes/add/", {"value": "cow", "hotkey": "="}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert not Label.objects.filter(project=project, value="cow").exists()
