"""The import form's help names what a project of each kind takes: text columns for text items, a zip of the
project's own media (images or audio), and a box project's box files."""

import pytest

from annotation.models import Membership, Role
from annotation.services.projects import LabelSpec, project_create
from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("task_type", "says", "never"),
    [
        ("text_classification", ["<code>text</code>"], ["a zip of images", "audio files", "COCO JSON"]),
        ("text_spans", ["<code>text</code>"], ["a zip of images", "audio files", "COCO JSON"]),
        ("image_classification", ["a zip of images"], ["audio files", "COCO JSON"]),
        ("audio_classification", ["a zip of audio files"], ["a zip of images", "COCO JSON"]),
        ("image_boxes", ["a zip of images", "COCO JSON, Pascal VOC XML or YOLO txt"], ["audio files"]),
    ],
)
def test_the_import_help_names_what_the_project_takes(client, task_type, says, never):
    manager = UserFactory()
    project = project_create(
        user=manager, name="p", task_type=task_type, labels=[LabelSpec(value="a"), LabelSpec(value="b")]
    )
    assert Membership.objects.get(project=project, user=manager).role == Role.MANAGER
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/batches/").content.decode()
    for words in says:
        assert words in page, (task_type, words)
    for words in never:
        assert words not in page, (task_type, words)
