"""Projects, members and guideline lists answer {count, next, previous, results} like every other list.

The page size is `?page_size=` up to 1000 (larger values are clamped, unparsable or non-positive ones fall
back to the default of 50, as DRF's PageNumberPagination does), and each list costs the same number of
queries whatever its length.
"""

import pytest
from django.contrib.auth import get_user_model

from annotation.models import Guideline, Membership, Project, Role
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db

# token auth, count, page
PROJECT_LIST_QUERIES = 3
# token auth, membership (with its project), count, page (users / authors joined in)
PROJECT_SCOPED_LIST_QUERIES = 4


def joined_projects(user, n: int) -> None:
    """n more projects the user is an annotator of, written in bulk (the list only reads these rows)."""
    projects = Project.objects.bulk_create(
        Project(name=f"bulk-{i:04d}", task_type="text_classification", created_by=user) for i in range(n)
    )
    Membership.objects.bulk_create(Membership(user=user, project=p, role=Role.ANNOTATOR) for p in projects)


def extra_members(project, n: int) -> None:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"member-{project.pk}-{i:04d}", password="!") for i in range(n)
    )
    Membership.objects.bulk_create(Membership(user=u, project=project, role=Role.ANNOTATOR) for u in users)


def extra_versions(project, n: int, body: str = "# rule") -> None:
    """Guideline versions 2..n+1 after the v1 project_create wrote."""
    author = project.created_by
    Guideline.objects.bulk_create(
        Guideline(project=project, version=v, body=body, change_note=f"v{v}", author=author)
        for v in range(2, n + 2)
    )


def assert_envelope(body: dict, *, count: int, n_results: int) -> None:
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == count
    assert len(body["results"]) == n_results


