"""The task-kind seam: every task type has a kind, and a kind defined outside annotation, activelearning, quality
and datasets (here, in this file) flows through annotation validation and output, bulk item rows, the quality
engine's encoding and report, the per-item consensus update, review (queue filter, page settings, decisions,
feedback), active learning's features, training targets and adaptive overlap, the freeze and exports (its own
format and the shared zip)."""

import ast
import dataclasses
import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db.models import Q
from rest_framework import serializers

from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import FeatureCache
from activelearning.services import TRAIN_TASK, model_train_run
from annotation.api import serializers as api_serializers
from annotation.models import Annotation, Item, ItemStatus, Project, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from core.errors import ValidationFailed
from core.jobs import JobContext, job_create
from datasets.archive import stream_zip
from datasets.delivery import export_chunks
from datasets.exporters import entry_lines
from ingress.services.bulk import item_bulk_create
from kinds.classification import TaskType
from kinds.classification.quality import SingleLabel
from kinds.registry import (
    ExportFormat,
    TaskKind,
    UnknownTaskType,
    kind_for,
    kind_for_task_type,
    register,
    unregister,
)
from quality.adapters import project_data_load
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from quality.review import selectors as review_selectors
from quality.review.feedback import annotator_feedback
from quality.review.services import review_decide
from quality.services import quality_run
from quality.services.engine import run_quality
from quality.services.items import items_consensus_update
from tests.datasets.builders import freeze, labelled_items
from tests.factories import UserFactory, add_items, add_member, make_project

ROOT = Path(__file__).resolve().parents[2]
TOY = "yes_no_check"
TOY_PHOTOS = "yes_no_photo_check"
NO_HLP = "A yes/no check states no human-level performance."
YES_NO_COLD_START = "A yes/no check is ordered by the cold-start rule."


# ---------------------------------------------------------------- a toy kind: a yes/no answer (comment as usual)


class YesNoValueInputSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=["yes", "no"], required=False)


class YesNoValueOutputSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_null=True)


class YesNoValue:
    input_serializer = YesNoValueInputSerializer
    output_serializer = YesNoValueOutputSerializer

    def output(self, value: list) -> dict:
        return {"answer": value[0] if value else None}

    def value_from_input(self, validated: dict) -> list:
        return [validated["answer"]] if "answer" in validated else []

    def validate(self, *, project: Project, value: list, unusable: bool) -> list:
        if not value and not unusable:
            raise ValidationFailed("Answer yes or no.", field="answer")
        return value

    def gold_value(self, *, project, raw, label_values):
        if raw in (None, ""):
            return None, None
        return (raw, None) if raw in ("yes", "no") else (None, "gold must be yes or no")

    # An item's consensus and final label are booleans (the encoding below decodes answers that way).
    def final_from_choice(self, *, project, label, active):
        if isinstance(label, bool):
            return label
        if label in ("yes", "no"):
            return label == "yes"
        raise ValidationFailed("Answer yes or no.", field="label")

    def final_from_vote(self, value, *, project, mapping):
        return value[0] == "yes" if value else None

    def label_classes(self, value):
        if isinstance(value, bool):
            return ["yes" if value else "no"]
        return [] if value is None else [value]

    def stored_label_query(self, field_name, value, *, project):
        return Q(**{field_name: value == "yes"})

    def review_settings(self, *, project):
        return {"answers": ["yes", "no"]}

    def widget_settings(self, *, project):
        return {"answers": ["yes", "no"]}

    def confidence_meaning(self, *, project):
        return None


class YesNoEncoding(SingleLabel):
    """Codes as for one class per item; the answers read back as booleans; no HLP."""

    hlp_absent_note = NO_HLP

    def decode(self, values: list[str], codes) -> list:
        return [None if code < 0 else values[code] == "yes" for code in codes.tolist()]

    def hlp(self, data, *, gold_known: bool, n_boot: int):
        return None


class YesNoQuality:
    def encoding(self, *, multi_label: bool):
        return YesNoEncoding()


class YesNoExport:
    def stream(self, *, fmt, version, split, base_url=""):
        if fmt == "zip":
            yield from stream_zip(version=version)
            return
        assert fmt == "yes-count"
        answers = [json.loads(line)["label"] for line in entry_lines(version=version, split=split)]
        yield f"yes={answers.count('yes')} no={answers.count('no')}\n".encode()

    def label_schema(self, *, project, project_labels, parent, seen):
        return {"answers": "yes/no", "labels": [{"id": 0, "value": "no"}, {"id": 1, "value": "yes"}]}

    def label_description(self, *, version) -> str:
        return "yes or no"

    def card_label_feature(self, *, version) -> str:
        return "label"


