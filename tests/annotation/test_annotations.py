"""annotation_submit (annotation/services/annotations.py): supersede, idempotent client ids, multi-label, flags."""

import uuid

import pytest

from annotation.models import Annotation, Assignment, AssignmentState, Item, ItemStatus, Membership
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.projects import guideline_acknowledge, guideline_create
from annotation.services.queue import assignment_next_for_annotator
from core.errors import ValidationFailed
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def submit(project, user, item, labels=("pos",), **fields):
    data = AnnotationInput(item_id=item.pk, labels=list(labels), **fields)
    return annotation_submit(project=project, user=user, data=data)


@pytest.fixture
def project():
    project = make_project(k=3)
    add_items(project, 3)
    return project


def first_item(project):
    return Item.objects.filter(project=project).order_by("id").first()


def test_a_second_annotation_by_the_same_annotator_supersedes_the_first(project):
    # Given an annotator who labelled an item "pos"
    annotator = add_member(project)
    item = first_item(project)
    old, _ = submit(project, annotator, item, ["pos"])
    # When they label it again "neg"
    new, created = submit(project, annotator, item, ["neg"])
    # Then the new row is live and points to the old one, which is kept but no longer live
    assert created
    old.refresh_from_db()
    assert old.is_live is False and old.labels == ["pos"]
    assert new.is_live is True and new.supersedes_id == old.pk and new.labels == ["neg"]
    assert Annotation.objects.filter(item=item, annotator=annotator).count() == 2
    assert Annotation.objects.filter(item=item, is_live=True).count() == 1
    # And the item's annotation count did not change
    item.refresh_from_db()
    assert item.annotation_count == 1


def test_first_annotation_counts_and_closes_the_lease(project):
    # Given an annotator holding a lease
    annotator = add_member(project)
    assignment = assignment_next_for_annotator(project=project, user=annotator)
    # When they submit for the leased item
    annotation, created = submit(project, annotator, assignment.item)
    # Then the annotation is stored against the assignment, the lease is done and the count rose
    assert created and annotation.assignment_id == assignment.pk
    assert Assignment.objects.get(pk=assignment.pk).state == AssignmentState.DONE
    assert Item.objects.get(pk=assignment.item_id).annotation_count == 1


def test_item_becomes_labelled_at_k_annotations():
    # Given k=2
    project = make_project(k=2)
    add_items(project, 1)
    item = first_item(project)
    # When two annotators label it
    submit(project, add_member(project), item, ["pos"])
    after_one = Item.objects.get(pk=item.pk).status
    submit(project, add_member(project), item, ["neg"])
    # Then it is in progress after one and labelled after two
    assert after_one == ItemStatus.IN_PROGRESS
    item.refresh_from_db()
    assert item.status == ItemStatus.LABELLED and item.annotation_count == 2


def test_repeated_client_id_returns_the_first_result_without_a_duplicate(project):
    # Given an annotation stored with a client id
    annotator = add_member(project)
    item = first_item(project)
    client_id = uuid.uuid4()
    first, first_created = submit(project, annotator, item, ["pos"], client_id=client_id)
    # When the same request is retried (even with a different label)
    again, again_created = submit(project, annotator, item, ["neg"], client_id=client_id)
    # Then the first result comes back and nothing new is stored
    assert first_created and not again_created
    assert again.pk == first.pk and again.labels == ["pos"]
    assert Annotation.objects.filter(annotator=annotator).count() == 1
    assert Item.objects.get(pk=item.pk).annotation_count == 1


def test_repeated_client_id_over_the_api_answers_201_then_200_with_the_same_id(project, api):
    # Given an annotator's API client and one request body with a client id
    client = api(add_member(project))
    body = {"item": first_item(project).pk, "label": "pos", "client_id": str(uuid.uuid4())}
    url = f"/api/projects/{project.pk}/annotations/"
    # When the request is sent twice
    first = client.post(url, body, format="json")
    second = client.post(url, body, format="json")
    # Then the first creates (201), the retry returns the same annotation (200)
    assert first.status_code == 201, first.json()
    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first.json()["id"]
    assert Annotation.objects.count() == 1


def test_client_id_reused_on_another_item_is_rejected(project):
    # Given an annotation stored with a client id
    annotator = add_member(project)
    one, two = Item.objects.filter(project=project).order_by("id")[:2]
    client_id = uuid.uuid4()
    submit(project, annotator, one, client_id=client_id)
    # When the same client id is sent for another item
    with pytest.raises(ValidationFailed) as raised:
        submit(project, annotator, two, client_id=client_id)
    # Then it is a validation error on client_id and nothing is stored for the second item
    assert raised.value.field == "client_id"
    assert not Annotation.objects.filter(item=two).exists()


