"""The span annotation contract: ``POST /annotations/`` with ``spans`` on a ``text_spans`` project stores
character offsets sorted by (start, end, label) and shows them; each bad input is a 400 whose field message
names the span, and nothing is stored."""

import uuid

import pytest

from annotation.models import Annotation, Item, Label, Project
from kinds.registry import kind_for
from kinds.spans.value import MAX_SPANS
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London."
# Hand-counted offsets of the words of TEXT (end exclusive).
ADA = (0, 3)  # "Ada"
ADA_LOVELACE = (0, 12)  # "Ada Lovelace"
CHARLES_BABBAGE = (17, 32)  # "Charles Babbage"
LONDON = (36, 42)  # "London"


def span_project(**fields) -> Project:
    return make_project(task_type="text_spans", labels=("PER", "LOC"), k=2, **fields)


def add_text(project: Project, text: str = TEXT, external_id: str = "doc1") -> Item:
    from ingress.services.bulk import item_bulk_create

    result = item_bulk_create(project=project, rows=[{"external_id": external_id, "text": text}])
    assert not result.errors, result.errors
    return Item.objects.get(project=project, external_id=external_id)


def span(bounds: tuple[int, int], label: str) -> dict:
    return {"start": bounds[0], "end": bounds[1], "label": label}


@pytest.fixture
def setup(api):
    project = span_project()
    item = add_text(project)
    client = api(add_member(project))
    return project, item, client


def post(client, project, body):
    return client.post(f"/api/projects/{project.pk}/annotations/", body, format="json")


def test_the_offsets_of_the_fixture_text_are_the_words_they_name():
    # The expected offsets below are hand-counted; this pins them to the words.
    assert TEXT[slice(*ADA_LOVELACE)] == "Ada Lovelace"
    assert TEXT[slice(*CHARLES_BABBAGE)] == "Charles Babbage"
    assert TEXT[slice(*LONDON)] == "London"


