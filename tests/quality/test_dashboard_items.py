"""The reviewer's items page every dashboard link leads to: filters agree with the items API, bad input is a
400 naming the field."""

import re

import pytest

from annotation.models import Item, Role
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def _count(html: str) -> int:
    match = re.search(r'data-count="(\d+)"', html)
    assert match, html[:500]
    return int(match.group(1))


@pytest.fixture
def project_with_items():
    project = make_project()
    add_items(project, 6, prefix="a", tags=["night"])
    add_items(project, 4, prefix="b", tags=["day"])
    items = list(Item.objects.filter(project=project).order_by("id"))
    Item.objects.filter(pk__in=[i.pk for i in items[:3]]).update(status="needs_review", is_label_issue=True,
                                                                 issue_kinds=["annotators_split"])
    Item.objects.filter(pk=items[3].pk).update(is_label_issue=True, issue_kinds=["near_duplicate_conflict"],
                                               consensus_label="pos")
    Item.objects.filter(pk__in=[i.pk for i in items[6:8]]).update(flags=["blurry"], final_label="neg")
    Item.objects.filter(pk=items[9].pk).update(status="discarded", flags=["blurry", "dark"])
    return project, items


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 10), ("status=needs_review", 3), ("status=needs_review,discarded", 4), ("tag=night", 6),
        ("tag=day", 4), ("flag=blurry", 3), ("flag=dark", 1), ("has_issue=true", 4), ("has_issue=false", 6),
        ("label=neg", 2), ("label=pos", 1), ("batch=1", 6), ("batch=2", 4), ("tag=night&status=needs_review", 3),
        ("issue_kind=near_duplicate_conflict", 1), ("issue_kind=annotators_split", 3),
    ],
)
def test_filters_match_the_items_api(client, api, project_with_items, query, expected):
    project, _ = project_with_items
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.pk}/items/?{query}")
    assert response.status_code == 200
    assert _count(response.content.decode()) == expected
    if "issue_kind" not in query:  # the API has no reason filter; everything else must agree with it
        assert api(reviewer).get(f"/api/projects/{project.pk}/items/?{query}").json()["count"] == expected


def test_items_page_paginates_and_links_items_to_their_review_page(client):
    project = make_project()
    add_items(project, 60)
    client.force_login(project.created_by)
    first = client.get(f"/projects/{project.pk}/items/?tag=&ordering=-id").content.decode()
    second = client.get(f"/projects/{project.pk}/items/?ordering=-id&page=2").content.decode()
    assert _count(first) == 60 and first.count("data-item=") == 50 and second.count("data-item=") == 10
    assert "page 1 of 2" in first and "ordering=-id&amp;page=2" in first
    newest = Item.objects.filter(project=project).order_by("-id").first()
    assert f'data-item="{newest.pk}"' in first and f'data-item="{newest.pk}"' not in second
    assert f'href="/projects/{project.pk}/review/items/{newest.pk}/"' in first


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=bogus", "status", "Unknown status bogus"),
        ("status=new,nope", "status", "Unknown status nope"),
        ("batch=abc", "batch", "Enter a whole number."),
        ("batch=0", "batch", "greater than or equal to 1"),
        ("has_issue=maybe", "has_issue", "Select a valid choice."),
        ("issue_kind=typo", "issue_kind", "Select a valid choice."),
        ("ordering=random", "ordering", "Select a valid choice."),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(client, project_with_items, query, field, message):
    project, _ = project_with_items
    client.force_login(project.created_by)
    response = client.get(f"/projects/{project.pk}/items/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}"' in html and message in html
    assert 'id="item-table"' not in html
