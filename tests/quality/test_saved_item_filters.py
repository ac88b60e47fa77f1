"""Saved filters of the items browser through the API: reviewers and managers save, list and delete them; a bad
name or query is refused with the field and the reason in words."""

import pytest

from annotation.models import Role
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db


def test_a_reviewer_saves_lists_and_deletes_a_filter(api):
    # Given a project and one of its reviewers
    project = make_project()
    reviewer = add_member(project, Role.REVIEWER)
    client = api(reviewer)
    url = f"/api/projects/{project.pk}/item-filters/"
    # When they save the browser's query (a page number and an unknown parameter in it)
    response = client.post(
        url, {"name": " Flagged pos ", "query": "has_issue=true&label=pos&page=3&colour=red"}, format="json"
    )
    # Then it is stored trimmed, with only the filters kept, in the browser's order
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["query"], body["created_by"]) == (
        "Flagged pos",
        "label=pos&has_issue=true",
        reviewer.username,
    )
    # And the project's managers see it in the list
    listed = api(project.created_by).get(url).json()
    assert [(row["name"], row["query"]) for row in listed] == [("Flagged pos", "label=pos&has_issue=true")]
    # When its author deletes it, then it is gone
    assert client.delete(f"{url}{body['id']}/").status_code == 204
    assert client.get(url).json() == []


def test_bad_names_and_queries_are_refused_in_words(api):
    project = make_project()
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/item-filters/"
    client.post(url, {"name": "Mine", "query": "status=new"}, format="json")

    def refused(name, query):
        response = client.post(url, {"name": name, "query": query}, format="json")
        assert response.status_code == 400, response.content
        return response.json()

    assert refused("  ", "status=new")["name"] == ["Give the filter a name."]
    assert refused("mine", "status=new")["name"] == ["This project already has a saved filter named 'mine'."]
    assert refused("x" * 81, "status=new")["name"] == ["A name has at most 80 characters; this one has 81."]
    assert refused("Dates", "imported=2026-13-40")["query"] == [
        "Imported: '2026-13-40' is not a day or days: use 2026-11-03, 2026-11-02..2026-11-08 or ..2026-11-03 "
        "(both days included)."
    ]
    assert refused("Empty", "page=2")["query"] == ["Set at least one filter or a search before saving."]


def test_only_the_author_or_a_manager_deletes_and_annotators_see_none(api):
    project = make_project()
    author, other = add_member(project, Role.REVIEWER), add_member(project, Role.REVIEWER)
    url = f"/api/projects/{project.pk}/item-filters/"
    saved = api(author).post(url, {"name": "Mine", "query": "q=cat"}, format="json").json()
    # A fellow reviewer may not delete it; an annotator and an outsider are refused the list (403, 404)
    assert api(other).delete(f"{url}{saved['id']}/").status_code == 403
    assert api(add_member(project, Role.ANNOTATOR)).get(url).status_code == 403
    assert api(UserFactory()).get(url).status_code == 404
    # The manager may delete it
    assert api(project.created_by).delete(f"{url}{saved['id']}/").status_code == 204
