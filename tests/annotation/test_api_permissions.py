"""Permission matrix: every endpoint of annotation/urls_api.py × every kind of caller, exact status codes.

Non-members get 404 (a project's existence is not revealed), members below the needed role 403, anonymous
callers 401 (token auth answers with a WWW-Authenticate challenge), staff act as managers everywhere.
"""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.urls import get_resolver

from annotation.models import Role
from annotation.services.queue import assignment_next_for_annotator
from core.models import Job
from tests.factories import PASSWORD, UserFactory, add_items, add_member, make_project

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "non_member", "annotator", "reviewer", "manager", "staff")


@dataclass
class World:
    project: object
    users: dict
    job: Job
    assignments: dict


@pytest.fixture
def world():
    cache.clear()  # the login throttle counts per address across tests
    manager = UserFactory(project_creator=True)
    project = make_project(manager=manager, k=3)
    add_items(project, 10)
    users = {
        "non_member": UserFactory(),
        "annotator": add_member(project, Role.ANNOTATOR),
        "reviewer": add_member(project, Role.REVIEWER),
        "manager": manager,
        "staff": UserFactory(is_staff=True),
    }
    assignments = {
        role: assignment_next_for_annotator(project=project, user=user)
        for role, user in users.items()
        if role != "non_member"
    }
    job = Job.objects.create(
        kind="selftest", task_name="annotation.selftest", project=project, created_by=manager
    )
    return World(project=project, users=users, job=job, assignments=assignments)


def own_assignment(world, role):
    # Callers without a lease of their own try someone else's.
    return world.assignments.get(role, world.assignments["annotator"])


def pp(world):
    return f"/api/projects/{world.project.pk}"


# (name, method, url(world, role), body(world, role), expected codes in ROLES order)
ENDPOINTS = [
    (
        "token",
        "post",
        lambda w, r: "/api/auth/token/",
        lambda w, r: {"username": w.users[r].username if r in w.users else "nobody", "password": PASSWORD},
        (400, 200, 200, 200, 200, 200),
    ),
    (
        "users-create",
        "post",
        lambda w, r: "/api/users/",
        lambda w, r: {"username": f"new-{r}", "password": "a-long-enough-pw-1"},
        (401, 403, 403, 403, 403, 201),
    ),
    ("users-list", "get", lambda w, r: "/api/users/?search=user", None, (401, 403, 403, 403, 200, 200)),
    ("job-detail", "get", lambda w, r: f"/api/jobs/{w.job.pk}/", None, (401, 404, 404, 200, 200, 200)),
    ("projects-list", "get", lambda w, r: "/api/projects/", None, (401, 200, 200, 200, 200, 200)),
    (
        "projects-create",
        "post",
        lambda w, r: "/api/projects/",
        lambda w, r: {
            "name": f"p-{r}",
            "task_type": "text_classification",
            "labels": [{"value": "a"}, {"value": "b"}],
        },
        # Only staff and the "project creators" group (the world's manager is in it) may create projects.
        (401, 403, 403, 403, 201, 201),
    ),
    ("project-detail", "get", lambda w, r: f"{pp(w)}/", None, (401, 404, 200, 200, 200, 200)),
    (
        "project-update",
        "patch",
        lambda w, r: f"{pp(w)}/",
        lambda w, r: {"gold_rate": 0.1},
        (401, 404, 403, 403, 200, 200),
    ),
    ("members-list", "get", lambda w, r: f"{pp(w)}/members/", None, (401, 404, 403, 403, 200, 200)),
    (
        "members-add",
        "post",
        lambda w, r: f"{pp(w)}/members/",
        lambda w, r: {"user": UserFactory().pk, "role": "annotator"},
        (401, 404, 403, 403, 201, 201),
    ),
    # a label's colour: managers only
    (
        "label-colour",
        "patch",
        lambda w, r: f"{pp(w)}/labels/pos/",
        lambda w, r: {"colour": "#112233"},
        (401, 404, 403, 403, 200, 200),
    ),
    ("guidelines-list", "get", lambda w, r: f"{pp(w)}/guidelines/", None, (401, 404, 200, 200, 200, 200)),
    (
        "guidelines-create",
        "post",
        lambda w, r: f"{pp(w)}/guidelines/",
        lambda w, r: {"body": "# v2", "change_note": "clarified"},
        (401, 404, 403, 403, 201, 201),
    ),
    (
        "guidelines-acknowledge",
        "post",
        lambda w, r: f"{pp(w)}/guidelines/acknowledge/",
        lambda w, r: {"version": 1},
        (401, 404, 200, 200, 200, 200),
    ),
    (
        "items-bulk",
        "post",
        lambda w, r: f"{pp(w)}/items/bulk/",
        lambda w, r: [{"external_id": f"bulk-{r}", "text": "hello"}],
        (401, 404, 403, 403, 201, 201),
    ),
    ("items-list", "get", lambda w, r: f"{pp(w)}/items/", None, (401, 404, 403, 200, 200, 200)),
    ("next", "get", lambda w, r: f"{pp(w)}/next/", None, (401, 404, 200, 200, 200, 200)),
    ("progress", "get", lambda w, r: f"{pp(w)}/progress/", None, (401, 404, 200, 200, 200, 200)),
    # one's own recent labels (undo): any member, each sees only their own
    ("my-recent", "get", lambda w, r: f"{pp(w)}/my-recent/", None, (401, 404, 200, 200, 200, 200)),
    (
        "skip",
        "post",
        lambda w, r: f"{pp(w)}/assignments/{own_assignment(w, r).pk}/skip/",
        None,
        (401, 404, 204, 204, 204, 204),
    ),
    (
        "annotations-create",
        "post",
        lambda w, r: f"{pp(w)}/annotations/",
        lambda w, r: {"item": own_assignment(w, r).item_id, "label": "pos"},
        (401, 404, 201, 201, 201, 201),
    ),
]

