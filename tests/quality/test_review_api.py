"""REST for review: permission matrix, bad input with field-level 4xx, the item detail, bulk with confirmation,
the queue's query count."""

import pytest

from annotation.models import Item, ItemStatus, Role
from quality.models import LabelExample, ReviewDecision
from quality.review import services
from tests.factories import UserFactory
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db

VOTES = [["pos", "pos", "neg"], ["neg", "neutral", "neg"], ["pos", "neg", "neutral"]]


@pytest.fixture
def setup():
    project, items, annotators, reviewer = review_project(VOTES)
    manager = project.created_by
    example, _ = services.label_example_add(project=project, user=manager, item_id=items[1].pk, label="neg")
    return {
        "project": project,
        "items": items,
        "annotators": annotators,
        "reviewer": reviewer,
        "manager": manager,
        "example": example,
    }


def _endpoints(s):
    p, item = s["project"].pk, s["items"][0].pk
    return {
        "decide": (
            "post",
            f"/api/projects/{p}/reviews/",
            {"item": item, "action": "accept", "label": "pos"},
            201,
        ),
        "bulk": ("post", f"/api/projects/{p}/reviews/bulk/", {"items": [item], "action": "accept"}, 200),
        "queue": ("get", f"/api/projects/{p}/review-queue/", None, 200),
        "item": ("get", f"/api/projects/{p}/items/{item}/", None, 200),
        "changes": ("get", f"/api/projects/{p}/label-changes/", None, 200),
        "add": ("post", f"/api/projects/{p}/label-changes/add/", {"value": "borderline"}, 201),
        "rename": (
            "post",
            f"/api/projects/{p}/label-changes/rename/",
            {"label": "neutral", "to": "mixed"},
            201,
        ),
        "merge": (
            "post",
            f"/api/projects/{p}/label-changes/merge/",
            {"labels": ["neutral"], "into": "neg"},
            201,
        ),
        "example": ("post", f"/api/projects/{p}/label-examples/", {"item": item, "label": "pos"}, 201),
        "example-delete": ("delete", f"/api/projects/{p}/label-examples/{s['example'].pk}/", None, 204),
        "feedback": ("get", f"/api/projects/{p}/my-feedback/", None, 200),
    }


MANAGER_ONLY = {"add", "rename", "merge"}
ANNOTATOR_OK = {"feedback"}
ENDPOINTS = [
    "decide",
    "bulk",
    "queue",
    "item",
    "changes",
    "add",
    "rename",
    "merge",
    "example",
    "example-delete",
    "feedback",
]


def _expected(role: str, name: str, success: int) -> int:
    if role == "anonymous":
        return 401
    if role == "outsider":
        return 404
    if role == "annotator":
        return success if name in ANNOTATOR_OK else 403
    if role == "reviewer":
        return 403 if name in MANAGER_ONLY else success
    return success


@pytest.mark.parametrize("name", ENDPOINTS)
@pytest.mark.parametrize("role", ["anonymous", "outsider", "annotator", "reviewer", "manager"])
def test_permission_matrix(api, setup, role, name):
    # Given a caller with one of the roles (or none)
    user = {
        "anonymous": None,
        "outsider": UserFactory(),
        "annotator": setup["annotators"][0],
        "reviewer": setup["reviewer"],
        "manager": setup["manager"],
    }[role]
    method, url, body, success = _endpoints(setup)[name]
    # When they call the endpoint
    client = api(user)
    response = (
        getattr(client, method)(url, body, format="json")
        if body is not None
        else getattr(client, method)(url)
    )
    # Then they get what their role allows
    assert response.status_code == _expected(role, name, success), (role, name, response.content[:300])


def _post(api, user, url, body):
    return api(user).post(url, body, format="json")


