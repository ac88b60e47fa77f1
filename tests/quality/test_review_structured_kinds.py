"""Review of span and box items through the REST contract and the HTML pages, with the real worker: a quality run
gives the items their consensus parts, Accept stores them (without their confidences) as the final label, a
reviewer's own spans or boxes are checked against the item, discard and relabel work, bulk accept of unanimous
items, the queue, item detail and pages render, and a freeze takes the accepted items."""

from __future__ import annotations

import pytest
from django.test import Client

from annotation.models import Item, ItemStatus, Membership, Role
from core.models import JobStatus
from datasets.models import DatasetEntry
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import add_member, make_project
from tests.kinds.box_fixtures import box_project_create, png_b64

pytestmark = [pytest.mark.worker]


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


TEXTS = ["Ann lives in Oslo", "Bob went to Rome", "Carl met Dora", "Eve and Finn", "Gus in Hull"]
# Three annotators agree on texts 0, 1 and 3; on text 2 the third calls Dora a place.
SPAN_ANSWERS = [
    [[_s(0, 3, "PER"), _s(13, 17, "LOC")]] * 3,
    [[_s(0, 3, "PER"), _s(12, 16, "LOC")]] * 3,
    [[_s(0, 4, "PER"), _s(9, 13, "PER")]] * 2 + [[_s(0, 4, "PER"), _s(9, 13, "LOC")]],
    [[_s(0, 3, "PER"), _s(8, 12, "PER")]] * 3,
    [[_s(0, 3, "PER"), _s(7, 11, "LOC")]] * 3,
]


