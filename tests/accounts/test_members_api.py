"""The people API: invites, accounts, roles, removals, deactivation, and the record of each."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.models import Invite, MemberEvent
from annotation.models import Membership, Role
from tests.factories import PASSWORD, UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db


def _events(project) -> list[tuple[str, str, str]]:
    return [
        (e.kind, e.actor.username if e.actor else "", e.subject_name)
        for e in MemberEvent.objects.filter(project=project).order_by("id")
    ]


def test_a_link_invite_stores_only_the_tokens_hash_and_works_once(api, client):
    # Given a manager's project
    manager = UserFactory()
    project = make_project(manager=manager)
    # When the manager asks for a link invite for an annotator
    response = api(manager).post(f"/api/projects/{project.pk}/invites/", {"role": "annotator"}, format="json")
    # Then the answer holds a one-time link whose token is stored only as its SHA-256
    assert response.status_code == 201
    url = response.json()["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    invite = Invite.objects.get(pk=response.json()["id"])
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invite.token_hash
    # And the list of open invites shows it without the link
    listed = api(manager).get(f"/api/projects/{project.pk}/invites/").json()["results"]
    assert [row["id"] for row in listed] == [invite.pk] and "url" not in listed[0]
    # When a stranger opens it, picks a name and password
    opened = client.post(
        f"/invites/{token}/",
        {"username": "newbie", "password1": "a-long-pass-1", "password2": "a-long-pass-1"},
    )
    # Then they are an annotator of the project, and signed in
    assert opened.status_code == 302 and opened["Location"] == f"/projects/{project.pk}/"
    newbie = get_user_model().objects.get(username="newbie")
    assert Membership.objects.get(project=project, user=newbie).role == Role.ANNOTATOR
    # And the same link refuses a second use, in words
    again = Client().get(f"/invites/{token}/")
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert _events(project) == [
        ("invited", manager.username, "(link)"),
        ("invite_accepted", "newbie", "newbie"),
    ]


def test_an_expired_or_forged_invite_is_refused_in_words(api, client):
    manager = UserFactory()
    project = make_project(manager=manager)
    token = (
        api(manager)
        .post(f"/api/projects/{project.pk}/invites/", {"role": "reviewer"}, format="json")
        .json()["url"]
        .rstrip("/")
        .rsplit("/", 1)[1]
    )
    # Given the invite's expiry moved into the past
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # Then opening it or posting to it says it expired and creates nobody
    assert "has expired" in client.get(f"/invites/{token}/").content.decode()
    posted = client.post(
        f"/invites/{token}/", {"username": "late", "password1": "x" * 12, "password2": "x" * 12}
    )
    assert posted.status_code == 410
    assert not get_user_model().objects.filter(username="late").exists()
    # And a made-up token is not valid
    forged = client.get("/invites/" + "A" * 43 + "/")
    assert forged.status_code == 410 and "not valid" in forged.content.decode()


def test_an_email_invite_is_sent_and_an_existing_user_joins_without_a_lower_role(api, client, mailoutbox):
    manager = UserFactory()
    project = make_project(manager=manager)
    response = api(manager).post(
        f"/api/projects/{project.pk}/invites/",
        {"role": "annotator", "email": "ana@example.org"},
        format="json",
    )
    assert response.status_code == 201
    (mail,) = mailoutbox
    assert mail.to == ["ana@example.org"] and response.json()["url"] in mail.body
    # A signed-in reviewer of the project who uses an annotator invite keeps the reviewer role
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    token = response.json()["url"].rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/invites/{token}/", {"join": "1"}).status_code == 302
    assert Membership.objects.get(project=project, user=reviewer).role == Role.REVIEWER


def test_invite_input_errors_name_their_field(api):
    manager = UserFactory()
    project = make_project(manager=manager)
    bad = api(manager).post(
        f"/api/projects/{project.pk}/invites/", {"role": "owner", "email": "not-an-address"}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()) >= {"role", "email"}


def test_an_annotator_cannot_invite_and_a_manager_of_a_cannot_act_on_b(api):
    manager_a, manager_b = UserFactory(), UserFactory()
    a, b = make_project(manager=manager_a, name="A"), make_project(manager=manager_b, name="B")
    annotator = add_member(a, Role.ANNOTATOR)
    # An annotator inviting a manager: 403
    escalate = api(annotator).post(f"/api/projects/{a.pk}/invites/", {"role": "manager"}, format="json")
    assert escalate.status_code == 403
    # A manager of A changing a role in B, or removing B's manager: 404 (B is not revealed)
    b_member = add_member(b, Role.ANNOTATOR)
    assert (
        api(manager_a)
        .patch(f"/api/projects/{b.pk}/members/{b_member.pk}/", {"role": "manager"}, format="json")
        .status_code
        == 404
    )
    assert api(manager_a).delete(f"/api/projects/{b.pk}/members/{manager_b.pk}/").status_code == 404
    assert Membership.objects.get(project=b, user=b_member).role == Role.ANNOTATOR
    assert not Invite.objects.exists()


def test_role_changes_and_removals_keep_a_manager_and_are_recorded(api):
    manager = UserFactory(username="mia")
    project = make_project(manager=manager)
    ann = add_member(project, Role.ANNOTATOR, user=UserFactory(username="ann"))
    url = f"/api/projects/{project.pk}/members/"
    # The last manager can neither step down nor be removed: a field error in words
    demote = api(manager).patch(f"{url}{manager.pk}/", {"role": "reviewer"}, format="json")
    assert demote.status_code == 400
    assert demote.json()["role"] == ["mia is the project's last manager; make someone else a manager first."]
    remove = api(manager).delete(f"{url}{manager.pk}/")
    assert remove.status_code == 400 and "last manager" in remove.json()["user"][0]
    # An unknown role is a field error too
    assert api(manager).patch(f"{url}{ann.pk}/", {"role": "boss"}, format="json").json().keys() >= {"role"}
    # With a second manager, the first may step down, and a member may be removed
    promoted = api(manager).patch(f"{url}{ann.pk}/", {"role": "manager"}, format="json")
    assert promoted.status_code == 200 and promoted.json()["role"] == "manager"
    assert api(manager).patch(f"{url}{manager.pk}/", {"role": "reviewer"}, format="json").status_code == 200
    assert api(ann).delete(f"{url}{manager.pk}/").status_code == 204
    assert not Membership.objects.filter(project=project, user=manager).exists()
    # And every change is listed, newest first, with who did it
    events = api(ann).get(f"/api/projects/{project.pk}/member-events/").json()["results"]
    assert [(e["kind"], e["actor"], e["subject_name"]) for e in events] == [
        ("removed", "ann", "mia"),
        ("role_changed", "mia", "mia"),
        ("role_changed", "mia", "ann"),
    ]
    assert events[1]["detail"] == "Role changed from manager to reviewer"


def test_a_manager_creates_an_account_that_gets_a_password_link(api, client, mailoutbox):
    manager = UserFactory()
    project = make_project(manager=manager)
    url = f"/api/projects/{project.pk}/accounts/"
    created = api(manager).post(url, {"username": "bo", "email": "bo@example.org"}, format="json")
    assert created.status_code == 201
    bo = get_user_model().objects.get(username="bo")
    assert not bo.has_usable_password()
    assert Membership.objects.get(project=project, user=bo).role == Role.ANNOTATOR
    (mail,) = mailoutbox
    link = next(word for word in mail.body.split() if "/password-reset/" in word)
    # The link leads to Django's set-password form; the new password logs in
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and "Choose a new password" in form_page.content.decode()
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "fresh-pass-77", "new_password2": "fresh-pass-77"}
    )
    assert Client().login(username="bo", password="fresh-pass-77")
    # A taken username, a missing e-mail: field errors
    taken = api(manager).post(url, {"username": "BO", "email": "x@example.org"}, format="json")
    assert taken.status_code == 400 and taken.json()["username"] == [
        "That username is taken; choose another."
    ]
    assert "email" in api(manager).post(url, {"username": "cy"}, format="json").json()


def test_only_staff_deactivate_and_the_token_stops_at_once(api):
    manager = UserFactory()
    project = make_project(manager=manager)
    ann = add_member(project, Role.ANNOTATOR)
    assert api(ann).get(f"/api/projects/{project.pk}/progress/").status_code == 200
    # A project manager may not deactivate an account
    assert api(manager).post(f"/api/users/{ann.pk}/deactivate/").status_code == 403
    # Staff may; the account's token is refused on the next request
    staff = UserFactory(is_staff=True)
    done = api(staff).post(f"/api/users/{ann.pk}/deactivate/")
    assert done.status_code == 200 and done.json()["is_active"] is False
    assert api(ann).get(f"/api/projects/{project.pk}/progress/").status_code == 401
    assert _events(project)[-1] == ("deactivated", staff.username, ann.username)
    assert not Client().login(username=ann.username, password=PASSWORD)


def test_the_project_creators_group_exists_with_the_permission_to_add_projects():
    # Made by accounts' data migration
    group = Group.objects.get(name="project creators")
    assert list(group.permissions.values_list("content_type__app_label", "codename")) == [
        ("annotation", "add_project")
    ]


PROJECT = {"name": "p", "task_type": "text_classification", "labels": [{"value": "a"}, {"value": "b"}]}


def test_only_staff_and_project_creators_create_projects(api, client):
    plain, creator, staff = UserFactory(), UserFactory(project_creator=True), UserFactory(is_staff=True)
    refused = api(plain).post("/api/projects/", PROJECT, format="json")
    assert refused.status_code == 403 and "project creators" in refused.json()["detail"]
    assert api(creator).post("/api/projects/", PROJECT, format="json").status_code == 201
    assert api(staff).post("/api/projects/", PROJECT, format="json").status_code == 201
    # The page: a 403 in words for the plain user, and no create button on their project list
    client.force_login(plain)
    page = client.get("/projects/new/")
    assert page.status_code == 403 and "project creators" in page.content.decode()
    assert "/projects/new/" not in client.get("/").content.decode()
    client.force_login(creator)
    assert client.get("/projects/new/").status_code == 200
    assert "/projects/new/" in client.get("/").content.decode()
