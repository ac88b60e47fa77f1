"""API token authentication (core/api/authentication.py): DRF's scheme and errors, one query per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_a_valid_token_authenticates_its_user_with_one_query():
    # Given an annotator with a token
    project = make_project(k=3)
    annotator = add_member(project)
    token = Token.objects.create(user=annotator)
    # When they call a project endpoint
    with CaptureQueriesContext(connection) as queries:
        response = client_with(f"Token {token.key}").get(f"/api/projects/{project.pk}/progress/")
    # Then they are that user (a member: 200), and the token was checked by the first and only auth query
    assert response.status_code == 200
    assert token.key in queries.captured_queries[0]["sql"]
    assert sum(token.key in query["sql"] for query in queries.captured_queries) == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token not-a-real-key", "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_a_bad_token_is_refused_with_drfs_message(header, message):
    # Given a request with a missing, malformed or unknown token; when it calls the API
    response = client_with(header).get("/api/projects/")
    # Then it is refused with DRF's message and a challenge
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_of_an_inactive_user_is_refused():
    # Given a user with a token who was then deactivated
    user = UserFactory()
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    # When the token is used; then it is refused
    response = client_with(f"Token {token.key}").get("/api/projects/")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_the_authenticated_token_is_the_callers():
    # Given a user with a token; when the token authenticates a request
    from core.api.authentication import TokenAuthentication

    user = UserFactory()
    token = Token.objects.create(user=user)
    found_user, found_token = TokenAuthentication().authenticate_credentials(token.key)
    # Then the user and token are the stored ones (the token's other fields load on demand)
    assert (found_user.pk, found_user.username) == (user.pk, user.username)
    assert (found_token.pk, found_token.user_id, found_token.created) == (token.pk, user.pk, token.created)


def test_the_bearer_prefix_of_generated_clients_authenticates_too():
    # Given a member's token sent with the prefix generated OpenAPI clients use by default
    project = make_project(k=3)
    token = Token.objects.create(user=add_member(project))
    # When it calls a project endpoint; then it is that user, with the same single auth query
    with CaptureQueriesContext(connection) as queries:
        response = client_with(f"Bearer {token.key}").get(f"/api/projects/{project.pk}/progress/")
    assert response.status_code == 200
    assert sum(token.key in query["sql"] for query in queries.captured_queries) == 1
    # And an unknown bearer token is refused with DRF's message
    refused = client_with("Bearer not-a-real-key").get("/api/projects/")
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid token."}