CASES = [
    pytest.param(name, method, url, body, role, expected, id=f"{name}-{role}")
    for name, method, url, body, codes in ENDPOINTS
    for role, expected in zip(ROLES, codes, strict=True)
]


@pytest.mark.parametrize(("name", "method", "url", "body", "role", "expected"), CASES)
def test_permission_matrix(world, api, name, method, url, body, role, expected):
    # Given a caller of the given kind
    client = api(world.users.get(role)) if name != "token" else api()
    # When they call the endpoint
    kwargs = {"format": "json"} if method in ("post", "patch") else {}
    payload = body(world, role) if body else None
    response = getattr(client, method)(url(world, role), payload, **kwargs)
    # Then the status code is exactly the expected one
    assert response.status_code == expected, getattr(response, "data", response.content)
    if expected == 401:
        assert response.has_header("WWW-Authenticate")


def test_the_matrix_covers_every_api_route():
    # Given the routes the API serves
    # (the annotation API's, and the bulk item route ingress serves beside it; ingress's other routes are in
    # tests/hardening/test_permission_matrix.py)
    patterns = {str(p.pattern) for p in get_resolver("annotation.urls_api").url_patterns} | {
        str(p.pattern)
        for p in get_resolver("ingress.urls_api").url_patterns
        if "items/bulk" in str(p.pattern)
    }
    # Then each one has a row in the matrix (users, projects, project detail, members and guidelines each serve
    # two methods)
    assert len(patterns) == 16
    assert len(ENDPOINTS) == len(patterns) + 5


def test_a_manager_finds_users_by_part_of_their_username_to_add_them(api):
    # Given a manager of a project and three other accounts, one of them deactivated
    manager = UserFactory(username="mgr")
    make_project(manager=manager)
    alice, _, kalina = (
        UserFactory(username="alice.k"),
        UserFactory(username="bob"),
        UserFactory(username="kalina"),
    )
    UserFactory(username="alina-gone", is_active=False)
    # When they search for "ALI"
    response = api(manager).get("/api/users/", {"search": "ALI"})
    # Then the active matches come back by username, case-insensitively, as id and username only, paginated
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [
        {"id": alice.pk, "username": "alice.k"},
        {"id": kalina.pk, "username": "kalina"},
    ]
    # And the id adds the member
    added = api(manager).post(
        f"/api/projects/{manager.memberships.get().project_id}/members/",
        {"user": alice.pk, "role": "annotator"},
    )
    assert added.status_code == 201 and added.json()["username"] == "alice.k"


def test_json_endpoints_refuse_form_bodies_but_the_token_endpoint_still_takes_one(api):
    # Given a real account
    cache.clear()
    user = UserFactory(is_staff=True)
    # When a form body is posted to a JSON endpoint; then it is refused as an unsupported media type
    refused = api(user).post(
        "/api/projects/", {"name": "p", "task_type": "text_classification"}, format="multipart"
    )
    assert refused.status_code == 415
    # And the token endpoint still answers `curl -d username=... -d password=...`
    token = api().post(
        "/api/auth/token/",
        f"username={user.username}&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert token.status_code == 200 and token.json()["token"]