def test_a_span_project_is_created_through_the_api_with_one_label_and_colours(api):
    from tests.factories import UserFactory

    manager = UserFactory(project_creator=True)
    response = api(manager).post(
        "/api/projects/",
        {
            "name": "NER",
            "task_type": "text_spans",
            "labels": [{"value": "PER", "hotkey": "p", "colour": "#FF0000"}, {"value": "LOC"}],
            "span_snap_tokens": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["task_type"] == "text_spans"
    assert body["span_snap_tokens"] is False
    # The given colour is stored lower-case; the blank one reads as the palette's second colour.
    assert [(label["value"], label["colour"]) for label in body["labels"]] == [
        ("PER", "#ff0000"),
        ("LOC", "#56b4e9"),
    ]
    assert Label.objects.get(project_id=body["id"], value="LOC").colour == ""
    one = api(manager).post(
        "/api/projects/",
        {"name": "One", "task_type": "text_spans", "labels": [{"value": "DEFECT"}]},
        format="json",
    )
    assert one.status_code == 201, one.json()


def test_a_bad_label_colour_is_refused(api):
    from tests.factories import UserFactory

    response = api(UserFactory(project_creator=True)).post(
        "/api/projects/",
        {"name": "NER", "task_type": "text_spans", "labels": [{"value": "PER", "colour": "red"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "#rrggbb" in str(response.json()["labels"])
    assert not Project.objects.exists()


def test_span_snap_tokens_is_a_project_setting(setup, api):
    project, _, _ = setup
    manager = project.memberships.get(role="manager").user
    response = api(manager).patch(f"/api/projects/{project.pk}/", {"span_snap_tokens": False}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["span_snap_tokens"] is False
    project.refresh_from_db()
    assert project.span_snap_tokens is False


def test_spans_are_stored_sorted_and_shown(setup):
    project, item, client = setup
    # When spans arrive out of order, with two labels overlapping
    sent = [span(LONDON, "LOC"), span(CHARLES_BABBAGE, "PER"), span(ADA_LOVELACE, "PER"), span(ADA, "LOC")]
    response = post(client, project, {"item": item.pk, "spans": sent, "client_id": str(uuid.uuid4())})
    # Then they are stored sorted by (start, end, label) and shown so
    assert response.status_code == 201, response.json()
    expected = [
        span(ADA, "LOC"),
        span(ADA_LOVELACE, "PER"),
        span(CHARLES_BABBAGE, "PER"),
        span(LONDON, "LOC"),
    ]
    assert response.json()["spans"] == expected
    assert "label" not in response.json() and "labels" not in response.json()
    assert Annotation.objects.get().labels == expected


def test_no_entities_is_an_empty_list_not_a_skip(setup):
    project, item, client = setup
    response = post(client, project, {"item": item.pk, "spans": []})
    assert response.status_code == 201, response.json()
    assert response.json()["spans"] == []
    assert Annotation.objects.get().labels == []


def test_a_repeated_client_id_returns_the_first_result_and_a_second_answer_supersedes(setup):
    project, item, client = setup
    client_id = str(uuid.uuid4())
    first = post(client, project, {"item": item.pk, "spans": [span(LONDON, "LOC")], "client_id": client_id})
    again = post(client, project, {"item": item.pk, "spans": [span(ADA, "PER")], "client_id": client_id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["spans"] == [span(LONDON, "LOC")]
    changed = post(client, project, {"item": item.pk, "spans": [span(ADA, "PER")]})
    assert changed.status_code == 201
    assert changed.json()["supersedes"] == first.json()["id"]
    assert list(Annotation.objects.filter(is_live=True).values_list("labels", flat=True)) == [
        [span(ADA, "PER")]
    ]


def test_the_item_shows_its_annotations_spans(setup, api):
    project, item, client = setup
    post(client, project, {"item": item.pk, "spans": [span(CHARLES_BABBAGE, "PER")]})
    manager = project.memberships.get(role="manager").user
    response = api(manager).get(f"/api/projects/{project.pk}/items/{item.pk}/")
    assert response.status_code == 200, response.json()
    assert [a["spans"] for a in response.json()["annotations"]] == [[span(CHARLES_BABBAGE, "PER")]]


def test_next_serves_a_span_item_and_my_recent_shows_the_spans(setup):
    project, item, client = setup
    nxt = client.get(f"/api/projects/{project.pk}/next/")
    assert nxt.status_code == 200
    assert nxt.json()["item"]["text"] == TEXT
    post(client, project, {"item": item.pk, "spans": [span(LONDON, "LOC")]})
    recent = client.get(f"/api/projects/{project.pk}/my-recent/")
    assert recent.json()[0]["spans"] == [span(LONDON, "LOC")]


def test_unusable_without_spans_is_stored_as_no_span(setup):
    project, item, client = setup
    response = post(client, project, {"item": item.pk, "unusable": True})
    assert response.status_code == 201, response.json()
    assert Annotation.objects.get().labels == []


BAD = [
    (
        "start after end",
        [span(LONDON, "LOC"), {"start": 10, "end": 4, "label": "PER"}],
        "Span 2 (start 10, end 4): start must be before end.",
    ),
    (
        "empty span",
        [{"start": 5, "end": 5, "label": "PER"}],
        "Span 1 (start 5, end 5): start must be before end.",
    ),
    (
        "negative start",
        [{"start": -1, "end": 3, "label": "PER"}],
        "Span 1 (start -1, end 3): start must be 0 or more.",
    ),
    (
        "past the text",
        [span(ADA, "PER"), {"start": 40, "end": 44, "label": "LOC"}],
        "Span 2 (start 40, end 44): end is past the end of the text (43 characters).",
    ),
    (
        "float offset",
        [{"start": 0.0, "end": 3, "label": "PER"}],
        "Span 1 (start 0.0, end 3): start and end must be whole numbers",
    ),
    (
        "string offset",
        [{"start": "0", "end": 3, "label": "PER"}],
        "Span 1 (start '0', end 3): start and end must be whole numbers",
    ),
    (
        "bool offset",
        [{"start": False, "end": 3, "label": "PER"}],
        "Span 1 (start False, end 3): start and end must be whole numbers",
    ),
    ("missing label", [{"start": 0, "end": 3}], "Span 1 (start 0, end 3): missing label."),
    ("unknown field", [{"start": 0, "end": 3, "label": "PER", "text": "Ada"}], "unknown field text"),
    ("not an object", [[0, 3, "PER"]], "Span 1 must be an object"),
    ("not a list", {"start": 0, "end": 3, "label": "PER"}, "spans must be a list"),
    (
        "unknown label",
        [span(ADA, "PER"), span(LONDON, "ORG")],
        "Span 2 (start 36, end 42): unknown label 'ORG'",
    ),
    (
        "same label overlapping",
        [span(LONDON, "LOC"), span(ADA_LOVELACE, "PER"), {"start": 4, "end": 16, "label": "PER"}],
        "Span 3 (start 4, end 16) overlaps span 2 (start 0, end 12), both 'PER'",
    ),
    (
        "the same span twice",
        [span(ADA, "PER"), span(ADA, "PER")],
        "Span 2 (start 0, end 3) overlaps span 1 (start 0, end 3), both 'PER'",
    ),
    (
        "too many",
        [{"start": i, "end": i + 1, "label": "PER"} for i in range(MAX_SPANS + 1)],
        f"At most {MAX_SPANS} spans per item; got {MAX_SPANS + 1}.",
    ),
]


@pytest.mark.parametrize(("case", "spans", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_spans_are_a_400_naming_the_span_and_nothing_is_stored(setup, case, spans, message):
    project, item, client = setup
    response = post(client, project, {"item": item.pk, "spans": spans})
    assert response.status_code == 400, (case, response.json())
    errors = response.json()["spans"]
    assert any(message in error for error in errors), errors
    assert not Annotation.objects.exists()
    item.refresh_from_db()
    assert item.annotation_count == 0


def test_spans_left_out_are_refused(setup):
    project, item, client = setup
    response = post(client, project, {"item": item.pk})
    assert response.status_code == 400
    assert "[]" in response.json()["spans"][0]
    assert not Annotation.objects.exists()


def test_a_class_label_on_a_span_project_is_refused(setup):
    project, item, client = setup
    response = post(client, project, {"item": item.pk, "label": "PER", "spans": []})
    assert response.status_code == 400
    assert "have no label field; send spans" in response.json()["label"][0]
    response = post(client, project, {"item": item.pk, "labels": ["PER"]})
    assert "labels" in response.json()
    assert not Annotation.objects.exists()


def test_spans_on_a_classification_project_are_refused(api):
    project = make_project()
    item = add_text(project, "good film")
    response = post(api(add_member(project)), project, {"item": item.pk, "label": "pos", "spans": []})
    assert response.status_code == 400
    assert "have no spans field; send label or labels" in response.json()["spans"][0]
    assert not Annotation.objects.exists()


def test_different_labels_may_overlap_and_same_label_may_touch(setup):
    project, item, client = setup
    spans = [span(ADA, "PER"), span((3, 12), "PER"), span(ADA_LOVELACE, "LOC")]
    response = post(client, project, {"item": item.pk, "spans": spans})
    assert response.status_code == 201, response.json()


def test_gold_value_and_review_reads_of_a_span_list():
    project = span_project()
    value = kind_for(project).value_schema
    gold, error = value.gold_value(
        project=project, raw=[span(LONDON, "LOC"), span(ADA, "PER")], label_values={"PER", "LOC"}
    )
    assert error is None and gold == [span(ADA, "PER"), span(LONDON, "LOC")]
    assert value.gold_value(project=project, raw=[], label_values={"PER"}) == ([], None)
    _, error = value.gold_value(project=project, raw=[span(ADA, "ORG")], label_values={"PER"})
    assert "unknown label 'ORG'" in error
    assert value.label_classes([span(ADA, "PER"), span(LONDON, "LOC"), span(CHARLES_BABBAGE, "PER")]) == [
        "PER",
        "LOC",
    ]
    assert value.final_from_vote(
        [span(ADA, "OLD"), span(LONDON, "LOC")], project=project, mapping={"OLD": "PER"}
    ) == [span(ADA, "PER"), span(LONDON, "LOC")]
    assert value.final_from_choice(project=project, label=[span(LONDON, "LOC")], active={"LOC"}) == [
        span(LONDON, "LOC")
    ]


def test_items_with_a_span_label_are_found_by_the_stored_label_query():
    project = span_project()
    a = add_text(project, external_id="a")
    b = add_text(project, external_id="b")
    Item.objects.filter(pk=a.pk).update(final_label=[span(ADA, "PER")])
    Item.objects.filter(pk=b.pk).update(final_label=[span(LONDON, "LOC")])
    query = kind_for(project).value_schema.stored_label_query("final_label", "PER", project=project)
    assert list(Item.objects.filter(query).values_list("pk", flat=True)) == [a.pk]
