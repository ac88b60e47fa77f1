"""The boxes kind through the REST contract (docs/API.md, Boxes): a project of task type ``image_boxes``, images
imported with their size, annotations of ``boxes`` in pixels of the stored image, every bad input refused with a
field message naming the box and nothing stored."""

import math

import pytest

from annotation.models import Annotation, Item
from tests.factories import UserFactory, add_member
from tests.kinds.box_fixtures import box_project_create, png_b64

WIDTH, HEIGHT = 400, 300


def png(width: int = WIDTH, height: int = HEIGHT) -> str:
    return png_b64(width, height, (200, 200, 200))


@pytest.fixture
def box_project(api):
    project = box_project_create(api, images=[png() for _ in range(2)])
    assert project.bulk["created"] == 2, project.bulk
    return {"pid": project.pid, "manager": project.manager, "items": project.items}


def _post(api, user, pid, body):
    return api(user).post(f"/api/projects/{pid}/annotations/", body, format="json")


@pytest.mark.django_db
def test_a_box_project_takes_boxes_in_image_pixels_sorted_and_shows_them_back(box_project, api):
    # Given an annotator of a box project with two 400 x 300 images
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    # When they send two boxes, the second one touching the right and bottom edges
    boxes = [
        {"x": 300, "y": 200.5, "w": 100, "h": 99.5, "label": "rock"},
        {"x": 10.25, "y": 20, "w": 50, "h": 40, "label": "iguana"},
    ]
    response = _post(api, annotator, pid, {"item": item.pk, "boxes": boxes})
    # Then it is stored in pixels as floats, sorted by label then x, and shown back the same way
    assert response.status_code == 201, response.json()
    expected = [
        {"x": 10.25, "y": 20.0, "w": 50.0, "h": 40.0, "label": "iguana"},
        {"x": 300.0, "y": 200.5, "w": 100.0, "h": 99.5, "label": "rock"},
    ]
    assert response.json()["boxes"] == expected
    assert "label" not in response.json() and "labels" not in response.json()
    assert Annotation.objects.get(pk=response.json()["id"]).labels == expected
    # And their recent votes and the reviewer's item view show the boxes
    (recent,) = api(annotator).get(f"/api/projects/{pid}/my-recent/").json()
    assert recent["boxes"] == expected
    detail = api(box_project["manager"]).get(f"/api/projects/{pid}/items/{item.pk}/").json()
    assert detail["annotations"][0]["boxes"] == expected
    assert detail["annotations"][0]["labels"] == ["iguana", "rock"]
    # And the item shows the image's size
    assert (detail["item"]["width"], detail["item"]["height"]) == (WIDTH, HEIGHT)
    listed = api(box_project["manager"]).get(f"/api/projects/{pid}/items/").json()["results"]
    assert {(row["width"], row["height"]) for row in listed} == {(WIDTH, HEIGHT)}


@pytest.mark.django_db
def test_an_empty_list_is_nothing_to_box_and_a_missing_one_is_refused(box_project, api):
    pid, (first, second) = box_project["pid"], box_project["items"]
    annotator = add_member(first.project)
    # When an annotator answers "nothing to box"
    nothing = _post(api, annotator, pid, {"item": first.pk, "boxes": []})
    # Then it is stored as an empty answer
    assert nothing.status_code == 201 and nothing.json()["boxes"] == []
    # When another sends no boxes at all, then that is refused, unless the image is flagged unusable
    missing = _post(api, annotator, pid, {"item": second.pk})
    assert missing.status_code == 400
    assert missing.json()["boxes"] == [
        "Send boxes ([] when there is nothing to box), or flag the image as unusable."
    ]
    unusable = _post(api, annotator, pid, {"item": second.pk, "unusable": True})
    assert unusable.status_code == 201 and unusable.json()["boxes"] == []


