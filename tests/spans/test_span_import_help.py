"""The import form's help tells a span project what else it reads (CoNLL/BIO, Label Studio labels regions) and
how a CoNLL document's text and offsets are rebuilt; a class project's help does not, and refuses a CoNLL file."""

import pytest

from annotation.services.projects import LabelSpec, project_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("task_type", "shown"), [("text_spans", True), ("text_classification", False)])
def test_the_import_help_explains_conll_for_span_projects_only(client, task_type, shown):
    manager = UserFactory()
    project = project_create(
        user=manager, name="p", task_type=task_type, labels=[LabelSpec(value="a"), LabelSpec(value="b")]
    )
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/batches/").content.decode()
    for words in (
        "CoNLL/BIO file (.conll, .bio, or .txt",
        "tokens joined with single spaces",
        "labels regions",
    ):
        assert (words in page) is shown, (task_type, words)
    assert ".conll,.bio" in page


def test_a_conll_file_is_refused_by_a_class_project_with_the_reason(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    manager = UserFactory()
    project = project_create(
        user=manager,
        name="p",
        task_type="text_classification",
        labels=[LabelSpec(value="a"), LabelSpec(value="b")],
    )
    response = api(manager).post(
        f"/api/projects/{project.pk}/imports/",
        {"file": SimpleUploadedFile("ner.conll", b"Ada\tB-PER\n")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["file"] == [
        "A CoNLL/BIO file holds entity spans; import it into a span project (task type text_spans)."
    ]
