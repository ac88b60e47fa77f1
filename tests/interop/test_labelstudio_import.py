"""Label Studio → Labelgate with exports recorded from a real Label Studio 1.23.2 (bench/interop/record_ls_fixtures.py).

The recorded projects, as the recording script made them (the expected values below are these facts, not
outputs of the importer): a text project (``<Text name="review" value="$review">``, control ``sentiment``)
with 4 tasks; alice@example.com (LS user 1) labelled tasks 1-4 pos, neg, neutral, pos; bob@example.com (LS user
2) labelled tasks 1-3 pos, neg, pos and skipped task 4; one ``sentiment-v1`` prediction per task (pos 0.91,
neg 0.84, pos 0.55, pos 0.97). The image project (``<Image name="img" value="$photo">``, control ``animal``)
has 2 uploaded images (tasks 5, 6) and 2 http URLs (tasks 7, 8), labelled alike by the two annotators.
"""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from annotation.models import Annotation, Item, Membership
from core.models import JobStatus
from ingress import readers as ingress
from tests.factories import UserFactory, make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
USERS = json.loads((FIXTURES / "users.json").read_text())
TEXT_CONFIG = (FIXTURES / "text.xml").read_text()
IMAGE_CONFIG = (FIXTURES / "image.xml").read_text()
ALICE, BOB = "alice@example.com", "bob@example.com"
TEXTS = {
    "1": "A wonderful, moving film.",
    "2": "Dull and far too long.",
    "3": "It was fine, I suppose.",
    "4": "Best thing I saw this year!",
}
VOTES = {
    ("1", ALICE): ["pos"],
    ("1", BOB): ["pos"],
    ("2", ALICE): ["neg"],
    ("2", BOB): ["neg"],
    ("3", ALICE): ["neutral"],
    ("3", BOB): ["pos"],
    ("4", ALICE): ["pos"],
}


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _votes(project) -> dict[tuple[str, str], list[str]]:
    rows = Annotation.objects.filter(project=project, is_live=True).values_list(
        "item__external_id", "annotator__email", "labels"
    )
    return {(ext, email): labels for ext, email, labels in rows}


def _adds_up(result: dict) -> bool:
    return result["rows"] == result["created"] + result["duplicates"] + result["errors"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("text.json", "labelstudio"),
        ("text.snapshot.json", "labelstudio"),
        ("text.min.json", "labelstudio_min"),
        ("text.csv", "labelstudio_csv"),
    ],
)
def test_every_export_kind_gives_the_same_items_and_every_annotation_by_its_annotator(media_roots, name, fmt):
    # Given a text project with Label Studio's labels, alice already a Labelgate user, bob unknown here
    project = make_project(labels=("pos", "neg", "neutral"), k=2)
    alice = UserFactory(email=ALICE)
    # When the export is imported with the labelling config (and the user list the quick exports need)
    job = run_import(project, name, _fixture(name), labelstudio_config=TEXT_CONFIG, labelstudio_users=USERS)
    # Then its 4 tasks are 4 items with their text, and every annotation is there under its annotator
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["format"], job.result["rows"], job.result["created"]) == (fmt, 4, 4) and _adds_up(
        job.result
    )
    assert dict(Item.objects.filter(project=project).values_list("external_id", "text")) == TEXTS
    assert _votes(project) == VOTES
    # And alice was matched by e-mail; bob got an inactive account that cannot log in, and a membership
    report = job.result["labelstudio"]
    assert (
        report["annotators"][ALICE]["user_id"] == alice.pk
        and report["annotators"][ALICE]["matched_by"] == "email"
    )
    bob = get_user_model().objects.get(email=BOB)
    assert (
        not bob.is_active and not bob.has_usable_password() and report["annotators"][BOB]["created_inactive"]
    )
    assert Membership.objects.filter(project=project, user=bob, role="annotator").exists()
    assert report["annotations"]["imported"] == 7 and report["annotations"]["per_annotator"] == {
        ALICE: 4,
        BOB: 3,
    }
    # And the items moved on as if labelled here: 2 votes reach k=2, task 4 has one
    counts = dict(Item.objects.filter(project=project).values_list("external_id", "annotation_count"))
    assert counts == {"1": 2, "2": 2, "3": 2, "4": 1}
    # And the per-task metadata (other data keys, meta) is kept
    assert Item.objects.get(project=project, external_id="3").metadata.get("source") == "forum"


