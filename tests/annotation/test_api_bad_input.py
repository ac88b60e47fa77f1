"""Each bad-input path of the REST API answers with the right status and a message naming the problem."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment, Guideline, Item, Membership, Role
from annotation.services.queue import assignment_next_for_annotator
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project(k=3)
    add_items(project, 3)
    return project


def item_of(project):
    return Item.objects.filter(project=project).order_by("id").first()


def annotations_url(project):
    return f"/api/projects/{project.pk}/annotations/"


def test_unknown_label_is_400_naming_the_label_field(project, api):
    # When an annotator sends a label the project does not have
    response = api(add_member(project)).post(
        annotations_url(project), {"item": item_of(project).pk, "label": "meh"}, format="json"
    )
    # Then 400 names "label" and lists the known labels; nothing is stored
    assert response.status_code == 400
    body = response.json()
    assert "'meh'" in body["label"][0] and "pos" in body["label"][0]
    assert not Annotation.objects.exists()


def test_unknown_label_in_a_multi_label_project_is_400_naming_labels(api):
    # Given a multi-label project
    project = make_project(labels=("cat", "dog"), multi_label=True)
    add_items(project, 1)
    # When one of the labels is unknown
    response = api(add_member(project)).post(
        annotations_url(project), {"item": item_of(project).pk, "labels": ["cat", "cow"]}, format="json"
    )
    # Then 400 names "labels"
    assert response.status_code == 400
    assert "'cow'" in response.json()["labels"][0]
    assert not Annotation.objects.exists()


def test_label_on_an_item_of_another_project_is_404(project, api):
    # Given an item that belongs to another project
    other = make_project(name="Other")
    add_items(other, 1, prefix="o")
    # When an annotator of the first project labels it through their project
    response = api(add_member(project)).post(
        annotations_url(project), {"item": item_of(other).pk, "label": "pos"}, format="json"
    )
    # Then 404 names the item; the other project's item is untouched
    assert response.status_code == 404
    assert "item" in response.json()
    assert Item.objects.get(pk=item_of(other).pk).annotation_count == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("members/", {"user": None, "role": "annotator"}),
        ("guidelines/", {"body": "new rules", "change_note": "tightened"}),
        ("items/bulk/", [{"external_id": "x1", "text": "hello"}]),
    ],
    ids=["members-add", "guidelines-post", "items-bulk"],
)
def test_annotator_calling_manager_endpoints_is_403(project, api, path, body):
    # Given an annotator (and, for members, a user to add)
    annotator = add_member(project)
    if path == "members/":
        body = {**body, "user": UserFactory().pk}
    # When they call a manager-only endpoint
    response = api(annotator).post(f"/api/projects/{project.pk}/{path}", body, format="json")
    # Then 403 says which role is needed, and nothing changed
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]
    assert Membership.objects.filter(project=project).count() == 2
    assert Guideline.objects.filter(project=project).count() == 1
    assert Item.objects.filter(project=project).count() == 3


def test_non_member_is_404_and_learns_nothing(project, api):
    # Given a user with no membership
    outsider = api(UserFactory())
    # When they read the project or ask for work
    detail = outsider.get(f"/api/projects/{project.pk}/")
    served = outsider.get(f"/api/projects/{project.pk}/next/")
    # Then both are 404, like a project that does not exist
    missing = outsider.get("/api/projects/999999/")
    assert (detail.status_code, served.status_code, missing.status_code) == (404, 404, 404)
    assert detail.json() == missing.json()
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("path", ["annotations/", "items/bulk/", "guidelines/acknowledge/"])
def test_malformed_json_is_400(project, api, path):
    # Given the project's manager
    client = api(project.created_by)
    # When the body is not valid JSON
    response = client.post(
        f"/api/projects/{project.pk}/{path}", data='{"item": 1, "label": ', content_type="application/json"
    )
    # Then 400 with a detail message
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_missing_item_field_is_400_naming_item(project, api):
    # When an annotation has no item
    response = api(add_member(project)).post(annotations_url(project), {"label": "pos"}, format="json")
    # Then 400 names the field
    assert response.status_code == 400
    assert "item" in response.json()


def expire_lease_and_give_item_to_someone_else(project, *, k, n_others):
    """One item with k slots: the late annotator's lease expired, then n_others annotators leased it."""
    project.annotations_per_item = k
    project.save(update_fields=["annotations_per_item"])
    Item.objects.filter(project=project).update(target_annotations=k)
    Item.objects.filter(project=project).exclude(pk=item_of(project).pk).delete()
    late = add_member(project)
    lease = assignment_next_for_annotator(project=project, user=late)
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    for _ in range(n_others):
        assert (
            assignment_next_for_annotator(project=project, user=add_member(project)).item_id == lease.item_id
        )
    return late, lease