def _quality_run(api, worker, user, pid):
    response = api(user).post(f"/api/projects/{pid}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error


def _freeze(api, worker, user, pid) -> set[int]:
    response = api(user).post(f"/api/projects/{pid}/dataset-versions/", {"seed": 1}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return dict(DatasetEntry.objects.filter(version_id=job.result["version"]).values_list("item_id", "label"))


def _pages_render(reviewer, pid, item, snippets):
    """The queue, item, history and bulk-confirmation pages answer 200; the item page shows ``snippets``."""
    client = Client()
    client.force_login(reviewer)
    assert client.get(f"/projects/{pid}/review/").status_code == 200
    page = client.get(f"/projects/{pid}/review/items/{item.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for snippet in snippets:
        assert snippet in html, snippet
    assert client.get(f"/projects/{pid}/items/{item.pk}/history/").status_code == 200
    bulk = client.get(f"/projects/{pid}/review/bulk/?action=accept")
    assert bulk.status_code == 200
    assert "{&#x27;" not in bulk.content.decode()  # consensus parts in words, not as Python dicts


def test_span_items_are_reviewed_accepted_edited_discarded_and_frozen(worker, api):
    # Given a span project whose four texts three annotators labelled, and a quality run by the real worker
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    pid = project.pk
    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    )
    assert not result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    for item, answers in zip(items, SPAN_ANSWERS, strict=True):
        for user, spans in zip(annotators, answers, strict=True):
            response = api(user).post(
                f"/api/projects/{pid}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER)
    _quality_run(api, worker, reviewer, pid)
    client = api(reviewer)

    # The review pages and APIs render span items: the disputed one shows its majority consensus, the third
    # annotator's LOC span and the votes (each annotation counts once per label it names)
    _pages_render(
        reviewer,
        pid,
        items[2],
        [
            "Carl met Dora",
            'id="consensus-label">PER (start 0, end 4, confidence',
            "PER (start 0, end 4); LOC (start 9, end 13)</td>",
            "PER&nbsp;×3 · LOC&nbsp;×1",
        ],
    )
    queue = client.get(f"/api/projects/{pid}/review-queue/")
    assert queue.status_code == 200, queue.content
    disputed = next(row for row in queue.json()["results"] if row["id"] == items[2].pk)
    # Each annotation counts once for every label it names: all three name PER, one names LOC.
    assert disputed["votes"] == [{"label": "PER", "votes": 3}, {"label": "LOC", "votes": 1}]
    detail = client.get(f"/api/projects/{pid}/items/{items[2].pk}/")
    assert detail.status_code == 200, detail.content
    assert [a["spans"] for a in detail.json()["annotations"]] == SPAN_ANSWERS[2]

    # When item 0 is accepted with its consensus
    response = client.post(
        f"/api/projects/{pid}/reviews/", {"item": items[0].pk, "action": "accept"}, format="json"
    )
    # Then the consensus spans, without their confidences, are its final label and it is accepted
    assert response.status_code == 201, response.json()
    assert response.json()["final_label"] == [_s(0, 3, "PER"), _s(13, 17, "LOC")]
    item = Item.objects.get(pk=items[0].pk)
    assert (item.status, item.final_label) == (ItemStatus.ACCEPTED, [_s(0, 3, "PER"), _s(13, 17, "LOC")])

    # When the reviewer sends their own spans for the disputed item (out of order)
    own = [_s(9, 13, "LOC"), _s(0, 4, "PER")]
    response = client.post(
        f"/api/projects/{pid}/reviews/",
        {"item": items[2].pk, "action": "accept", "spans": own},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=items[2].pk).final_label == [_s(0, 4, "PER"), _s(9, 13, "LOC")]

    # And spans past the text's end, an unknown label, a class name as label, spans with a relabel: field errors
    for body, field, words in [
        ({"action": "accept", "spans": [_s(12, 17, "LOC")]}, "spans", "past the end of the text (16"),
        ({"action": "accept", "spans": [_s(0, 4, "ORG")]}, "spans", "unknown label 'ORG'"),
        ({"action": "accept", "label": "PER"}, "label", "send the final answer as spans"),
        ({"action": "relabel", "spans": own}, "spans", "Only accept takes spans"),
    ]:
        response = client.post(f"/api/projects/{pid}/reviews/", {"item": items[1].pk, **body}, format="json")
        assert response.status_code == 400, response.json()
        assert words in response.json()[field][0], response.json()
    assert Item.objects.get(pk=items[1].pk).final_label is None

    # When the unanimous text 1 is bulk-accepted and text 3 discarded
    response = client.post(
        f"/api/projects/{pid}/reviews/bulk/",
        {"items": [items[1].pk], "action": "accept", "confirm": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=items[1].pk).final_label == [_s(0, 3, "PER"), _s(12, 16, "LOC")]
    response = client.post(
        f"/api/projects/{pid}/reviews/",
        {"item": items[3].pk, "action": "discard", "reason": "out of scope"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=items[3].pk).status == ItemStatus.DISCARDED

    # When a new annotator joins and text 4 is sent back for relabelling
    add_member(project)
    response = client.post(
        f"/api/projects/{pid}/reviews/", {"item": items[4].pk, "action": "relabel"}, format="json"
    )
    # Then it is open again with no final label
    assert response.status_code == 201, response.json()
    item = Item.objects.get(pk=items[4].pk)
    assert (item.status, item.final_label) == (ItemStatus.IN_PROGRESS, None)

    # And the first annotator's feedback counts the three accepted texts, disagreeing on Dora's label only
    feedback = api(annotators[0]).get(f"/api/projects/{pid}/my-feedback/")
    assert feedback.status_code == 200, feedback.content
    assert (feedback.json()["n_reviewed"], feedback.json()["n_disagreed"]) == (3, 1)
    assert feedback.json()["disagreements"][0]["item"] == items[2].pk
    page = Client()
    page.force_login(annotators[0])
    assert page.get(f"/projects/{pid}/my-feedback/").status_code == 200

    # And the accepted item's page shows its final spans
    _pages_render(
        reviewer, pid, items[2], ['id="final-label">PER (start 0, end 4); LOC (start 9, end 13)</strong>']
    )

    # When the project is frozen, the accepted items are in it with their final spans, the discarded one is not
    entries = _freeze(api, worker, _manager_of(project), pid)
    assert entries[items[0].pk] == [_s(0, 3, "PER"), _s(13, 17, "LOC")]
    assert entries[items[1].pk] == [_s(0, 3, "PER"), _s(12, 16, "LOC")]
    assert entries[items[2].pk] == [_s(0, 4, "PER"), _s(9, 13, "LOC")]
    assert items[3].pk not in entries and items[4].pk not in entries


def _manager_of(project):
    return Membership.objects.filter(project=project, role=Role.MANAGER).order_by("id").first().user


WIDTH, HEIGHT = 400, 300
IGUANA = {"x": 10, "y": 10, "w": 100, "h": 100, "label": "iguana"}
ROCK = {"x": 200, "y": 150, "w": 50, "h": 50, "label": "rock"}


def test_box_items_are_reviewed_accepted_edited_discarded_and_frozen(worker, api):
    # Given a box project of four images three annotators boxed (on image 2 one of them adds a rock)
    box_project = box_project_create(api, images=[png_b64(WIDTH, HEIGHT) for _ in range(4)])
    pid, manager, items = box_project.pid, box_project.manager, box_project.items
    project = items[0].project
    annotators = [add_member(project) for _ in range(3)]
    for i, item in enumerate(items):
        for n, user in enumerate(annotators):
            boxes = [IGUANA, ROCK] if (i == 2 and n == 2) else [IGUANA]
            response = api(user).post(
                f"/api/projects/{pid}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
            )
            assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER)
    _quality_run(api, worker, reviewer, pid)
    client = api(reviewer)
    assert Item.objects.get(pk=items[0].pk).consensus_label[0]["confidence"] == 1.0

    # The review pages and APIs render box items: the consensus iguana, the third annotator's rock, the votes
    _pages_render(
        reviewer,
        pid,
        items[2],
        [
            'id="consensus-label">iguana 100×100 at (10, 10), confidence',
            "iguana 100×100 at (10, 10); rock 50×50 at (200, 150)</td>",
            "iguana&nbsp;×3 · rock&nbsp;×1",
        ],
    )
    assert client.get(f"/api/projects/{pid}/review-queue/").status_code == 200
    detail = client.get(f"/api/projects/{pid}/items/{items[2].pk}/")
    assert detail.status_code == 200, detail.content
    assert [a["boxes"] for a in detail.json()["annotations"]] == [[IGUANA], [IGUANA], [IGUANA, ROCK]]

    # When image 0 is accepted with its consensus: the fused box without its confidence is the final label
    response = client.post(
        f"/api/projects/{pid}/reviews/", {"item": items[0].pk, "action": "accept"}, format="json"
    )
    assert response.status_code == 201, response.json()
    item = Item.objects.get(pk=items[0].pk)
    assert (item.status, item.final_label) == (ItemStatus.ACCEPTED, [IGUANA])

    # When the reviewer accepts image 2 with their own boxes
    response = client.post(
        f"/api/projects/{pid}/reviews/",
        {"item": items[2].pk, "action": "accept", "boxes": [ROCK, IGUANA]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=items[2].pk).final_label == [IGUANA, ROCK]

    # And a box outside the image, a class name as label, boxes with a relabel: field errors, nothing stored
    outside = {"x": 350, "y": 10, "w": 100, "h": 10, "label": "rock"}
    for body, field, words in [
        ({"action": "accept", "boxes": [outside]}, "boxes", "outside the image"),
        ({"action": "accept", "label": "iguana"}, "label", "send the final answer as boxes"),
        ({"action": "relabel", "boxes": [IGUANA]}, "boxes", "Only accept takes boxes"),
    ]:
        response = client.post(f"/api/projects/{pid}/reviews/", {"item": items[1].pk, **body}, format="json")
        assert response.status_code == 400, response.json()
        assert words in response.json()[field][0], response.json()
    assert Item.objects.get(pk=items[1].pk).final_label is None

    # When image 1 is bulk-accepted and image 3 discarded
    response = client.post(
        f"/api/projects/{pid}/reviews/bulk/",
        {"items": [items[1].pk], "action": "accept", "confirm": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Item.objects.get(pk=items[1].pk).final_label == [IGUANA]
    response = client.post(
        f"/api/projects/{pid}/reviews/",
        {"item": items[3].pk, "action": "discard", "reason": "duplicate"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    _pages_render(
        reviewer,
        pid,
        items[2],
        ['id="final-label">iguana 100×100 at (10, 10); rock 50×50 at (200, 150)</strong>'],
    )

    # Then a freeze takes the accepted images with their final boxes, not the discarded one
    entries = _freeze(api, worker, manager, pid)
    assert entries[items[0].pk] == [IGUANA]
    assert entries[items[1].pk] == [IGUANA]
    assert entries[items[2].pk] == [IGUANA, ROCK]
    assert items[3].pk not in entries
