"""A relabel only where someone can take it: the queue never serves an item twice to one annotator, so a relabel on
an item every eligible annotator has been served is refused (one item: 409 with a field message; bulk: the rest
are relabelled and the refused ones are reported per item), and the review pages say so before the click."""

import pytest

from annotation.models import Annotation, Item, ItemStatus, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.projects import membership_set
from annotation.services.queue import assignment_next_for_annotator
from quality.models import ReviewDecision
from quality.review import services
from tests.factories import UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db

# The reviewer's words, written out here rather than imported from the code under test.
NOBODY_LEFT = (
    "Every annotator of this project has already labelled this item; add an annotator or decide it yourself."
)


def label_everything(project, user, label="pos"):
    """The annotator asks ``next`` and labels what it serves until it answers nothing."""
    while (lease := assignment_next_for_annotator(project=project, user=user)) is not None:
        annotation_submit(
            project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=[label])
        )


def both_seen_by_everyone():
    """k = 2, two items, annotators a and b label both through the queue; both items routed to review.
    Returns (project, {external_id: item}, reviewer)."""
    project = make_project(k=2)
    add_items(project, 2)
    a, b = add_member(project), add_member(project)
    label_everything(project, a, "pos")
    label_everything(project, b, "neg")
    Item.objects.filter(project=project).update(status=ItemStatus.NEEDS_REVIEW)
    reviewer = add_member(project, Role.REVIEWER)
    items = {item.external_id: item for item in Item.objects.filter(project=project)}
    return project, items, reviewer


def _fresh(item) -> Item:
    return Item.objects.get(pk=item.pk)


def test_relabel_of_an_item_every_annotator_labelled_is_409_and_changes_nothing(api):
    # Given both annotators of a k=2 project labelled t0 (the reviewer, a member too, is not an annotator)
    project, items, reviewer = both_seen_by_everyone()
    # When the reviewer asks for a relabel through the API
    response = api(reviewer).post(
        f"/api/projects/{project.pk}/reviews/", {"item": items["t0"].pk, "action": "relabel"}, format="json"
    )
    # Then it is refused as a conflict, in the reviewer's words, on the action field
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["action"] == [NOBODY_LEFT] and body["code"] == "no_annotator_left"
    assert body["annotators_left"] == 0
    # and nothing changed: no decision, the item still needs review with its two live votes
    assert not ReviewDecision.objects.exists()
    item = _fresh(items["t0"])
    assert (item.status, item.annotation_count) == (ItemStatus.NEEDS_REVIEW, 2)
    assert Annotation.objects.filter(item=item, is_live=True).count() == 2


def test_relabel_goes_through_once_a_new_annotator_joins(api):
    # Given the same project, and a third annotator added as a member
    project, items, reviewer = both_seen_by_everyone()
    newcomer = UserFactory()
    membership_set(project=project, user_id=newcomer.pk, role=Role.ANNOTATOR)
    # When the reviewer asks for a relabel
    response = api(reviewer).post(
        f"/api/projects/{project.pk}/reviews/", {"item": items["t0"].pk, "action": "relabel"}, format="json"
    )
    # Then it is stored, the item is back in the queue and the newcomer is served it
    assert response.status_code == 201, response.content
    assert _fresh(items["t0"]).status == ItemStatus.IN_PROGRESS
    lease = assignment_next_for_annotator(project=project, user=newcomer)
    assert lease is not None and lease.item_id == items["t0"].pk


def _one_refusable_one_not(project, items, reviewer):
    """A newcomer joins and labels t0 after a relabel: t0 has then been served to all three annotators, t1 only
    to the first two."""
    newcomer = UserFactory()
    membership_set(project=project, user_id=newcomer.pk, role=Role.ANNOTATOR)
    services.review_decide(project=project, reviewer=reviewer, item_id=items["t0"].pk, action="relabel")
    label_everything(project, newcomer, "neutral")
    Item.objects.filter(project=project).update(status=ItemStatus.NEEDS_REVIEW)


def test_bulk_relabel_relabels_who_can_be_served_and_reports_the_refused_item(api):
    project, items, reviewer = both_seen_by_everyone()
    _one_refusable_one_not(project, items, reviewer)
    t0, t1 = items["t0"], items["t1"]
    url = f"/api/projects/{project.pk}/reviews/bulk/"
    body = {"items": [t0.pk, t1.pk], "action": "relabel", "reason": "again"}
    refused = [{"item": t0.pk, "external_id": "t0", "reason": NOBODY_LEFT}]
    # When the reviewer previews a bulk relabel of both
    preview = api(reviewer).post(url, body, format="json")
    # Then the preview names t0 as refused
    assert preview.status_code == 200 and preview.json()["refused"] == refused
    # When they confirm
    done = api(reviewer).post(url, {**body, "confirm": True}, format="json")
    # Then t1 alone is relabelled and t0 is reported refused, untouched with its newcomer's vote
    assert done.status_code == 201, done.content
    assert done.json()["refused"] == refused and len(done.json()["decisions"]) == 1
    bulk = ReviewDecision.objects.filter(bulk_id__isnull=False)
    assert list(bulk.values_list("item_id", "action")) == [(t1.pk, "relabel")]
    assert _fresh(t1).status == ItemStatus.IN_PROGRESS
    assert (_fresh(t0).status, _fresh(t0).annotation_count) == (ItemStatus.NEEDS_REVIEW, 1)


def test_bulk_relabel_with_nobody_left_for_any_item_is_409_listing_them(api):
    project, items, reviewer = both_seen_by_everyone()
    response = api(reviewer).post(
        f"/api/projects/{project.pk}/reviews/bulk/",
        {"items": [items["t0"].pk, items["t1"].pk], "action": "relabel", "confirm": True},
        format="json",
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "no_annotator_left" and "items" in body
    assert [row["external_id"] for row in body["refused"]] == ["t0", "t1"]
    assert not ReviewDecision.objects.exists()


def test_review_page_disables_relabel_and_says_why_when_nobody_is_left(client):
    project, items, reviewer = both_seen_by_everyone()
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/review/items/{items['t0'].pk}/").content.decode()
    assert 'id="relabel-btn" data-takers="0" disabled' in html
    assert NOBODY_LEFT in html
    # Once a new annotator joins, the button is live and the page counts who can still take the item
    membership_set(project=project, user_id=UserFactory().pk, role=Role.ANNOTATOR)
    html = client.get(f"/projects/{project.pk}/review/items/{items['t0'].pk}/").content.decode()
    assert 'id="relabel-btn" data-takers="1">' in html
    assert '<span id="relabel-takers">1</span> annotator of this project can still take this item' in html


def test_bulk_page_leaves_out_and_names_the_items_nobody_can_take(client):
    project, items, reviewer = both_seen_by_everyone()
    _one_refusable_one_not(project, items, reviewer)
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/review/bulk/?action=relabel").content.decode()
    assert "Confirm: relabel 1 item<" in html
    assert 'id="bulk-refused"' in html and "1 item not relabelled" in html and ": t0." in html
    assert f'name="items" value="{items["t1"].pk}"' in html
