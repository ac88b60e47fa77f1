"""Guideline versions: annotators acknowledge a new version before their next item; markdown renders safely."""

import pytest

from annotation.models import Assignment, Membership
from annotation.rendering import markdown_to_safe_html
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project(k=3)
    add_items(project, 3)
    return project


def publish(api, project, body="# v2\nSarcasm counts as **neg**.", note="sarcasm rule"):
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/guidelines/", {"body": body, "change_note": note}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["version"]


def test_new_guideline_version_blocks_next_until_acknowledged(project, api):
    # Given an annotator who acknowledged v1, and a manager who then publishes v2
    annotator = add_member(project)
    client = api(annotator)
    version = publish(api, project)
    # When the annotator asks for work
    blocked = client.get(f"/api/projects/{project.pk}/next/")
    # Then 409 with the code, the new version and its change note, and no lease is taken
    assert version == 2
    assert blocked.status_code == 409
    body = blocked.json()
    assert body["code"] == "guideline_ack_required"
    assert body["guideline_version"] == 2
    assert "sarcasm rule" in body["detail"]
    assert not Assignment.objects.filter(annotator=annotator).exists()
    # And after acknowledging the current version, work is served
    ack = client.post(f"/api/projects/{project.pk}/guidelines/acknowledge/", {"version": 2}, format="json")
    assert ack.status_code == 200 and ack.json() == {"version": 2}
    assert Membership.objects.get(user=annotator, project=project).acknowledged_guideline_version == 2
    assert client.get(f"/api/projects/{project.pk}/next/").status_code == 200


def test_acknowledging_a_stale_version_is_409_and_keeps_next_blocked(project, api):
    # Given v3 is current
    annotator = add_member(project)
    client = api(annotator)
    publish(api, project)
    publish(api, project, note="another change")
    # When the annotator acknowledges v2
    response = client.post(
        f"/api/projects/{project.pk}/guidelines/acknowledge/", {"version": 2}, format="json"
    )
    # Then 409 and they are still blocked
    assert response.status_code == 409
    assert response.json()["code"] == "stale_guideline"
    assert Membership.objects.get(user=annotator, project=project).acknowledged_guideline_version == 1
    assert client.get(f"/api/projects/{project.pk}/next/").status_code == 409


def test_acknowledging_a_future_version_is_409(project, api):
    # When an annotator acknowledges a version that does not exist yet
    annotator = add_member(project)
    response = api(annotator).post(
        f"/api/projects/{project.pk}/guidelines/acknowledge/", {"version": 7}, format="json"
    )
    # Then 409 and nothing changes
    assert response.status_code == 409
    assert Membership.objects.get(user=annotator, project=project).acknowledged_guideline_version == 1


def test_the_author_of_a_new_version_is_not_blocked_by_it(project, api):
    # Given the manager publishes v2
    publish(api, project)
    # When the manager asks for work
    response = api(project.created_by).get(f"/api/projects/{project.pk}/next/")
    # Then they are served (their own version counts as read)
    assert response.status_code == 200


def test_publishing_without_a_change_note_is_400(project, api):
    # When the manager publishes with a blank change note
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/guidelines/", {"body": "x", "change_note": "  "}, format="json"
    )
    # Then 400 names the field and no version is added
    assert response.status_code == 400
    assert "change_note" in response.json()
    assert project.guidelines.count() == 1


def test_markdown_is_rendered():
    # When ordinary markdown is rendered
    html = markdown_to_safe_html(
        "# Rules\n\nLabel the **overall** sentiment.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    # Then headings, emphasis and tables come through
    assert "<h1>Rules</h1>" in html
    assert "<strong>overall</strong>" in html
    assert "<table>" in html and "<td>1</td>" in html


def test_markdown_rendering_strips_scripts_and_event_handlers():
    # Given markdown with embedded script, event handlers and a javascript: link
    text = (
        "Hello <script>alert('x')</script>\n\n"
        '<img src="https://example.org/a.png" onerror="alert(1)">\n\n'
        '<a href="javascript:alert(2)" onclick="alert(3)">click</a>\n\n'
        "[md link](javascript:alert(4))"
    )
    # When rendered
    html = markdown_to_safe_html(text)
    # Then no script, no handler and no javascript: URL survive, but the harmless parts do
    lowered = html.lower()
    assert "<script" not in lowered and "alert('x')" not in lowered
    assert "onerror" not in lowered and "onclick" not in lowered
    assert "javascript:" not in lowered
    assert '<img src="https://example.org/a.png">' in html
    assert "Hello" in html


def test_label_page_shows_the_sanitised_guideline(project, client):
    # Given a guideline with a script in it
    annotator = add_member(project)
    project.guidelines.update(body="Be careful <script>alert('pwn')</script> **always**")
    client.force_login(annotator)
    # When the annotator opens the labelling page
    response = client.get(f"/projects/{project.pk}/label/")
    # Then the guideline is shown without the script
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>always</strong>" in html
    assert "alert('pwn')" not in html


def test_preview_renders_the_draft_safely_and_publishes_nothing(project, client):
    # Given a manager editing the guideline
    client.force_login(project.created_by)
    before = project.guidelines.count()
    # When they preview a draft with markdown and a script, without a change note
    draft = "## Sarcasm\nCounts as **neg**. <script>alert('x')</script>"
    response = client.post(
        f"/projects/{project.pk}/guideline/", {"body": draft, "change_note": "", "preview": "1"}
    )
    # Then the page shows the rendered draft, sanitised, keeps the draft in the editor, and no version is created
    assert response.status_code == 200
    html = response.content.decode()
    preview = html.split('id="guideline-preview"', 1)[1]
    assert "<h2>Sarcasm</h2>" in preview and "<strong>neg</strong>" in preview
    assert "alert('x')" not in preview
    assert "## Sarcasm" in html  # still in the textarea
    assert project.guidelines.count() == before
    # And publishing the same draft with a note creates exactly one new version
    response = client.post(f"/projects/{project.pk}/guideline/", {"body": draft, "change_note": "sarcasm"})
    assert response.status_code == 302
    assert project.guidelines.count() == before + 1


def test_a_label_belongs_to_the_guideline_version_the_annotator_acknowledged(project, api):
    # Given an annotator on v1 holding an item, and a manager who then publishes v2
    annotator = add_member(project)
    client = api(annotator)
    item = client.get(f"/api/projects/{project.pk}/next/").json()["item"]
    publish(api, project)
    # When the annotator submits the item they were shown under v1
    first = client.post(
        f"/api/projects/{project.pk}/annotations/", {"item": item["id"], "label": "pos"}, format="json"
    )
    # Then the annotation records v1, the version their page showed
    assert first.status_code == 201, first.json()
    assert first.json()["guideline_version"] == 1
    # And once they acknowledge v2, their next label records v2
    client.post(f"/api/projects/{project.pk}/guidelines/acknowledge/", {"version": 2}, format="json")
    second_item = client.get(f"/api/projects/{project.pk}/next/").json()["item"]
    second = client.post(
        f"/api/projects/{project.pk}/annotations/", {"item": second_item["id"], "label": "neg"}, format="json"
    )
    assert second.json()["guideline_version"] == 2
    # And the manager, who acknowledges nothing, labels under the current version
    manager = api(project.created_by).post(
        f"/api/projects/{project.pk}/annotations/", {"item": item["id"], "label": "pos"}, format="json"
    )
    assert manager.status_code == 201, manager.json()
    assert manager.json()["guideline_version"] == 2