def test_a_skipped_task_is_reported_with_its_reason(media_roots):
    project = make_project(labels=("pos", "neg", "neutral"))
    job = run_import(
        project, "text.snapshot.json", _fixture("text.snapshot.json"), labelstudio_config=TEXT_CONFIG
    )
    annotations = job.result["labelstudio"]["annotations"]
    assert annotations["skipped"] == 1
    assert annotations["skipped_sample"] == [
        {"task": "4", "annotation": "8", "annotator": BOB, "reason": "cancelled (skipped) in Label Studio"}
    ]


def test_predictions_are_kept_as_a_named_model_version(media_roots):
    # Given the snapshot export (predictions in full)
    project = make_project(labels=("pos", "neg", "neutral"))
    job = run_import(
        project, "text.snapshot.json", _fixture("text.snapshot.json"), labelstudio_config=TEXT_CONFIG
    )
    # Then each item carries its prediction under the model version, and the report counts them
    item = Item.objects.get(project=project, external_id="3")
    assert item.metadata["ls_predictions"] == [
        {
            "id": item.metadata["ls_predictions"][0]["id"],
            "model_version": "sentiment-v1",
            "labels": ["pos"],
            "score": 0.55,
        }
    ]
    assert job.result["labelstudio"]["predictions"]["kept_per_model_version"] == {"sentiment-v1": 4}


def test_a_quick_export_names_predictions_it_could_not_carry(media_roots):
    project = make_project(labels=("pos", "neg", "neutral"))
    job = run_import(project, "text.json", _fixture("text.json"), labelstudio_config=TEXT_CONFIG)
    predictions = job.result["labelstudio"]["predictions"]
    assert predictions["ids_only_not_imported"] == 4 and predictions["kept_per_model_version"] == {}
    # Without a user map the annotators are Label Studio user ids: inactive ls-user-<id> accounts
    assert job.result["labelstudio"]["annotators"]["ls-user:2"]["username"] == "ls-user-2"


def test_the_data_key_comes_from_the_config_or_the_option(media_roots):
    # Given a JSON_MIN export whose text is under "review" (no "text" key, no to_name to go by)
    body = _fixture("text.min.json")
    bare = run_import(make_project(labels=("pos", "neg", "neutral")), "text.min.json", body)
    # Then without the config or data_key no row has text, and the reason says how to name it
    assert bare.status == JobStatus.FAILED and "data_key" in bare.error
    # And either way of naming the key imports every task
    for options in ({"labelstudio_config": TEXT_CONFIG}, {"data_key": "review"}):
        project = make_project(labels=("pos", "neg", "neutral"))
        job = run_import(project, "text.min.json", body, labelstudio_users=USERS, **options)
        assert job.result["created"] == 4, (options, job.result)
        assert Item.objects.get(project=project, external_id="2").text == TEXTS["2"]