def test_client_id_reused_on_another_item_over_the_api_is_400(project, api):
    # Given an annotation stored over the API with a client id
    client = api(add_member(project))
    one, two = Item.objects.filter(project=project).order_by("id")[:2]
    client_id = str(uuid.uuid4())
    url = f"/api/projects/{project.pk}/annotations/"
    assert (
        client.post(url, {"item": one.pk, "label": "pos", "client_id": client_id}, format="json").status_code
        == 201
    )
    # When the client id is reused for another item
    response = client.post(url, {"item": two.pk, "label": "pos", "client_id": client_id}, format="json")
    # Then 400 names client_id
    assert response.status_code == 400
    assert "client_id" in response.json()


def test_the_same_client_id_from_two_annotators_is_two_annotations(project):
    # Given two annotators whose clients happen to send the same id
    client_id = uuid.uuid4()
    item = first_item(project)
    # When both submit
    a, a_created = submit(project, add_member(project), item, client_id=client_id)
    b, b_created = submit(project, add_member(project), item, client_id=client_id)
    # Then both are stored
    assert a_created and b_created and a.pk != b.pk


def test_multi_label_project_stores_the_label_set_sorted_and_deduplicated():
    # Given a multi-label project
    project = make_project(labels=("cat", "dog", "bird"), multi_label=True)
    add_items(project, 1)
    # When an annotator sends several labels, one repeated
    annotation, _ = submit(project, add_member(project), first_item(project), ["dog", "bird", "dog"])
    # Then the stored set is sorted and unique
    assert annotation.labels == ["bird", "dog"]


def test_multi_label_project_over_the_api_takes_a_labels_list(api):
    # Given a multi-label project
    project = make_project(labels=("cat", "dog", "bird"), multi_label=True)
    add_items(project, 1)
    # When the API receives a labels list
    response = api(add_member(project)).post(
        f"/api/projects/{project.pk}/annotations/",
        {"item": first_item(project).pk, "labels": ["cat", "dog"]},
        format="json",
    )
    # Then it is stored as sent
    assert response.status_code == 201, response.json()
    assert response.json()["labels"] == ["cat", "dog"]
    assert Annotation.objects.get().labels == ["cat", "dog"]


def test_single_label_project_rejects_two_labels(project):
    # Given a single-label project
    # When two labels are sent
    with pytest.raises(ValidationFailed) as raised:
        submit(project, add_member(project), first_item(project), ["pos", "neg"])
    # Then it is rejected on "label"
    assert raised.value.field == "label"
    assert not Annotation.objects.exists()


def test_unsure_and_unusable_flags_are_stored(project):
    # Given an annotator
    annotator = add_member(project)
    one, two = Item.objects.filter(project=project).order_by("id")[:2]
    # When they flag one item unsure (with a label) and another unusable (without one)
    unsure, _ = submit(project, annotator, one, ["neg"], unsure=True, comment="sarcasm?")
    unusable, _ = submit(project, annotator, two, [], unusable=True)
    # Then the flags, comment and labels are stored as sent
    unsure.refresh_from_db()
    unusable.refresh_from_db()
    assert (unsure.unsure, unsure.unusable, unsure.labels, unsure.comment) == (
        True,
        False,
        ["neg"],
        "sarcasm?",
    )
    assert (unusable.unsure, unusable.unusable, unusable.labels) == (False, True, [])


def test_no_label_and_not_unusable_is_rejected(project):
    # When a single-label annotation has neither a label nor the unusable flag
    with pytest.raises(ValidationFailed) as raised:
        submit(project, add_member(project), first_item(project), [])
    # Then it is rejected on "label"
    assert raised.value.field == "label"


def test_annotation_records_the_guideline_version_it_was_made_under(project):
    # Given the guideline moved on to version 2
    annotator = add_member(project)
    one, two, three = Item.objects.filter(project=project).order_by("id")[:3]
    before, _ = submit(project, annotator, one)
    guideline_create(
        project=project, author=project.created_by, body="Stricter rules", change_note="sarcasm is neg"
    )
    # When the annotator submits again before acknowledging v2, and once more after
    stale, _ = submit(project, annotator, two)
    guideline_acknowledge(membership=Membership.objects.get(project=project, user=annotator), version=2)
    after, _ = submit(project, annotator, three)
    # Then each annotation records the version the annotator had read
    assert before.guideline_version == 1 and before.guideline.version == 1
    assert stale.guideline_version == 1 and stale.guideline.version == 1
    assert after.guideline_version == 2 and after.guideline.version == 2