class YesNoTargets:
    """Yes and no are the classes votes are counted under; the kind keeps its projects on the cold-start order."""

    cold_start_reason = YES_NO_COLD_START
    counts_votes = True

    def class_code(self, value, index) -> int:
        return index.get(value[0], -1) if isinstance(value, list) and len(value) == 1 else -1


class YesNoLearning:
    def targets(self, *, multi_label: bool):
        return YesNoTargets()


@pytest.fixture
def toy_kind():
    kind = register(
        TaskKind(
            name="yes_no",
            task_types=(TOY, TOY_PHOTOS),
            value=YesNoValue(),
            quality=YesNoQuality(),
            export=YesNoExport(),
            formats={
                "yes-count": ExportFormat("text/plain", "txt"),
                "zip": ExportFormat("application/zip", "zip"),
            },
            widget_template="kinds/yes_no/widget.html",
            widget_js="kinds/yes_no/widget.js",
            # Items of the photo check are images: their rows carry files, their zip is an imagefolder.
            media={TOY: "text", TOY_PHOTOS: "image"},
        )
    )
    yield kind
    unregister(kind.name)


@pytest.fixture
def toy_kind_that_learns(toy_kind):
    # The same kind with a learning part (registering a kind of the same name replaces it)
    return register(dataclasses.replace(toy_kind, learning=YesNoLearning()))


@pytest.fixture
def toy_project(toy_kind):
    project = make_project(labels=("no", "yes"), k=3)
    add_items(project, 4)
    # Items already decided, for the export (bulk rows are added while the project still reads as text).
    labelled_items(project, {"yes": 2, "no": 1}, prefix="frozen")
    Project.objects.filter(pk=project.pk).update(task_type=TOY)
    project.refresh_from_db()
    return project


# ---------------------------------------------------------------- the registry


def test_every_task_type_has_a_registered_kind():
    # Given every task type a project can be created with; when each is looked up; then a kind serves it
    for task_type in TaskType.values:
        kind = kind_for_task_type(task_type)
        assert task_type in kind.task_types
        assert kind.widget_template and kind.widget_js and kind.formats


def test_classification_serves_text_image_and_audio():
    assert {kind_for_task_type(t).name for t in TaskType.values} == {"classification"}


def test_an_unknown_task_type_is_an_error_not_a_default():
    with pytest.raises(UnknownTaskType):
        kind_for_task_type("not_a_kind")


def test_a_task_type_cannot_belong_to_two_kinds(toy_kind):
    with pytest.raises(ValueError):
        register(TaskKind(name="other", task_types=(TOY,), value="", quality="", export=""))


def test_the_registry_and_the_kinds_web_parts_import_no_quality_or_datasets_code():
    # The registry and a kind's answer schema are loaded by web processes (annotation); the metrics and export
    # parts are named by path and loaded by tasks and downloads only.
    for path in [
        ROOT / "kinds" / "registry.py",
        *sorted((ROOT / "kinds").glob("*/__init__.py")),
        *sorted((ROOT / "kinds").glob("*/value.py")),
    ]:
        tree = ast.parse(path.read_text())
        roots = {
            (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "module", 1)
            for alias in node.names
        }
        assert not roots & {"quality", "datasets", "activelearning"}, path


# ---------------------------------------------------------------- a kind's task types are what a project may be


@pytest.mark.django_db
def test_a_toy_kinds_task_types_can_be_chosen_when_creating_a_project(toy_kind, api, client):
    # Given a user, and the yes/no kind registered by this file alone
    creator = UserFactory(project_creator=True)
    body = {"name": "Checks", "task_type": TOY, "labels": [{"value": "no"}, {"value": "yes"}]}
    # When they create a project of its task type over the API
    response = api(creator).post("/api/projects/", body, format="json")
    # Then the project is created with that task type, and the kind serves it
    assert response.status_code == 201, response.json()
    assert response.json()["task_type"] == TOY
    assert kind_for(Project.objects.get(pk=response.json()["id"])).name == "yes_no"

    # When they create one of its other task type with the page's form
    client.force_login(creator)
    page = client.post(
        "/projects/new/",
        {
            "name": "Photo checks",
            "task_type": TOY_PHOTOS,
            "labels": "no\nyes",
            "annotations_per_item": 3,
            "gold_rate": 0,
        },
    )
    # Then the form took it too
    assert page.status_code == 302
    assert Project.objects.get(name="Photo checks").task_type == TOY_PHOTOS

    # And a task type no kind serves is still refused
    unknown = api(creator).post("/api/projects/", {**body, "task_type": "not_a_kind"}, format="json")
    assert unknown.status_code == 400 and "task_type" in unknown.json()