def test_reimport_is_idempotent_and_merges_new_annotations_by_their_ids(media_roots):
    # Given a project imported from the snapshot
    project = make_project(labels=("pos", "neg", "neutral"))
    run_import(project, "text.snapshot.json", _fixture("text.snapshot.json"), labelstudio_config=TEXT_CONFIG)
    # When the same export comes again, then the JSON_MIN of the same project
    again = run_import(
        project, "text.snapshot.json", _fixture("text.snapshot.json"), labelstudio_config=TEXT_CONFIG
    )
    minimal = run_import(
        project,
        "text.min.json",
        _fixture("text.min.json"),
        labelstudio_config=TEXT_CONFIG,
        labelstudio_users=USERS,
    )
    # Then nothing is added twice
    for job in (again, minimal):
        assert (
            job.status == JobStatus.SUCCEEDED and job.result["created"] == 0 and job.result["duplicates"] == 4
        )
        assert job.result["labelstudio"]["annotations"]["imported"] == 0
        assert job.result["labelstudio"]["annotations"]["already_imported"] == 7
    assert again.result["labelstudio"]["predictions"]["already_kept"] == 4
    assert Annotation.objects.filter(project=project).count() == 7
    # When a later export holds bob's label on the task he had skipped
    later = run_import(
        project, "text.snapshot.v2.json", _fixture("text.snapshot.v2.json"), labelstudio_config=TEXT_CONFIG
    )
    # Then exactly that annotation is added to the existing item
    assert later.result["labelstudio"]["annotations"]["imported"] == 1 and later.result["created"] == 0
    assert _votes(project) == {**VOTES, ("4", BOB): ["pos"]}
    assert Item.objects.filter(project=project).count() == 4


def test_split_records_of_one_task_merge_into_one_item(media_roots):
    # Given a JSON_MIN export whose two records of task 1 are apart (first and last)
    records = json.loads(_fixture("text.min.json"))
    records.append(records.pop(0))
    project = make_project(labels=("pos", "neg", "neutral"))
    job = run_import(
        project,
        "moved.json",
        json.dumps(records).encode(),
        labelstudio_config=TEXT_CONFIG,
        labelstudio_users=USERS,
    )
    # Then task 1 is one item with both votes; the later record counts as a duplicate row merged into it
    assert (job.result["rows"], job.result["created"], job.result["duplicates"]) == (5, 4, 1) and _adds_up(
        job.result
    )
    assert _votes(project) == VOTES


def test_label_studio_min_and_csv_exports_are_recognised():
    assert ingress.detect_format("export.json", _fixture("text.min.json")[:4096]) == "labelstudio_min"
    assert ingress.detect_format("export.csv", _fixture("image.csv")[:4096]) == "labelstudio_csv"
    assert ingress.detect_format("export.json", _fixture("image.json")[:4096]) == "labelstudio"


def test_uploaded_media_come_from_the_label_studio_media_folder_and_urls_are_not_fetched(
    media_roots, settings
):
    # Given an image project and Label Studio's media folder configured
    settings.LABELGATE_LS_MEDIA_ROOT = str(FIXTURES / "media")
    project = make_project(labels=("cat", "dog"), task_type="image_classification")
    job = run_import(
        project, "image.snapshot.json", _fixture("image.snapshot.json"), labelstudio_config=IMAGE_CONFIG
    )
    # Then the two uploads are items with their files and votes; the two web addresses are row errors saying why
    assert (job.result["rows"], job.result["created"], job.result["errors"]) == (4, 2, 2) and _adds_up(
        job.result
    )
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["5", "6"]
    assert all("LABELGATE_LS_FETCH_URLS" in row["message"] for row in job.result["report"])
    assert _votes(project) == {
        ("5", ALICE): ["cat"],
        ("5", BOB): ["cat"],
        ("6", ALICE): ["dog"],
        ("6", BOB): ["cat"],
    }
    assert Item.objects.get(project=project, external_id="5").file.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_annotator_with_a_label_of_their_own_here_keeps_it(media_roots):
    # Given alice already labelled task 1 in Labelgate
    from annotation.services.annotations import AnnotationInput, annotation_submit
    from tests.factories import add_member

    project = make_project(labels=("pos", "neg", "neutral"))
    run_import(
        project,
        "first.json",
        json.dumps([{"id": 1, "data": {"review": TEXTS["1"]}}]).encode(),
        data_key="review",
    )
    alice = add_member(project, user=UserFactory(email=ALICE))
    item = Item.objects.get(project=project, external_id="1")
    annotation_submit(project=project, user=alice, data=AnnotationInput(item_id=item.pk, labels=["neg"]))
    # When the Label Studio export is imported
    job = run_import(
        project, "text.snapshot.json", _fixture("text.snapshot.json"), labelstudio_config=TEXT_CONFIG
    )
    # Then her Labelgate label stands, and the report says why her Label Studio one was skipped
    assert _votes(project)[("1", ALICE)] == ["neg"]
    assert (
        job.result["labelstudio"]["annotations"]["skipped_reasons"][
            "the annotator already labelled this item in Labelgate"
        ]
        == 1
    )


