"""Membership changes made in the Django admin move the queue as ``membership_set`` does: an annotator added there
reopens the items closed short for lack of annotators, and one removed or demoted there closes the items only
they could still have annotated."""

import pytest
from django.urls import reverse

from annotation.models import Item, ItemStatus, Membership, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def _label(project, user, label="pos"):
    lease = assignment_next_for_annotator(project=project, user=user)
    annotation_submit(project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=[label]))


def _status(item) -> str:
    return Item.objects.get(pk=item.pk).status


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _one_item(k: int = 2):
    project = make_project(k=k)
    add_items(project, 1)
    return project, Item.objects.get(project=project)


def test_an_annotator_added_in_the_admin_reopens_an_item_closed_short(staff_client):
    # Given k = 2 and one annotator, who labelled the only item: their empty queue closed it short
    project, item = _one_item()
    a = add_member(project)
    _label(project, a)
    assert assignment_next_for_annotator(project=project, user=a) is None
    assert _status(item) == ItemStatus.LABELLED
    # When staff add a second annotator through the admin's add form
    newcomer = UserFactory()
    response = staff_client.post(
        reverse("admin:annotation_membership_add"),
        {
            "user": newcomer.pk,
            "project": project.pk,
            "role": Role.ANNOTATOR,
            "acknowledged_guideline_version": 1,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Then the item is back in the queue and the newcomer is served it
    assert _status(item) == ItemStatus.IN_PROGRESS
    lease = assignment_next_for_annotator(project=project, user=newcomer)
    assert lease is not None and lease.item_id == item.pk


def test_an_annotator_demoted_in_the_admin_closes_the_items_only_they_could_take(staff_client):
    # Given k = 2, annotators a (labelled the item) and b (has not seen it): the item waits for b
    project, item = _one_item()
    a, b = add_member(project), add_member(project)
    _label(project, a)
    assert _status(item) == ItemStatus.IN_PROGRESS
    # When staff make b a reviewer on the admin's change form
    membership = Membership.objects.get(project=project, user=b)
    response = staff_client.post(
        reverse("admin:annotation_membership_change", args=[membership.pk]),
        {"user": b.pk, "project": project.pk, "role": Role.REVIEWER, "acknowledged_guideline_version": 1},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Then nobody is left to annotate it: it closes short with a's vote
    item = Item.objects.get(pk=item.pk)
    assert (item.status, item.annotation_count) == (ItemStatus.LABELLED, 1)


def test_an_annotator_removed_in_the_admin_closes_the_items_only_they_could_take(staff_client):
    project, item = _one_item()
    a, b = add_member(project), add_member(project)
    _label(project, a)
    membership = Membership.objects.get(project=project, user=b)
    # When staff delete b's membership on the admin's delete page
    response = staff_client.post(
        reverse("admin:annotation_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # Then the item closes short with a's vote
    assert _status(item) == ItemStatus.LABELLED


def test_annotators_removed_with_the_admins_bulk_delete_close_their_items(staff_client):
    project, item = _one_item(k=3)
    a, b, c = add_member(project), add_member(project), add_member(project)
    _label(project, a)
    ids = list(Membership.objects.filter(project=project, user__in=[b, c]).values_list("pk", flat=True))
    # When staff select b's and c's memberships and run "delete selected"
    response = staff_client.post(
        reverse("admin:annotation_membership_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    # Then the item closes short with a's vote
    assert _status(item) == ItemStatus.LABELLED
