"""GET /api/projects/{pid}/my-recent/: an annotator's own recent votes, to go back and change one. Blind: the body
holds the caller's own label and the item's content, nothing of anyone else's work."""

import pytest

from annotation.models import Annotation, Item, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def ids_by_external(project) -> dict[str, int]:
    return dict(Item.objects.filter(project=project).values_list("external_id", "id"))


def vote(project, user, item_id: int, label: str, **flags):
    return annotation_submit(
        project=project, user=user, data=AnnotationInput(item_id=item_id, labels=[label], **flags)
    )


def test_my_recent_lists_only_the_callers_own_labels_newest_first(api):
    # Given two annotators who labelled the same two items differently (k=2), and a third item only the other did
    project = make_project(k=2)
    add_items(project, 3)
    me, other = add_member(project, Role.ANNOTATOR), add_member(project, Role.ANNOTATOR)
    items = ids_by_external(project)
    vote(project, other, items["t0"], "neg")
    vote(project, me, items["t0"], "pos")
    vote(project, me, items["t1"], "neg", unsure=True)
    vote(project, other, items["t1"], "pos")
    vote(project, other, items["t2"], "neg")

    # When I ask for my recent items
    response = api(me).get(f"/api/projects/{project.pk}/my-recent/")

    # Then I get my two items, the last one I labelled first, each with my label only
    assert response.status_code == 200
    body = response.json()
    assert [(row["item"]["external_id"], row["label"], row["labels"], row["unsure"]) for row in body] == [
        ("t1", "neg", ["neg"], True),
        ("t0", "pos", ["pos"], False),
    ]
    assert body[0]["item"] == {
        "id": items["t1"],
        "external_id": "t1",
        "text": "text number 1",
        "media_url": None,
        "content_type": "",
    }
    # And nothing about others' votes, the consensus or the item's state is in it
    assert set(body[0]) == {
        "item",
        "annotation",
        "label",
        "labels",
        "unsure",
        "unusable",
        "comment",
        "annotated_at",
    }
    text = response.content.decode()
    for leak in ("consensus", "final_label", "status", "annotation_count", "annotator"):
        assert leak not in text


def test_my_recent_stops_at_twenty_items(api):
    # Given an annotator who labelled 23 items
    project = make_project(k=1)
    add_items(project, 23)
    me = add_member(project, Role.ANNOTATOR)
    items = ids_by_external(project)
    for n in range(23):
        vote(project, me, items[f"t{n}"], "pos")
    # When they ask for their recent items
    body = api(me).get(f"/api/projects/{project.pk}/my-recent/").json()
    # Then the 20 last ones come, t22 down to t3
    assert [row["item"]["external_id"] for row in body] == [f"t{n}" for n in range(22, 2, -1)]


def test_changing_a_recent_label_supersedes_it_and_keeps_one_live_annotation(api):
    # Given an annotator who labelled an item pos
    project = make_project(k=1)
    add_items(project, 2)
    me = add_member(project, Role.ANNOTATOR)
    items = ids_by_external(project)
    first, _ = vote(project, me, items["t0"], "pos")
    vote(project, me, items["t1"], "pos")
    client = api(me)
    row = next(
        r
        for r in client.get(f"/api/projects/{project.pk}/my-recent/").json()
        if r["item"]["id"] == items["t0"]
    )
    assert row["annotation"] == first.pk

    # When they change it to neg through the ordinary submit endpoint
    response = client.post(
        f"/api/projects/{project.pk}/annotations/", {"item": items["t0"], "label": "neg"}, format="json"
    )

    # Then the new annotation supersedes the old, one live annotation remains, and the count did not grow
    assert response.status_code == 201
    assert response.json()["supersedes"] == first.pk
    assert list(
        Annotation.objects.filter(item_id=items["t0"], is_live=True).values_list("labels", flat=True)
    ) == [["neg"]]
    assert Annotation.objects.filter(item_id=items["t0"]).count() == 2
    assert Item.objects.get(pk=items["t0"]).annotation_count == 1
    # And my-recent shows the changed label, now the most recent
    body = client.get(f"/api/projects/{project.pk}/my-recent/").json()
    assert [(r["item"]["external_id"], r["label"]) for r in body] == [("t0", "neg"), ("t1", "pos")]


def test_my_recent_is_for_members_only(api):
    # Given a project and a user who is not a member of it
    project = make_project(k=1)
    outsider = add_member(make_project(k=1), Role.ANNOTATOR)
    # When they ask for recent items in it; then they are refused
    assert api(outsider).get(f"/api/projects/{project.pk}/my-recent/").status_code in (403, 404)
