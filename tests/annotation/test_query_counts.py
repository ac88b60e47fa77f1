"""Query-count pins: the next-task, submit and item-list endpoints cost the same for 10 or 2,000 items."""

import uuid

import pytest

from annotation.models import Item
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db

# token auth, membership with the latest guideline version, current lease, savepoint, pick, re-count under the
# row lock, insert lease, mark item in progress, release savepoint
NEXT_QUERIES = 9
# token auth, membership with the latest guideline, label set, savepoint, lock item, client-id re-check with the
# previous annotation, own assignment, close assignment, insert annotation, bump item count, release savepoint
SUBMIT_QUERIES = 11
# token auth, membership, count, page
LIST_QUERIES = 4


def busy_project(n_items):
    """A project of n items where other annotators already hold leases and have labelled some items."""
    project = make_project(k=3)
    add_items(project, n_items)
    for _ in range(3):
        other = add_member(project)
        for _ in range(3):
            lease = assignment_next_for_annotator(project=project, user=other)
            annotation_submit(
                project=project, user=other, data=AnnotationInput(item_id=lease.item_id, labels=["pos"])
            )
        assignment_next_for_annotator(project=project, user=other)
    return project


@pytest.mark.parametrize("n_items", [10, 2000])
def test_next_query_count_does_not_grow_with_project_size(api, django_assert_num_queries, n_items):
    # Given a busy project and an annotator without a lease
    project = busy_project(n_items)
    client = api(add_member(project))
    client.get("/api/projects/")  # warm up: token row created outside the pinned block
    # When they ask for work
    with django_assert_num_queries(NEXT_QUERIES):
        response = client.get(f"/api/projects/{project.pk}/next/")
    # Then they get an item, at the same cost whatever the project size
    assert response.status_code == 200


@pytest.mark.parametrize("n_items", [10, 2000])
def test_submit_query_count_does_not_grow_with_project_size(api, django_assert_num_queries, n_items):
    # Given a busy project and an annotator holding a lease
    project = busy_project(n_items)
    annotator = add_member(project)
    client = api(annotator)
    lease = assignment_next_for_annotator(project=project, user=annotator)
    body = {"item": lease.item_id, "label": "neg", "client_id": str(uuid.uuid4())}
    # When they submit
    with django_assert_num_queries(SUBMIT_QUERIES):
        response = client.post(f"/api/projects/{project.pk}/annotations/", body, format="json")
    # Then it is stored, at the same cost whatever the project size
    assert response.status_code == 201


@pytest.mark.parametrize(("n_items", "page_size"), [(10, 10), (10, 200), (2000, 10), (2000, 200)])
def test_item_list_query_count_does_not_grow_with_size_or_page_size(
    api, django_assert_num_queries, n_items, page_size
):
    # Given a busy project and its manager
    project = busy_project(n_items)
    Item.objects.filter(project=project, external_id="t1").update(tags=["a"], issue_kinds=["x"])
    client = api(project.created_by)
    client.get("/api/projects/")
    # When the manager lists items
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(f"/api/projects/{project.pk}/items/?page_size={page_size}")
    # Then the page is full, at the same cost whatever the sizes
    assert response.status_code == 200
    assert response.json()["count"] == n_items
    assert len(response.json()["results"]) == min(n_items, page_size)