@pytest.mark.django_db
def test_a_repeated_client_id_returns_the_first_result_and_a_second_answer_supersedes(box_project, api):
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    body = {"item": item.pk, "boxes": [{"x": 1, "y": 1, "w": 5, "h": 5, "label": "rock"}]}
    client_id = "7d1f2c1e-0b9a-4a55-9d7e-9b7a0c2a1f00"
    first = _post(api, annotator, pid, {**body, "client_id": client_id})
    again = _post(api, annotator, pid, {**body, "client_id": client_id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = _post(api, annotator, pid, {**body, "boxes": []})
    assert changed.status_code == 201 and changed.json()["supersedes"] == first.json()["id"]
    assert list(Annotation.objects.filter(item=item, is_live=True).values_list("labels", flat=True)) == [[]]


def _box(**overrides):
    return {"x": 10, "y": 10, "w": 20, "h": 20, "label": "iguana", **overrides}


GOOD = _box()
BAD_INPUTS = [
    # (boxes, field, message); the bad box is the third, after two good ones
    (_box(w=0), "boxes", "Box 3: w must be greater than 0."),
    (_box(h=-4), "boxes", "Box 3: h must be greater than 0."),
    (_box(x="10"), "boxes", "Box 3: x must be a number, not a string."),
    (_box(y=True), "boxes", "Box 3: y must be a number, not a boolean."),
    (_box(w=None), "boxes", "Box 3: w must be a number, not missing."),
    (_box(label="dog"), "boxes", "Box 3: unknown label 'dog'; this project's labels are iguana, rock."),
    (_box(label=""), "boxes", "Box 3: label must be a label value (a non-empty string)."),
    (_box(score=0.9), "boxes", "Box 3: unknown field 'score'; a box has x, y, w, h and label."),
    ("not a list", "boxes", None),
    (
        _box(x=390),
        "boxes",
        "Box 3: outside the image (x 390 to 410; the image's width is 400 px, so 0 <= x and x + w <= 400).",
    ),
    (
        _box(y=-1),
        "boxes",
        "Box 3: outside the image (y -1 to 19; the image's height is 300 px, so 0 <= y and y + h <= 300).",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "field", "message"), BAD_INPUTS)
def test_a_bad_box_is_refused_naming_it_and_nothing_is_stored(box_project, api, bad, field, message):
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    boxes = bad if isinstance(bad, str) else [GOOD, GOOD, bad]
    response = _post(api, annotator, pid, {"item": item.pk, "boxes": boxes})
    assert response.status_code == 400, response.json()
    if message is None:
        assert "boxes must be a list" in response.json()[field][0]
    else:
        assert response.json()[field] == [message]
    assert not Annotation.objects.exists()
    assert Item.objects.get(pk=item.pk).annotation_count == 0


@pytest.mark.django_db
def test_non_finite_coordinates_never_get_stored(box_project):
    # JSON has no NaN or Infinity (the API's parser refuses them); a service caller could still pass them
    from annotation.services.annotations import AnnotationInput, annotation_submit
    from core.errors import ValidationFailed

    item = box_project["items"][0]
    annotator = add_member(item.project)
    for value in (math.nan, math.inf):
        with pytest.raises(ValidationFailed, match="Box 1: x must be a finite number."):
            annotation_submit(
                project=item.project,
                user=annotator,
                data=AnnotationInput(item_id=item.pk, labels=[_box(x=value)]),
            )
    assert not Annotation.objects.exists()


@pytest.mark.django_db
def test_an_edge_a_hundredth_of_a_pixel_outside_is_moved_onto_the_border(box_project, api):
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    response = _post(api, annotator, pid, {"item": item.pk, "boxes": [_box(x=-0.005, w=400.01)]})
    assert response.status_code == 201, response.json()
    assert response.json()["boxes"] == [{"x": 0.0, "y": 10.0, "w": 400.0, "h": 20.0, "label": "iguana"}]
    beyond = _post(api, annotator, pid, {"item": item.pk, "boxes": [_box(x=-0.02)]})
    assert beyond.status_code == 400 and beyond.json()["boxes"][0].startswith("Box 1: outside the image")


@pytest.mark.django_db
def test_ten_thousand_boxes_are_refused_with_a_clear_error(box_project, api):
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    response = _post(api, annotator, pid, {"item": item.pk, "boxes": [GOOD] * 10_000})
    assert response.status_code == 400
    assert response.json()["boxes"] == ["At most 1000 boxes per annotation; got 10000."]
    at_limit = _post(api, annotator, pid, {"item": item.pk, "boxes": [GOOD] * 1000})
    assert at_limit.status_code == 201 and len(at_limit.json()["boxes"]) == 1000


@pytest.mark.django_db
def test_label_fields_on_a_box_project_and_boxes_on_a_classification_project_are_refused(box_project, api):
    pid, item = box_project["pid"], box_project["items"][0]
    annotator = add_member(item.project)
    label = _post(api, annotator, pid, {"item": item.pk, "label": "iguana", "boxes": []})
    labels = _post(api, annotator, pid, {"item": item.pk, "labels": ["iguana"]})
    assert label.status_code == 400 and label.json()["label"] == [
        "This project's answers have no label field; send boxes."
    ]
    assert labels.status_code == 400 and "labels" in labels.json()

    # Given a classification project of images
    manager = UserFactory(project_creator=True)
    body = {
        "name": "Photos",
        "task_type": "image_classification",
        "labels": [{"value": "iguana"}, {"value": "none"}],
    }
    cpid = api(manager).post("/api/projects/", body, format="json").json()["id"]
    api(manager).post(
        f"/api/projects/{cpid}/items/bulk/", [{"external_id": "p", "file_b64": png()}], format="json"
    )
    photo = Item.objects.get(project_id=cpid)
    voter = add_member(photo.project)
    # When boxes are sent to it, then they are refused, not dropped
    boxes = _post(api, voter, cpid, {"item": photo.pk, "label": "iguana", "boxes": [GOOD]})
    assert boxes.status_code == 400
    assert boxes.json()["boxes"] == ["This project's answers have no boxes field; send label or labels."]
    assert not Annotation.objects.exists()


@pytest.mark.django_db
def test_gold_boxes_come_in_with_the_bulk_rows(box_project, api):
    pid = box_project["pid"]
    rows = [
        {"external_id": "gold-1", "file_b64": png(), "gold_label": [_box(label="rock"), _box(x=1)]},
        {"external_id": "gold-empty", "file_b64": png(), "gold_label": []},
        {"external_id": "gold-bad", "file_b64": png(), "gold_label": [_box(w=0)]},
        {"external_id": "gold-dog", "file_b64": png(), "gold_label": [_box(label="dog")]},
        {"external_id": "gold-out", "file_b64": png(), "gold_label": [_box(), _box(y=290)]},
        {"external_id": "gold-edge", "file_b64": png(), "gold_label": [_box(x=381, w=19.005)]},
    ]
    response = api(box_project["manager"]).post(f"/api/projects/{pid}/items/bulk/", rows, format="json")
    assert response.json()["created"] == 3, response.json()
    golds = dict(Item.objects.filter(project_id=pid, is_gold=True).values_list("external_id", "gold_label"))
    assert golds == {
        "gold-1": [
            {"x": 1.0, "y": 10.0, "w": 20.0, "h": 20.0, "label": "iguana"},
            {"x": 10.0, "y": 10.0, "w": 20.0, "h": 20.0, "label": "rock"},
        ],
        "gold-empty": [],
        # an edge 0.005 px past the border is moved onto it
        "gold-edge": [{"x": 381.0, "y": 10.0, "w": 19.0, "h": 20.0, "label": "iguana"}],
    }
    errors = {error["index"]: error["message"] for error in response.json()["errors"]}
    assert errors == {
        2: "Gold: Box 1: w must be greater than 0.",
        3: "Gold: Box 1: unknown label 'dog'; this project's labels are iguana, rock.",
        4: "Gold: Box 2: outside the image (y 290 to 310; the image's height is 300 px, so 0 <= y and y + h <= 300).",
    }
    assert {error["field"] for error in response.json()["errors"]} == {"gold_label"}