@pytest.mark.django_db
def test_the_schema_generated_after_a_kind_registers_lists_its_task_types(toy_kind):
    # When the schema is generated with the yes/no kind registered
    out = StringIO()
    call_command("spectacular", stdout=out)
    enum = yaml.safe_load(out.getvalue())["components"]["schemas"]["TaskTypeEnum"]
    # Then a project's task type may be classification's three, the built-in spans and boxes kinds' one each or
    # the toy kind's two, in registration order
    assert enum["enum"] == [
        "text_classification",
        "image_classification",
        "audio_classification",
        "text_spans",
        "image_boxes",
        "yes_no_check",
        "yes_no_photo_check",
    ]
    assert "* `yes_no_check` - Yes no check" in enum["description"]


@pytest.mark.django_db
def test_the_label_page_gives_a_kinds_widget_the_kinds_own_settings(toy_project, client, settings, tmp_path):
    # Given the yes/no kind's widget template (a real kind ships it in its package; the toy writes it here)
    widget = tmp_path / "kinds" / "yes_no" / "widget.html"
    widget.parent.mkdir(parents=True)
    widget.write_text('<div id="yes-no-widget"></div>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    annotator = add_member(toy_project)
    client.force_login(annotator)
    # When an annotator opens the label page
    page = client.get(f"/projects/{toy_project.pk}/label/")
    # Then the page includes the kind's widget and its script gets the kind's settings, nothing of classification's
    assert page.status_code == 200
    assert b'<div id="yes-no-widget"></div>' in page.content
    assert page.context["config"]["answers"] == ["yes", "no"] and "multiLabel" not in page.context["config"]

    # And a multi-label classification project's page still tells its widget to take a set of labels
    multi = make_project(name="Topics", labels=("a", "b"), multi_label=True)
    client.force_login(add_member(multi))
    assert client.get(f"/projects/{multi.pk}/label/").context["config"]["multiLabel"] is True


# ---------------------------------------------------------------- a toy kind end to end, with no edit elsewhere


@pytest.mark.django_db
def test_a_toy_kind_flows_through_validation_encoding_consensus_and_export(toy_project, api):
    project = toy_project
    assert kind_for(project).name == "yes_no"
    items = list(Item.objects.filter(project=project, external_id__startswith="t").order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    url = f"/api/projects/{project.pk}/annotations/"

    # When an annotator sends a bad answer and a classification-style label
    bad = api(annotators[0]).post(url, {"item": items[0].pk, "answer": "maybe"}, format="json")
    missing = api(annotators[0]).post(url, {"item": items[0].pk, "label": "yes"}, format="json")
    # Then the kind's schema refused both, naming its own field, and nothing was stored
    assert bad.status_code == 400 and "answer" in bad.json()
    assert missing.status_code == 400 and missing.json()["answer"] == ["Answer yes or no."]
    assert not Annotation.objects.exists()

    # When three annotators answer two items over the API (with a comment, as for any kind)
    answers = {items[0].pk: ["yes", "yes", "no"], items[1].pk: ["no", "no", "no"]}
    for item_id, votes in answers.items():
        for annotator, vote in zip(annotators, votes, strict=True):
            response = api(annotator).post(
                url, {"item": item_id, "answer": vote, "comment": "seen"}, format="json"
            )
            assert response.status_code == 201, response.json()
    # Then the kind's stored value is on the annotations
    assert sorted(Annotation.objects.filter(item=items[0]).values_list("labels", flat=True)) == [
        ["no"],
        ["yes"],
        ["yes"],
    ]

    # When the quality engine loads and runs the project
    data = project_data_load(project=project)
    outcome = run_quality(
        data=data, requested_method="majority_vote", review_threshold=0.6, route_profile_flags=True, n_boot=0
    )
    # Then the answers were encoded by the kind (two classes, three votes each) and decoded by it (booleans)
    assert data.table.n_items == 2 and data.table.n_annotations == 6
    assert outcome.items.consensus == [True, False]

    # When a version of the project is frozen and exported in the kind's own format
    version = freeze(project)
    body = b"".join(export_chunks(version=version, fmt="yes-count", split=None))
    # Then the kind's exporter wrote it
    assert body == b"yes=2 no=1\n"


@pytest.mark.django_db
def test_a_toy_kind_renders_its_own_answer_in_the_submit_body_and_my_recent(toy_project, api):
    # Given an annotator of the yes/no project
    project = toy_project
    item = Item.objects.filter(project=project, external_id__startswith="t").order_by("id").first()
    annotator = add_member(project)
    client = api(annotator)
    # When they answer an item
    response = client.post(
        f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "answer": "yes"}, format="json"
    )
    # Then the body shows the kind's answer field, not classification's label fields, as the serializer does
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["answer"] == "yes" and "label" not in body and "labels" not in body
    stored = Annotation.objects.get(pk=body["id"])
    assert json.loads(json.dumps(api_serializers.AnnotationOutputSerializer(stored).data)) == body
    # And their recent votes show it the same way
    (recent,) = client.get(f"/api/projects/{project.pk}/my-recent/").json()
    assert recent["answer"] == "yes" and recent["annotation"] == body["id"]
    assert "label" not in recent and "labels" not in recent


@pytest.mark.django_db
def test_a_toy_kinds_answers_flow_through_the_per_item_update_and_review(toy_project, client):
    # Given three annotators who answered two items of the yes/no project, with a comment (which queues them)
    project = toy_project
    items = list(Item.objects.filter(project=project, external_id__startswith="t").order_by("id"))[:2]
    annotators = [add_member(project) for _ in range(3)]
    answers = {items[0].pk: ["yes", "yes", "no"], items[1].pk: ["no", "no", "no"]}
    for item_id, votes in answers.items():
        for annotator, vote in zip(annotators, votes, strict=True):
            annotation_submit(
                project=project,
                user=annotator,
                data=AnnotationInput(item_id=item_id, labels=[vote], comment="seen"),
            )

    # When the per-item pass updates them
    assert items_consensus_update(project_id=project.pk, item_ids=list(answers))["updated"] == 2
    # Then their consensus was decided from the kind's codes and read back by the kind (booleans)
    assert dict(Item.objects.filter(pk__in=answers).values_list("pk", "consensus_label")) == {
        items[0].pk: True,
        items[1].pk: False,
    }
    # And the review queue's label filter finds the "yes" item through the kind's stored form
    filters = review_selectors.queue_filters_clean(label="yes")
    assert list(
        review_selectors.review_queue(project=project, filters=filters).values_list("pk", flat=True)
    ) == [items[0].pk]

    # When a reviewer opens the split item, a gold item whose gold answer is "yes"
    Item.objects.filter(pk=items[0].pk).update(gold_label="yes")
    reviewer = add_member(project, role=Role.REVIEWER)
    client.force_login(reviewer)
    page = client.get(f"/projects/{project.pk}/review/items/{items[0].pk}/")
    # Then the page's script gets the kind's settings, nothing of classification's, and the kind compared the
    # consensus with the gold answer
    assert page.status_code == 200
    assert page.context["config"]["answers"] == ["yes", "no"] and "multiLabel" not in page.context["config"]
    assert page.context["evidence"].gold_matches is True

    # When the reviewer accepts it with a "yes" the kind takes
    review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="yes")
    # Then the final label is the kind's, and only the annotator who answered "no" is told they disagreed
    assert Item.objects.get(pk=items[0].pk).final_label is True
    agreed = annotator_feedback(project=project, user=annotators[0])
    dissent = annotator_feedback(project=project, user=annotators[2])
    assert (agreed.n_reviewed, agreed.n_agreed) == (1, 1)
    assert (dissent.n_reviewed, dissent.n_agreed) == (1, 0)
    assert [(row["yours"], row["final"]) for row in dissent.disagreements] == [(False, True)]
    # And an answer the kind does not know is refused in its own words
    with pytest.raises(ValidationFailed, match="Answer yes or no."):
        review_decide(project=project, reviewer=reviewer, item_id=items[1].pk, action="accept", label="maybe")

    # When the reviewer accepts the unanimous item without choosing
    review_decide(project=project, reviewer=reviewer, item_id=items[1].pk, action="accept")
    # Then its consensus, an answer every annotator gave, became the final label
    assert Item.objects.get(pk=items[1].pk).final_label is False


