"""Labelgate → Label Studio: the export's labelling config, every annotator's vote, predictions, signed media links.

Projects are imported from the real Label Studio exports in tests/fixtures/labelstudio (see
test_labelstudio_import.py for what they hold), given a consensus label and frozen.
"""

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from django.test import Client

from annotation.models import Item, ItemStatus
from datasets.exporters import stream_labelstudio, stream_labelstudio_config
from tests.datasets.builders import body, freeze, labelled_items
from tests.factories import add_member, make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
ALICE, BOB = "alice@example.com", "bob@example.com"
CONSENSUS = {"1": "pos", "2": "neg", "3": "neutral", "4": "pos"}


def _imported_text_version():
    project = make_project(labels=("pos", "neg", "neutral"), k=2)
    job = run_import(
        project,
        "text.snapshot.json",
        (FIXTURES / "text.snapshot.json").read_bytes(),
        labelstudio_config=(FIXTURES / "text.xml").read_text(),
    )
    assert job.result["created"] == 4, job.result
    for external_id, label in CONSENSUS.items():
        Item.objects.filter(project=project, external_id=external_id).update(
            status=ItemStatus.LABELLED, consensus_label=label, consensus_confidence=0.8
        )
    return project, freeze(project)


def _tasks(version) -> list[dict]:
    return json.loads(body(stream_labelstudio(version=version, base_url="http://testserver/")))


def test_the_config_names_match_the_imported_project_and_the_results(media_roots):
    # Given a project imported from Label Studio under <Text name="review" value="$review"> / sentiment
    _, version = _imported_text_version()
    # When its version is exported with its config
    config = ElementTree.fromstring(body(stream_labelstudio_config(version=version)))
    tasks = _tasks(version)
    # Then the config has the project's control and object names and the classes in project order
    choices = config.find("Choices")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == (
        "sentiment",
        "review",
        "single",
    )
    assert [c.get("value") for c in choices.findall("Choice")] == ["pos", "neg", "neutral"]
    assert config.find("Text").get("value") == "$review"
    # And every result names that control and object, and every task has its text under the data key
    results = [r for t in tasks for a in t["annotations"] + t["predictions"] for r in a["result"]]
    assert results and {(r["from_name"], r["to_name"]) for r in results} == {("sentiment", "review")}
    assert {t["data"]["external_id"]: t["data"]["review"][:4] for t in tasks} == {
        "1": "A wo",
        "2": "Dull",
        "3": "It w",
        "4": "Best",
    }


def test_every_annotators_vote_and_every_prediction_goes_out(media_roots):
    _, version = _imported_text_version()
    tasks = {t["data"]["external_id"]: t for t in _tasks(version)}
    # Then each task has the version's label (ground truth) then each annotator's vote under their e-mail
    votes = {
        (ext, a["completed_by"]["email"]): a["result"][0]["value"]["choices"]
        for ext, t in tasks.items()
        for a in t["annotations"]
        if not a.get("ground_truth")
    }
    assert votes == {
        ("1", ALICE): ["pos"],
        ("1", BOB): ["pos"],
        ("2", ALICE): ["neg"],
        ("2", BOB): ["neg"],
        ("3", ALICE): ["neutral"],
        ("3", BOB): ["pos"],
        ("4", ALICE): ["pos"],
    }
    # (Label Studio counts an imported annotation as ground truth unless it says false)
    assert all(a["ground_truth"] is False for t in tasks.values() for a in t["annotations"][1:])
    truth = {ext: [a for a in t["annotations"] if a.get("ground_truth")] for ext, t in tasks.items()}
    assert {ext: a[0]["result"][0]["value"]["choices"] for ext, a in truth.items()} == {
        ext: [label] for ext, label in CONSENSUS.items()
    }
    # And the imported predictions under their model version, with their scores
    predictions = {
        ext: [(p["model_version"], p["result"][0]["value"]["choices"], p["score"]) for p in t["predictions"]]
        for ext, t in tasks.items()
    }
    assert predictions == {
        "1": [("sentiment-v1", ["pos"], 0.91)],
        "2": [("sentiment-v1", ["neg"], 0.84)],
        "3": [("sentiment-v1", ["pos"], 0.55)],
        "4": [("sentiment-v1", ["pos"], 0.97)],
    }
    # And nothing label-bearing is duplicated into meta
    assert all("ls_predictions" not in t["meta"] for t in tasks.values())


def test_a_project_that_never_came_from_label_studio_uses_label_on_text(media_roots):
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 1, "neg": 1})
    config = ElementTree.fromstring(body(stream_labelstudio_config(version=freeze(project))))
    assert (config.find("Choices").get("name"), config.find("Text").get("value")) == ("label", "$text")


def _image_version(media_roots, settings):
    settings.LABELGATE_LS_MEDIA_ROOT = str(FIXTURES / "media")
    project = make_project(labels=("cat", "dog"), task_type="image_classification")
    run_import(
        project,
        "image.snapshot.json",
        (FIXTURES / "image.snapshot.json").read_bytes(),
        labelstudio_config=(FIXTURES / "image.xml").read_text(),
    )
    Item.objects.filter(project=project).update(
        status=ItemStatus.LABELLED, consensus_label="cat", consensus_confidence=0.9
    )
    return project, freeze(project)


def test_signed_media_links_load_without_a_session_and_fail_when_changed(media_roots, settings):
    # Given an image project imported from Label Studio's uploads and exported
    project, version = _image_version(media_roots, settings)
    tasks = _tasks(version)
    urls = [t["data"]["photo"] for t in tasks]
    assert len(urls) == 2 and all(u.startswith("http://testserver/media/signed/") for u in urls)
    anonymous = Client()
    # When Label Studio (no Labelgate session) loads them
    response = anonymous.get(urls[0].removeprefix("http://testserver"))
    # Then the file comes back
    assert response.status_code == 200 and b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Access-Control-Allow-Origin" not in response  # CORS is off by default
    # And a changed link is refused, while the member-only URL still needs a login
    token = urls[0].rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert anonymous.get(f"/media/signed/{tampered}/").status_code == 403
    item_id = tasks[0]["meta"]["labelgate"]["item_id"]
    assert anonymous.get(f"/media/items/{item_id}/").status_code == 404


def test_signed_media_links_expire(media_roots, settings):
    from annotation.media import media_link_sign

    project, _ = _image_version(media_roots, settings)
    item = Item.objects.filter(project=project).first()
    expired = media_link_sign(item_id=item.pk, max_age=-1)
    assert Client().get(f"/media/signed/{expired}/").status_code == 403


def test_cors_only_for_configured_origins(media_roots, settings):
    project, version = _image_version(media_roots, settings)
    url = _tasks(version)[0]["data"]["photo"].removeprefix("http://testserver")
    settings.LABELGATE_CORS_ORIGINS = ["http://127.0.0.1:8080"]
    allowed = Client().get(url, HTTP_ORIGIN="http://127.0.0.1:8080")
    other = Client().get(url, HTTP_ORIGIN="http://evil.example")
    assert allowed["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    assert "Access-Control-Allow-Origin" not in other


def test_the_config_is_served_by_the_export_endpoint(media_roots, api):
    project, version = _imported_text_version()
    reviewer = add_member(project, "reviewer")
    response = api(reviewer).get(f"/api/dataset-versions/{version.pk}/export/?format=labelstudio-config")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    xml = b"".join(response.streaming_content)
    assert ElementTree.fromstring(xml).find("Choices").get("name") == "sentiment"
