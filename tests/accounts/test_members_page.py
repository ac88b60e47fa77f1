"""The members page's forms: the same rules as the API, told in words on the page."""

import pytest

from accounts.models import MemberEvent
from annotation.models import Membership, Role
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db


def test_the_last_manager_is_kept_and_the_page_says_why(client):
    manager = UserFactory(username="mia")
    project = make_project(manager=manager)
    client.force_login(manager)
    page = client.post(f"/projects/{project.pk}/members/{manager.pk}/remove/", follow=True)
    assert "mia is the project&#x27;s last manager and cannot be removed" in page.content.decode()
    assert Membership.objects.filter(project=project, user=manager, role=Role.MANAGER).exists()


def test_a_manager_removes_a_member_and_cannot_deactivate_their_account(client):
    manager = UserFactory()
    project = make_project(manager=manager)
    ann = add_member(project, Role.ANNOTATOR, user=UserFactory(username="ann"))
    client.force_login(manager)
    refused = client.post(f"/projects/{project.pk}/members/{ann.pk}/deactivate/", follow=True)
    assert "Deactivating an account needs site staff" in refused.content.decode()
    ann.refresh_from_db()
    assert ann.is_active
    client.post(f"/projects/{project.pk}/members/{ann.pk}/remove/")
    assert not Membership.objects.filter(project=project, user=ann).exists()
    assert list(MemberEvent.objects.values_list("kind", "subject_name")) == [("removed", "ann")]


def test_form_errors_stay_on_the_page_next_to_their_field(client):
    manager = UserFactory()
    UserFactory(username="taken")
    project = make_project(manager=manager)
    client.force_login(manager)
    page = client.post(
        f"/projects/{project.pk}/members/account/",
        {"account-username": "taken", "account-email": "t@example.org", "account-role": "annotator"},
    )
    assert page.status_code == 200 and "That username is taken; choose another." in page.content.decode()
    missing = client.post(
        f"/projects/{project.pk}/members/existing/",
        {"existing-username": "nobody", "existing-role": "annotator"},
    )
    assert "No active account with that username; invite them instead." in missing.content.decode()


def test_an_email_invite_from_the_page_sends_the_link(client, mailoutbox):
    manager = UserFactory()
    project = make_project(manager=manager)
    client.force_login(manager)
    page = client.post(
        f"/projects/{project.pk}/members/invite/",
        {"invite-email": "zoe@example.org", "invite-role": "reviewer"},
        follow=True,
    )
    assert "Invite sent to zoe@example.org." in page.content.decode()
    (mail,) = mailoutbox
    assert mail.to == ["zoe@example.org"] and "/invites/" in mail.body and "as reviewer" in mail.body