@pytest.mark.django_db
def test_a_toy_kinds_sentence_replaces_hlp_in_the_quality_report(toy_project):
    # Given two items answered by three annotators
    project = toy_project
    items = list(Item.objects.filter(project=project, external_id__startswith="t").order_by("id"))[:2]
    annotators = [add_member(project) for _ in range(3)]
    for item in items:
        for annotator in annotators:
            annotation_submit(
                project=project, user=annotator, data=AnnotationInput(item_id=item.pk, labels=["yes"])
            )
    # When a quality run stores its report
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    quality_run(job=job, context=JobContext(job))
    # Then the kind had no HLP, and its sentence says so in the report
    report = QualityReport.objects.get(job=job)
    assert report.hlp is None
    assert NO_HLP in report.explanations


@pytest.mark.django_db
def test_bulk_rows_follow_the_kinds_media(toy_project):
    # Given the yes/no project (text items) and a photo check of the same kind (image items)
    photos = make_project(name="photos", labels=("no", "yes"))
    Project.objects.filter(pk=photos.pk).update(task_type=TOY_PHOTOS)
    photos.refresh_from_db()
    row = [{"external_id": "plain", "text": "is this a yes?"}]
    # When the same text row is sent to both
    text_result = item_bulk_create(project=toy_project, rows=row)
    photo_result = item_bulk_create(project=photos, rows=row)
    # Then the text kind's project stores it, the image one asks for the file an image item needs
    assert text_result.created == 1 and not text_result.errors
    assert photo_result.created == 0
    assert [(issue.field, issue.message) for issue in photo_result.errors] == [
        ("file_b64", "An image/audio row needs file_b64 or file_url.")
    ]