def test_submission_after_lease_expired_is_stored_when_it_fits_within_k(project, api):
    # Given k=2: the late annotator's lease expired and one other annotator leased the item
    late, lease = expire_lease_and_give_item_to_someone_else(project, k=2, n_others=1)
    # When the late annotator submits
    response = api(late).post(
        annotations_url(project), {"item": lease.item_id, "label": "pos"}, format="json"
    )
    # Then their label is stored
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=lease.item_id).annotation_count == 1


def test_submission_after_lease_expired_is_409_when_the_item_is_full(project, api):
    # Given k=1: the late annotator's lease expired and the item went to someone else
    late, lease = expire_lease_and_give_item_to_someone_else(project, k=1, n_others=1)
    # When the late annotator submits
    response = api(late).post(
        annotations_url(project), {"item": lease.item_id, "label": "pos"}, format="json"
    )
    # Then 409 explains that the label was not stored, and nothing was stored
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "item_full"
    assert "not stored" in body["detail"]
    assert not Annotation.objects.exists()


def test_bulk_rows_good_rows_land_and_bad_rows_are_reported(project, api):
    # Given a bulk body mixing good and bad rows
    rows = [
        {"external_id": "new1", "text": "fine"},
        {"external_id": "", "text": "no id"},
        {"external_id": "new2", "text": 42},
        {"external_id": "new3", "text": "fine", "gold_label": "nope"},
        "not an object",
        {"external_id": "new4", "text": "fine", "tags": ["a", "b"]},
        {"external_id": "t0", "text": "already there"},
    ]
    # When the manager posts it
    response = api(project.created_by).post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
    # Then the good rows landed, the duplicate is counted, and each bad row is reported with index and field
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 2 and body["duplicates"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "external_id"),
        (2, "text"),
        (3, "gold_label"),
        (4, "row"),
    ]
    assert set(
        Item.objects.filter(project=project, external_id__startswith="new").values_list(
            "external_id", flat=True
        )
    ) == {"new1", "new4"}


def test_bulk_body_that_is_not_a_list_is_400(project, api):
    # When the bulk body is an object instead of a list
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/items/bulk/", {"external_id": "x", "text": "y"}, format="json"
    )
    # Then 400 and nothing stored
    assert response.status_code == 400
    assert "list" in response.json()["detail"]
    assert Item.objects.filter(project=project).count() == 3


def test_member_add_with_unknown_role_is_400_naming_role(project, api):
    # When the manager adds a member with a role that does not exist
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/members/", {"user": UserFactory().pk, "role": "owner"}, format="json"
    )
    # Then 400 names the field
    assert response.status_code == 400
    assert "role" in response.json()
    assert not Membership.objects.filter(project=project, role=Role.REVIEWER).exists()


def test_submission_after_lease_expired_is_409_when_other_leases_fill_k(project, api):
    # Given k=2: the late annotator's lease expired and two others now hold the item's two slots
    late, lease = expire_lease_and_give_item_to_someone_else(project, k=2, n_others=2)
    # When the late annotator submits
    response = api(late).post(
        annotations_url(project), {"item": lease.item_id, "label": "pos"}, format="json"
    )
    # Then 409, nothing stored
    assert response.status_code == 409
    assert response.json()["code"] == "item_full"
    assert not Annotation.objects.exists()