def _ls_zip(*members: tuple[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _uploads(prefix: str = "") -> list[tuple[str, bytes]]:
    """The recorded project's uploaded images, at the paths Label Studio stores them under (upload/2/...)."""
    base = FIXTURES / "media"
    return [(prefix + str(p.relative_to(base)), p.read_bytes()) for p in sorted(base.rglob("*.png"))]


@pytest.mark.parametrize("prefix", ["", "media/"])
def test_a_zip_of_the_export_and_its_uploads_imports_tasks_annotations_and_media_in_one_upload(
    media_roots, settings, prefix
):
    # Given an image project, no Label Studio media folder configured, and a zip of the recorded export with
    # the two uploaded images at Label Studio's own paths
    settings.LABELGATE_LS_MEDIA_ROOT = ""
    project = make_project(labels=("cat", "dog"), task_type="image_classification")
    archive = _ls_zip(("export/image.json", _fixture("image.json")), *_uploads(prefix))
    # When it is imported as one upload (the quick export names annotators by id: the user map says who)
    job = run_import(
        project, "project-2.zip", archive, labelstudio_config=IMAGE_CONFIG, labelstudio_users=USERS
    )
    # Then tasks 5 and 6 are items holding the very bytes Label Studio stored, with both annotators' votes
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["format"] == "labelstudio_zip"
    assert (job.result["rows"], job.result["created"], job.result["errors"]) == (4, 2, 2) and _adds_up(
        job.result
    )
    uploaded = dict(_uploads())
    for ext, name in (("5", "upload/2/7ff9e945-cat-1.png"), ("6", "upload/2/b853650b-dog-1.png")):
        assert Item.objects.get(project=project, external_id=ext).file.read() == uploaded[name]
    assert _votes(project) == {
        ("5", ALICE): ["cat"],
        ("5", BOB): ["cat"],
        ("6", ALICE): ["dog"],
        ("6", BOB): ["cat"],
    }
    assert job.result["labelstudio"]["annotations"]["per_annotator"] == {ALICE: 2, BOB: 2}
    # And the two web addresses (tasks 7, 8) are row errors that say why, as for a plain export
    assert [row["line"] for row in job.result["report"]] == [3, 4]
    assert all("LABELGATE_LS_FETCH_URLS" in row["message"] for row in job.result["report"])


def test_an_upload_missing_from_the_zip_is_that_task_s_error(media_roots, settings):
    # Given a zip of the export holding only the cat image
    settings.LABELGATE_LS_MEDIA_ROOT = ""
    project = make_project(labels=("cat", "dog"), task_type="image_classification")
    cat = [(name, data) for name, data in _uploads() if "cat" in name]
    job = run_import(
        project,
        "p.zip",
        _ls_zip(("image.min.json", _fixture("image.min.json")), *cat),
        labelstudio_config=IMAGE_CONFIG,
        labelstudio_users=USERS,
    )
    # Then task 5 is imported, task 6 is an error naming the missing file, and the counts add up
    assert job.params["format"] == "labelstudio_zip"
    assert sorted(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["5"]
    missing = [row for row in job.result["report"] if "b853650b-dog-1.png" in row["message"]]
    assert len(missing) == 1 and missing[0]["field"] == "file_url" and _adds_up(job.result)


def test_a_zip_of_media_only_is_still_an_ordinary_media_zip():
    import io

    archive = _ls_zip(*_uploads())
    assert ingress.labelstudio_export_in_zip(io.BytesIO(archive)) is None
    with_export = _ls_zip(("image.csv", _fixture("image.csv")), *_uploads())
    assert ingress.labelstudio_export_in_zip(io.BytesIO(with_export)) == ("image.csv", "labelstudio_csv")