@pytest.mark.django_db
def test_a_toy_kind_freezes_its_own_label_schema_and_exports_through_the_shared_zip(toy_project):
    # When the yes/no project is frozen
    version = freeze(toy_project)
    # Then the version holds the kind's label schema, nothing of classification's
    assert version.label_schema == {
        "answers": "yes/no",
        "labels": [{"id": 0, "value": "no"}, {"id": 1, "value": "yes"}],
    }

    # When it is exported as a zip
    archive = zipfile.ZipFile(io.BytesIO(b"".join(export_chunks(version=version, fmt="zip", split=None))))
    names = archive.namelist()
    # Then the items are laid out as text (data/<split>.jsonl, no media folders) with the kind's labels
    row_files = [name for name in names if name not in ("README.md", "manifest.json")]
    assert row_files and all(name.startswith("data/") and name.endswith(".jsonl") for name in row_files)
    rows = [json.loads(line) for name in row_files for line in archive.read(name).decode().splitlines()]
    assert sorted(row["label"] for row in rows) == ["no", "yes", "yes"]
    # And the card declares label as the kind says (a class label of no/yes), the manifest describes it its way
    card = archive.read("README.md").decode()
    assert (
        "- name: label\n    dtype:\n      class_label:\n        names:\n          '0': \"no\"\n          '1': \"yes\""
        in card
    )
    assert "- name: image" not in card
    assert json.loads(archive.read("manifest.json"))["columns"]["label"] == "yes or no"


# ---------------------------------------------------------------- active learning on a toy kind


def _disputed_labelled_item(project):
    """A toy item answered yes once and no once, labelled, with a third annotator left to ask."""
    item = Item.objects.filter(project=project, external_id__startswith="t").order_by("id").first()
    for answer in ("yes", "no"):
        annotation_submit(
            project=project, user=add_member(project), data=AnnotationInput(item_id=item.pk, labels=[answer])
        )
    add_member(project)
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.LABELLED)
    return item


def _train(project) -> dict:
    job = job_create(kind=TRAIN_JOB, task_name=TRAIN_TASK, project=project, params={"strategy": "margin"})
    return model_train_run(job=job, context=JobContext(job))


@pytest.mark.django_db
def test_a_kind_without_a_learning_part_gets_text_features_the_cold_start_order_and_no_reopening(toy_project):
    # Given a labelled toy item whose two votes disagree (the kind says nothing of classes)
    item = _disputed_labelled_item(toy_project)
    # When a training job runs
    result = _train(toy_project)
    # Then the items were read as the kind's media says (text: every item has a feature vector, none failed)
    cache = FeatureCache.objects.filter(item__project=toy_project)
    assert cache.count() == Item.objects.filter(project=toy_project).count()
    assert not cache.filter(vector__isnull=True).exists() and not cache.exclude(error="").exists()
    # And the items are ordered by the cold-start rule, with no vote counted and nothing reopened
    assert result["mode"] == "cold_start"
    assert result["n_checked"] == 0 and result["n_reopened"] == 0
    item.refresh_from_db()
    assert item.status == ItemStatus.LABELLED


@pytest.mark.django_db
def test_a_kinds_learning_part_decides_training_and_codes_the_votes_adaptive_overlap_counts(
    toy_kind_that_learns, toy_project
):
    # Given the same disputed item, now of a kind whose learning part counts yes and no as classes
    item = _disputed_labelled_item(toy_project)
    # When a training job runs
    result = _train(toy_project)
    # Then the kind's sentence says why no model was trained
    assert result["mode"] == "cold_start" and result["reason"] == YES_NO_COLD_START
    # And its votes, coded by the kind, left the item unsettled: it went back to the queue for one more
    assert result["n_checked"] == 1 and result["n_reopened"] == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS
