"""Password reset by e-mail: the same answer for any address, a limit per address and per account."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_account_gets_mail(client, mailoutbox):
    UserFactory(username="kim", email="kim@example.org")
    known = client.post("/password-reset/", {"email": "kim@example.org"})
    unknown = client.post("/password-reset/", {"email": "nobody@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/password-reset/sent/"
    assert [m.to for m in mailoutbox] == [["kim@example.org"]]
    assert "/password-reset/" in mailoutbox[0].body


def test_an_account_gets_at_most_three_mails_an_hour_and_the_answer_does_not_change(settings, mailoutbox):
    settings.LABELGATE_PASSWORD_RESET_RATE = (100, 3)
    UserFactory(email="lee@example.org")
    answers = [
        Client(REMOTE_ADDR=f"10.0.0.{n}").post("/password-reset/", {"email": "lee@example.org"})
        for n in range(5)
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/password-reset/sent/")}
    assert len(mailoutbox) == 3


def test_one_address_may_ask_five_times_an_hour_then_gets_429(client, mailoutbox):
    statuses = [client.post("/password-reset/", {"email": f"x{n}@example.org"}).status_code for n in range(6)]
    assert statuses == [302, 302, 302, 302, 302, 429]


def test_the_login_page_links_to_the_reset_page(client):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()


def test_a_forged_reset_link_is_refused_in_words_and_changes_nothing(client):
    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page = client.get(f"/password-reset/{uid}/cc1-0123456789abcdef0123456789abcdef/")
    assert page.status_code == 200 and "This link is not valid" in page.content.decode()
    client.post(
        f"/password-reset/{uid}/cc1-0123456789abcdef0123456789abcdef/",
        {"new_password1": "taken-over-99", "new_password2": "taken-over-99"},
    )
    user.refresh_from_db()
    assert not user.check_password("taken-over-99")