def test_discard_without_reason_is_400_with_a_field_message(api, setup):
    p, item = setup["project"].pk, setup["items"][0].pk
    response = _post(
        api, setup["reviewer"], f"/api/projects/{p}/reviews/", {"item": item, "action": "discard"}
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert "needs a reason" in response.json()["reason"][0]
    assert not ReviewDecision.objects.exists()


def test_accepting_a_label_not_in_the_schema_is_400(api, setup):
    p, item = setup["project"].pk, setup["items"][0].pk
    response = _post(
        api,
        setup["reviewer"],
        f"/api/projects/{p}/reviews/",
        {"item": item, "action": "accept", "label": "cat"},
    )
    assert response.status_code == 400 and "Unknown label 'cat'" in response.json()["label"][0]


def test_a_decision_on_an_item_of_another_project_is_404(api, setup):
    _, other_items, _, _ = review_project(VOTES, name="Other")
    response = _post(
        api,
        setup["reviewer"],
        f"/api/projects/{setup['project'].pk}/reviews/",
        {"item": other_items[0].pk, "action": "accept", "label": "pos"},
    )
    assert response.status_code == 404 and "item" in response.json()
    assert Item.objects.get(pk=other_items[0].pk).status == ItemStatus.NEEDS_REVIEW
    detail = api(setup["reviewer"]).get(f"/api/projects/{setup['project'].pk}/items/{other_items[0].pk}/")
    assert detail.status_code == 404


def test_bad_action_and_malformed_bodies_are_field_errors(api, setup):
    url = f"/api/projects/{setup['project'].pk}/reviews/"
    response = _post(api, setup["reviewer"], url, {"item": setup["items"][0].pk, "action": "approve"})
    assert response.status_code == 400 and "action" in response.json()
    response = _post(api, setup["reviewer"], url, {"action": "accept"})
    assert response.status_code == 400 and "item" in response.json()
    response = _post(api, setup["reviewer"], url, {"item": "x", "action": "accept"})
    assert response.status_code == 400 and "item" in response.json()


def test_label_change_bad_input_is_400(api, setup):
    p = setup["project"].pk
    manager = setup["manager"]
    response = _post(
        api, manager, f"/api/projects/{p}/label-changes/merge/", {"labels": ["pos"], "into": "pos"}
    )
    assert response.status_code == 400 and "itself" in response.json()["into"][0]
    response = _post(
        api, manager, f"/api/projects/{p}/label-changes/merge/", {"labels": ["pos"], "into": "missing"}
    )
    assert response.status_code == 400 and "into" in response.json()
    response = _post(api, manager, f"/api/projects/{p}/label-changes/merge/", {"labels": [], "into": "neg"})
    assert response.status_code == 400 and "labels" in response.json()
    response = _post(api, manager, f"/api/projects/{p}/label-changes/add/", {"value": "pos"})
    assert response.status_code == 400 and "value" in response.json()
    response = _post(api, manager, f"/api/projects/{p}/label-changes/rename/", {"label": "pos", "to": ""})
    assert response.status_code == 400 and "to" in response.json()


def test_review_queue_filters_and_rejects_an_unknown_reason(api, setup):
    p = setup["project"].pk
    Item.objects.filter(pk=setup["items"][2].pk).update(issue_kinds=["gold_mismatch"], issue_severity=0.9)
    body = api(setup["reviewer"]).get(f"/api/projects/{p}/review-queue/").json()
    assert body["count"] == 3 and [row["id"] for row in body["results"]][0] == setup["items"][2].pk
    first = body["results"][0]
    assert first["reasons"] == ["gold_mismatch"] and first["severity"] == 0.9
    assert first["votes"] == [
        {"label": "neg", "votes": 1},
        {"label": "neutral", "votes": 1},
        {"label": "pos", "votes": 1},
    ]
    body = api(setup["reviewer"]).get(f"/api/projects/{p}/review-queue/?reason=gold_mismatch").json()
    assert [row["id"] for row in body["results"]] == [setup["items"][2].pk]
    response = api(setup["reviewer"]).get(f"/api/projects/{p}/review-queue/?reason=bored")
    assert response.status_code == 400 and "reason" in response.json()


@pytest.mark.parametrize("n_items", [3, 12])
def test_review_queue_query_count_does_not_grow_with_the_page(api, django_assert_num_queries, n_items):
    project, _, _, reviewer = review_project([["pos", "neg"]] * n_items)
    client = api(reviewer)
    client.get(f"/api/projects/{project.pk}/review-queue/")  # warm the token/session caches
    # auth token, membership, count, page, prefetch of the page's live votes, the label mapping
    with django_assert_num_queries(6):
        response = client.get(f"/api/projects/{project.pk}/review-queue/")
    assert response.json()["count"] == n_items


def test_item_detail_shows_annotations_decisions_quality_and_history(api, setup):
    project, item, reviewer = setup["project"], setup["items"][0], setup["reviewer"]
    services.review_decide(
        project=project, reviewer=reviewer, item_id=item.pk, action="relabel", reason="unclear"
    )
    body = api(reviewer).get(f"/api/projects/{project.pk}/items/{item.pk}/").json()
    assert body["item"]["status"] == "in_progress" and body["item"]["annotation_count"] == 0
    assert [a["labels"] for a in body["annotations"]] == [["pos"], ["pos"], ["neg"]]
    assert all(not a["is_live"] and a["guideline_version"] == 1 for a in body["annotations"])
    assert {a["username"] for a in body["annotations"]} == {u.username for u in setup["annotators"]}
    assert [d["action"] for d in body["decisions"]] == ["relabel"] and body["decisions"][0][
        "reason"
    ] == "unclear"
    assert [e["kind"] for e in body["history"]] == ["annotation"] * 3 + ["decision"]
    assert "no longer counts (relabelled)" in body["history"][0]["summary"]
    assert body["quality"] is None  # no quality run yet


def test_bulk_previews_then_applies_on_confirmation(api, setup):
    p = setup["project"].pk
    url = f"/api/projects/{p}/reviews/bulk/"
    preview = _post(
        api, setup["reviewer"], url, {"filter": {"label": "neg"}, "action": "discard", "reason": "dup"}
    )
    assert preview.status_code == 200 and preview.json()["confirmed"] is False
    # items 1 (neg, neutral, neg) and 2 (a three-way tie the helper resolves to neg) match; same severity → id order
    assert preview.json()["items"] == [setup["items"][1].pk, setup["items"][2].pk]
    assert not ReviewDecision.objects.exists()
    applied = _post(
        api,
        setup["reviewer"],
        url,
        {"filter": {"label": "neg"}, "action": "discard", "reason": "dup", "confirm": True},
    )
    assert applied.status_code == 201 and len(applied.json()["decisions"]) == 2
    statuses = dict(Item.objects.filter(project=setup["project"]).values_list("external_id", "status"))
    assert statuses == {"t0": ItemStatus.NEEDS_REVIEW, "t1": ItemStatus.DISCARDED, "t2": ItemStatus.DISCARDED}
    both = _post(api, setup["reviewer"], url, {"items": [1], "filter": {}, "action": "accept"})
    assert both.status_code == 400 and "items" in both.json()
    no_reason = _post(
        api, setup["reviewer"], url, {"items": [setup["items"][0].pk], "action": "discard", "confirm": True}
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()


def test_label_examples_endpoint_is_idempotent_and_refuses_open_items(api, setup):
    p, item = setup["project"].pk, setup["items"][0]
    url = f"/api/projects/{p}/label-examples/"
    assert _post(api, setup["reviewer"], url, {"item": item.pk, "label": "pos"}).status_code == 201
    assert _post(api, setup["reviewer"], url, {"item": item.pk, "label": "pos"}).status_code == 200
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.IN_PROGRESS)
    response = _post(api, setup["reviewer"], url, {"item": item.pk, "label": "neg"})
    assert response.status_code == 400 and "item" in response.json()
    assert LabelExample.objects.filter(item=item).count() == 1


def test_feedback_shows_only_the_callers_disagreements_on_accepted_items(api, setup):
    # Given item 0 (a0 pos, a1 pos, a2 neg) accepted as pos and item 2 (a0 pos, a1 neg, a2 neutral) still open
    project, items, annotators = setup["project"], setup["items"], setup["annotators"]
    services.review_decide(
        project=project,
        reviewer=setup["reviewer"],
        item_id=items[0].pk,
        action="accept",
        label="pos",
        reason="praise",
    )
    # When annotator a2 asks for feedback
    body = api(annotators[2]).get(f"/api/projects/{project.pk}/my-feedback/").json()
    # Then it lists the one accepted item where a2 differs, with the final label and the reviewer's note only
    assert (body["n_reviewed"], body["n_disagreed"]) == (1, 1)
    assert body["disagreements"] == [
        {
            "item": items[0].pk,
            "external_id": "t0",
            "text": "text number 0",
            "media_url": None,
            "yours": "neg",
            "final": "pos",
            "reason": "praise",
            "annotated_at": body["disagreements"][0]["annotated_at"],
        }
    ]
    # and a0, who agreed, sees no disagreement and nothing about the open item 2
    body = api(annotators[0]).get(f"/api/projects/{project.pk}/my-feedback/").json()
    assert (body["n_reviewed"], body["n_disagreed"], body["disagreements"]) == (1, 0, [])
    assert body["agreement_after_review"] == 1.0


def test_reviewer_role_is_required_for_item_detail_even_for_the_annotator_of_it(api, setup):
    response = api(setup["annotators"][0]).get(
        f"/api/projects/{setup['project'].pk}/items/{setup['items'][0].pk}/"
    )
    assert response.status_code == 403
    assert Role.REVIEWER in response.json()["detail"]