def test_project_list_is_paginated_and_post_still_answers_one_project(api):
    # Given a user who belongs to three projects
    user = UserFactory(project_creator=True)
    joined_projects(user, 3)
    client = api(user)
    # When they list with a page size of two, then ask for the next page
    first = client.get("/api/projects/?page_size=2").json()
    second = client.get(first["next"]).json()
    # Then both pages carry the envelope and together hold each project once, ordered by name
    assert_envelope(first, count=3, n_results=2)
    assert first["previous"] is None and "page=2" in first["next"]
    assert_envelope(second, count=3, n_results=1)
    assert second["next"] is None and second["previous"] is not None
    names = [row["name"] for row in first["results"] + second["results"]]
    assert names == ["bulk-0000", "bulk-0001", "bulk-0002"]
    assert set(first["results"][0]) == {"id", "name", "task_type", "multi_label", "role"}
    # And creating a project still answers the bare project
    created = client.post(
        "/api/projects/",
        {"name": "new", "task_type": "text_classification", "labels": [{"value": "a"}, {"value": "b"}]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["name"] == "new" and "results" not in created.json()


def test_member_list_is_paginated_and_post_still_answers_one_membership(api):
    # Given a project with its manager and four annotators
    project = make_project()
    for _ in range(4):
        add_member(project)
    client = api(project.created_by)
    # When the manager lists members two at a time
    body = client.get(f"/api/projects/{project.pk}/members/?page_size=2").json()
    # Then the envelope counts all five memberships and holds two
    assert_envelope(body, count=5, n_results=2)
    assert {"id", "user", "username", "role"} <= set(body["results"][0])
    # And adding a member still answers the bare membership
    added = client.post(
        f"/api/projects/{project.pk}/members/", {"user": UserFactory().pk, "role": "reviewer"}, format="json"
    )
    assert added.status_code == 201 and added.json()["role"] == "reviewer"
    assert client.get(f"/api/projects/{project.pk}/members/").json()["count"] == 6


def test_guideline_list_pages_long_bodies_newest_first(api):
    # Given a project with five guideline versions of 200,000 characters after v1
    project = make_project()
    long_body = "x" * 200_000
    extra_versions(project, 5, body=long_body)
    client = api(add_member(project))
    # When an annotator asks for two versions per page
    body = client.get(f"/api/projects/{project.pk}/guidelines/?page_size=2").json()
    # Then the page holds only the two newest versions, bodies whole, and counts all six
    assert_envelope(body, count=6, n_results=2)
    assert [row["version"] for row in body["results"]] == [6, 5]
    assert body["results"][0]["body"] == long_body
    assert body["results"][0]["author"] == project.created_by.username
    # And the last page holds v1
    last = client.get(f"/api/projects/{project.pk}/guidelines/?page_size=2&page=3").json()
    assert [row["version"] for row in last["results"]] == [2, 1] and last["next"] is None


def test_guideline_post_still_answers_one_version(api):
    # Given a project
    project = make_project()
    # When its manager publishes a version
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/guidelines/", {"body": "# v2", "change_note": "clarified"}, format="json"
    )
    # Then the answer is the bare new version
    assert response.status_code == 201
    assert response.json()["version"] == 2 and "results" not in response.json()


@pytest.mark.parametrize(("page_size", "expected"), [("1000", 1000), ("5000", 1000), ("7", 7)])
def test_page_size_is_honoured_up_to_1000(api, page_size, expected):
    # Given a project with 1,001 guideline versions
    project = make_project()
    extra_versions(project, 1000)
    # When a member asks for the given page size
    body = api(project.created_by).get(f"/api/projects/{project.pk}/guidelines/?page_size={page_size}").json()
    # Then the page holds that many, never more than 1,000
    assert_envelope(body, count=1001, n_results=expected)
    assert body["next"] is not None


@pytest.mark.parametrize("page_size", ["abc", "0", "-3", ""])
def test_bad_page_size_falls_back_to_the_default(api, page_size):
    # Given a user in 60 projects
    user = UserFactory()
    joined_projects(user, 60)
    # When they send a page size that is not a positive integer
    response = api(user).get(f"/api/projects/?page_size={page_size}")
    # Then the default page of 50 is served, as for the other lists
    assert response.status_code == 200
    assert_envelope(response.json(), count=60, n_results=50)


def test_page_past_the_end_is_404(api):
    # Given a project with one guideline version
    project = make_project()
    # When the second page is asked for
    response = api(project.created_by).get(f"/api/projects/{project.pk}/guidelines/?page=2")
    # Then 404 with a detail, as DRF's paginator answers
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("n_projects", [2, 120])
def test_project_list_query_count_does_not_grow_with_page_size(api, django_assert_num_queries, n_projects):
    # Given a user in n projects
    user = UserFactory()
    joined_projects(user, n_projects)
    client = api(user)
    client.get("/api/projects/")  # warm up: nothing lazily created inside the pinned block
    # When they list them all on one page
    with django_assert_num_queries(PROJECT_LIST_QUERIES):
        response = client.get(f"/api/projects/?page_size={n_projects}")
    # Then every project is there, at the same cost for 2 or 120
    assert len(response.json()["results"]) == n_projects


@pytest.mark.parametrize("n", [2, 120])
def test_member_and_guideline_lists_query_count_does_not_grow_with_page_size(
    api, django_assert_num_queries, n
):
    # Given a project with n extra members and n extra guideline versions
    project = make_project()
    extra_members(project, n)
    extra_versions(project, n)
    client = api(project.created_by)
    client.get(f"/api/projects/{project.pk}/")
    # When its manager lists both on one page
    with django_assert_num_queries(PROJECT_SCOPED_LIST_QUERIES):
        members = client.get(f"/api/projects/{project.pk}/members/?page_size=200")
    with django_assert_num_queries(PROJECT_SCOPED_LIST_QUERIES):
        guidelines = client.get(f"/api/projects/{project.pk}/guidelines/?page_size=200")
    # Then each page is complete, at the same cost for 2 or 120 rows
    assert len(members.json()["results"]) == n + 1
    assert len(guidelines.json()["results"]) == n + 1
