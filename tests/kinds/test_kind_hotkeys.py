"""A label's hotkey may not be a key the kind's labelling widget takes (boxes: nothing to box, duplicate, hide,
resize, undo, fit, zoom; spans: no entities): project creation and label add refuse it, naming every bad hotkey,
and hotkeys chosen for labels avoid them."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from annotation.models import Label, Project
from annotation.services.projects import LabelSpec, project_create
from core.errors import ValidationFailed
from kinds.registry import kind_for_task_type
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

BOX_EDITOR = Path(settings.BASE_DIR) / "kinds" / "static" / "kinds" / "boxes" / "editor.js"


def test_every_one_character_key_of_the_box_editor_is_reserved_for_box_projects():
    # The editor's action table and its none key, read from the script itself.
    source = BOX_EDITOR.read_text()
    actions = re.search(r"const actions = \{(.*?)\n    \};", source, re.S).group(1)
    keys = {m.strip('"') for m in re.findall(r'^\s*("?[^\s":]+"?):', actions, re.M)}
    single = {k for k in keys if len(k) == 1}
    assert {"n", "d", "h", "r", "z", "0", "+", "=", "-"} <= single
    assert single <= kind_for_task_type("image_boxes").reserved_hotkeys


def _create_page(client, task_type: str, labels: str):
    client.force_login(UserFactory(project_creator=True))
    return client.post(
        "/projects/new/",
        {
            "name": "Keys",
            "task_type": task_type,
            "labels": labels,
            "annotations_per_item": 3,
            "gold_rate": 0,
        },
    )


def test_box_project_form_names_every_hotkey_the_box_widget_uses(client):
    # When a manager creates a box project whose labels use d (duplicate) and z (undo) as hotkeys
    response = _create_page(client, "image_boxes", "iguana | d\nrock | z\nsky | 1")
    # Then the form is shown again naming both, and no project exists
    assert response.status_code == 200
    text = unescape(response.content.decode())
    assert "'d' of label 'iguana'" in text and "'z' of label 'rock'" in text
    assert "'1'" not in text.split("Hotkeys", 1)[1].split(".", 1)[0]
    assert not Project.objects.filter(name="Keys").exists()


def test_create_form_lists_the_keys_each_kind_reserves(client):
    client.force_login(UserFactory(project_creator=True))
    text = unescape(client.get("/projects/new/").content.decode())
    assert "Hotkeys not allowed: c, g, s, u, x and space on every project" in text
    assert "+ - 0 = d h n r z on Image boxes" in text
    assert "n on Text spans (entities)" in text


def test_span_project_form_refuses_n_the_no_entities_key(client):
    response = _create_page(client, "text_spans", "PER | n\nLOC | l")
    text = unescape(response.content.decode())
    assert "Hotkey 'n' of label 'PER'" in text
    assert not Project.objects.filter(name="Keys").exists()


def test_classification_keeps_those_keys_free_for_labels(client):
    response = _create_page(client, "text_classification", "no | n\nyes | d")
    assert response.status_code == 302
    project = Project.objects.get(name="Keys")
    assert dict(project.labels.values_list("value", "hotkey")) == {"no": "n", "yes": "d"}


def test_box_hotkeys_chosen_for_labels_skip_the_widget_keys():
    # Eleven labels without hotkeys: 1-9, then not 0 (fit) but the next free key
    project = project_create(
        user=UserFactory(),
        name="Many",
        task_type="image_boxes",
        labels=[LabelSpec(value=f"l{i}") for i in range(20)],
    )
    keys = list(project.labels.order_by("order", "id").values_list("hotkey", flat=True))
    assert keys[:10] == [*"123456789", "q"]
    assert not set(keys) & {"n", "d", "h", "r", "z", "0", "+", "=", "-", "u", "x", "s", "g", "c"}


def test_service_reports_every_bad_hotkey_in_one_error():
    with pytest.raises(ValidationFailed) as error:
        project_create(
            user=UserFactory(),
            name="Bad",
            task_type="image_boxes",
            labels=[
                LabelSpec(value="a", hotkey="h"),
                LabelSpec(value="b", hotkey="u"),
                LabelSpec(value="c", hotkey="r"),
            ],
        )
    assert error.value.field == "labels"
    assert "'h' of label 'a'" in error.value.message
    assert "'u' of label 'b'" in error.value.message
    assert "'r' of label 'c'" in error.value.message


def test_label_add_refuses_a_box_widget_key_and_never_picks_one(api):
    project = make_project(task_type="image_boxes", labels=("iguana", "rock"))
    manager = project.created_by
    response = api(manager).post(
        f"/api/projects/{project.pk}/label-changes/add/", {"value": "sky", "hotkey": "h"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert "'h'" in str(response.json())
    assert not Label.objects.filter(project=project, value="sky").exists()
    # and with no hotkey given, the one chosen is no widget key
    for i in range(12):
        response = api(manager).post(
            f"/api/projects/{project.pk}/label-changes/add/", {"value": f"x{i}"}, format="json"
        )
        assert response.status_code == 201, response.json()
    chosen = set(project.labels.values_list("hotkey", flat=True))
    assert not chosen & kind_for_task_type("image_boxes").reserved_hotkeys
