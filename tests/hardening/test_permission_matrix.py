"""Permission matrix GENERATED from the URL conf: every route × method × kind of caller.

Every /api/ route and every HTML page found by walking ``get_resolver().url_patterns`` must have a rule in RULES,
otherwise the suite fails with "new endpoint without a permission rule". A rule names the lowest role that may
use the route; the test then checks each caller's status CLASS: allowed callers never get 401/403/404 or 5xx,
denied members/strangers get 403 or 404 (a project's existence is not revealed to strangers), anonymous callers
get 401/403 on the API and a redirect to the login page on HTML pages (media: 404, nothing revealed).
Each caller's request runs in a savepoint that is rolled back, so one caller's write never changes another's case.
"""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.hardening.world import ROLES, build_world

pytestmark = pytest.mark.django_db

PUBLIC, AUTH, ANNOTATOR, REVIEWER, MANAGER, STAFF, MEDIA, OWNER = (
    "public",
    "authenticated",
    "annotator",
    "reviewer",
    "manager",
    "staff",
    "media",
    "owner",
)
ALLOWED = {
    PUBLIC: set(ROLES),
    AUTH: set(ROLES) - {"anonymous"},
    ANNOTATOR: {"annotator", "reviewer", "manager", "staff"},
    MEDIA: {"annotator", "reviewer", "manager", "staff"},
    REVIEWER: {"reviewer", "manager", "staff"},
    MANAGER: {"manager", "staff"},
    STAFF: {"staff"},
    OWNER: {
        "annotator"
    },  # the annotator holding the assignment; everyone else's skip is someone else's lease
}
# Query strings a route needs to answer 200 for an allowed caller.
QUERY = {"api-dataset-diff": "?against={vid}", "dataset-diff": "?base={vid}&target={vid}"}
# URL kwargs a route fills from another of the world's ids (two routes take a ``token`` of different kinds).
KWARG_IDS = {
    "item-media-signed": {"token": "media_token"},
    "api-label": {"value": "label_value"},
    "invite-accept": {"token": "invite_token"},
    "password_reset_confirm": {"uidb64": "reset_uidb64", "token": "reset_token"},
    "item-thumbnail": {"item_id": "image_item_id"},
}
# Reports that do not exist until a job made them: allowed callers get 404 that is not the project's 404.
NOT_YET = {"api-quality", "api-annotators", "api-model"}

# route name -> {METHOD: lowest role allowed}. Keep in step with the URL conf: the walk below fails on a gap.
RULES: dict[str, dict[str, str]] = {
    # framework / site
    "login": {"GET": PUBLIC, "POST": PUBLIC, "PUT": PUBLIC},
    "logout": {"POST": PUBLIC},
    "health": {"GET": PUBLIC},
    # The schema and its docs page describe the API, not data: public by decision.
    "api-schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
    # annotation API
    "api-token": {"POST": PUBLIC},
    # The user lookup: staff, and managers of any project (to add members by name).
    "api-users": {"GET": MANAGER, "POST": STAFF},
    "api-job": {"GET": REVIEWER},
    # Creating projects: staff and the "project creators" group; the world's plain users are in neither.
    "api-projects": {"GET": AUTH, "POST": STAFF},
    "api-project": {"GET": ANNOTATOR, "PATCH": MANAGER},
    "api-members": {"GET": MANAGER, "POST": MANAGER},
    "api-guidelines": {"GET": ANNOTATOR, "POST": MANAGER},
    "api-guideline-ack": {"POST": ANNOTATOR},
    "api-items-bulk": {"POST": MANAGER},
    "api-items": {"GET": REVIEWER},
    "api-next": {"GET": ANNOTATOR},
    "api-progress": {"GET": ANNOTATOR},
    "api-my-recent": {"GET": ANNOTATOR},
    "api-skip": {"POST": OWNER},
    "api-annotations": {"POST": ANNOTATOR},
    "api-imports": {"GET": REVIEWER, "POST": MANAGER},
    "api-batches": {"GET": REVIEWER},
    "api-near-dups": {"GET": REVIEWER},
    # quality / review API
    "api-quality-runs": {"POST": REVIEWER},  # reviewers may re-run quality (by design)
    "api-quality": {"GET": REVIEWER},
    "api-dashboard-kind-panels": {"GET": REVIEWER},
    "api-item-filters": {"GET": REVIEWER, "POST": REVIEWER},
    "api-item-filter": {"DELETE": MANAGER},
    "api-annotators": {"GET": REVIEWER},
    "api-reviews": {"POST": REVIEWER},
    "api-reviews-bulk": {"POST": REVIEWER},
    "api-review-queue": {"GET": REVIEWER},
    "api-item-detail": {"GET": REVIEWER},
    "api-label-changes": {"GET": REVIEWER},
    "api-label-add": {"POST": MANAGER},
    "api-label-rename": {"POST": MANAGER},
    "api-label-merge": {"POST": MANAGER},
    "api-label": {"PATCH": MANAGER},
    "api-label-examples": {"POST": REVIEWER},
    "api-label-example": {"DELETE": REVIEWER},
    "api-my-feedback": {"GET": ANNOTATOR},
    # active learning API
    "api-model-train": {"POST": MANAGER},
    "api-model": {"GET": REVIEWER},
    "api-model-token-issues": {"GET": REVIEWER},
    "api-queue": {"GET": REVIEWER},
    # datasets API
    "api-dataset-versions": {"GET": REVIEWER, "POST": REVIEWER},  # reviewers freeze (by design)
    "api-dataset-preview": {"GET": REVIEWER},
    "api-dataset-version": {"GET": REVIEWER},
    "api-dataset-export": {"GET": REVIEWER},
    "api-dataset-export-links": {"POST": REVIEWER},
    # The signed token is the credential: whoever holds a valid link downloads that one export.
    "api-dataset-export-signed": {"GET": PUBLIC},
    "item-media-signed": {"GET": PUBLIC},
    # The site icon, for every browser tab including the login page.
    "favicon": {"GET": PUBLIC},
    "api-dataset-diff": {"GET": REVIEWER},
    "api-dataset-verify": {"GET": REVIEWER},
    "api-item-dataset-versions": {"GET": REVIEWER},
    # people API: a project's managers run its people; deactivating an account is site staff's
    "api-invites": {"GET": MANAGER, "POST": MANAGER},
    "api-member-accounts": {"POST": MANAGER},
    "api-member": {"PATCH": MANAGER, "DELETE": MANAGER},
    "api-member-events": {"GET": MANAGER},
    "api-user-deactivate": {"POST": STAFF},
    # HTML pages
    "home": {"GET": AUTH},
    "project-members": {"GET": MANAGER},
    "member-invite": {"POST": MANAGER},
    "member-account-create": {"POST": MANAGER},
    "member-add-existing": {"POST": MANAGER},
    "member-role": {"POST": MANAGER},
    "member-remove": {"POST": MANAGER},
    # The page is the manager's; the service itself refuses anyone but staff (a message, no change).
    "member-deactivate": {"POST": MANAGER},
    # The invite link and the password-reset pages are for people not signed in: the token is the credential.
    "invite-accept": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset": {"GET": PUBLIC, "POST": PUBLIC, "PUT": PUBLIC},
    "password_reset_done": {"GET": PUBLIC},
    "password_reset_confirm": {"GET": PUBLIC, "POST": PUBLIC, "PUT": PUBLIC},
    "password_reset_complete": {"GET": PUBLIC},
    "project-create": {"GET": STAFF, "POST": STAFF},
    "project-detail": {"GET": ANNOTATOR},
    "member-add": {"GET": MANAGER, "POST": MANAGER},
    "guideline-edit": {"GET": MANAGER, "POST": MANAGER},
    "project-settings": {"GET": MANAGER, "POST": MANAGER},
    "label": {"GET": ANNOTATOR},
    "item-media": {"GET": MEDIA},
    "item-waveform": {"GET": MEDIA},
    "item-thumbnail": {"GET": MEDIA},
    "batches": {"GET": REVIEWER},
    "import-upload": {"POST": MANAGER},
    "import-detail": {"GET": REVIEWER},
    "quality-page": {"GET": REVIEWER},
    "quality-run": {"POST": REVIEWER},
    "review-queue": {"GET": REVIEWER},
    "review-bulk": {"GET": REVIEWER, "POST": REVIEWER},
    "review-item": {"GET": REVIEWER, "POST": REVIEWER},
    "review-item-history": {"GET": REVIEWER},
    "review-labels": {"GET": REVIEWER},
    "review-label-add": {"POST": MANAGER},
    "review-label-rename": {"POST": MANAGER},
    "review-label-merge": {"POST": MANAGER},
    "review-label-example-remove": {"POST": REVIEWER},
    "review-guideline-diff": {"GET": ANNOTATOR},  # guidelines are for annotators
    "review-my-feedback": {"GET": ANNOTATOR},
    "dashboard": {"GET": REVIEWER},
    "dashboard-items": {"GET": REVIEWER},
    "saved-filter-create": {"POST": REVIEWER},
    # The world's saved filter is the manager's: a reviewer may delete only their own.
    "saved-filter-delete": {"POST": MANAGER},
    "model-page": {"GET": REVIEWER},
    "model-train": {"POST": MANAGER},
    "dataset-versions": {"GET": REVIEWER, "POST": REVIEWER},
    "dataset-diff": {"GET": REVIEWER},
    "dataset-version": {"GET": REVIEWER},
}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) == "admin/":
                continue  # Django's admin: staff only, covered by test_admin_is_staff_only
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def class_methods(pattern: URLPattern) -> set[str] | None:
    view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view is None:
        return None
    return {m.upper() for m in HTTP_METHODS if hasattr(view, m) and m in view.http_method_names}


def routes() -> list[tuple[str, str, URLPattern]]:
    return list(walk(get_resolver().url_patterns))


def test_every_route_and_method_has_a_permission_rule():
    # Given every route the URL conf serves
    problems = []
    for route, pattern in routes():
        rule = RULES.get(pattern.name)
        if rule is None:
            problems.append(f"new endpoint without a permission rule: {route} (name={pattern.name!r})")
            continue
        methods = class_methods(pattern)
        # Then class-based views declare exactly the methods that have rules
        if methods is not None and methods != set(rule):
            problems.append(
                f"new endpoint without a permission rule: {route} serves {sorted(methods)}, "
                f"rules cover {sorted(rule)}"
            )
    # And no rule is left over for a route that no longer exists
    names = {pattern.name for _, pattern in routes()}
    problems += [f"rule for a route that no longer exists: {name}" for name in set(RULES) - names]
    assert not problems, "\n".join(problems)


CASES = [
    pytest.param(route, pattern.name, method, id=f"{pattern.name}-{method}")
    for route, pattern in routes()
    if pattern.name in RULES
    for method in RULES[pattern.name]
]


def fill(route: str, ids: dict) -> str:
    import re

    def value(match):
        return str(ids[match.group(2)])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def client_for(world, role: str, *, api: bool):
    user = world.users.get(role)
    if api:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def classify(
    status: int,
    location: str,
    *,
    role: str,
    rule: str,
    api: bool,
    method: str,
    name: str = "",
    body: bytes = b"",
) -> str | None:
    """None when the status fits the rule, else what is wrong."""
    if status >= 500:
        return f"server error {status}"
    if role in ALLOWED[rule]:
        if status == 404 and name in NOT_YET and b"Project not found" not in body:
            return None
        if status in (401, 403, 404):
            return f"allowed caller refused with {status}"
        if method == "GET" and status >= 400:
            return f"allowed GET answered {status}"
        return None
    if role == "anonymous":
        if rule == MEDIA:
            return None if status == 404 else f"anonymous media request answered {status}, not 404"
        if api:
            return None if status in (401, 403) else f"anonymous API call answered {status}"
        if status == 302 and location.startswith("/login/"):
            return None
        return f"anonymous page request answered {status} {location!r}, not a redirect to /login/"
    return None if status in (403, 404) else f"denied caller answered {status}"


@pytest.mark.parametrize(("route", "name", "method"), CASES)
def test_permission_matrix(route, name, method):
    # Given a world with every kind of caller and object
    cache.clear()  # the login throttles count per address
    world = build_world()
    rule = RULES[name][method]
    ids = {**world.ids, **{kwarg: world.ids[key] for kwarg, key in KWARG_IDS.get(name, {}).items()}}
    url = fill(route, ids) + QUERY.get(name, "").format(**world.ids)
    api = route.startswith("api/")
    failures = []
    for role in ROLES:
        # When each caller uses the route (their writes are rolled back before the next caller)
        with transaction.atomic():
            client = client_for(world, role, api=api)
            call = getattr(client, method.lower())
            response = (
                call(url, {}, format="json")
                if api and method != "GET"
                else call(url, {} if method != "GET" else None)
            )
            transaction.set_rollback(True)
        # Then the status class matches the rule
        problem = classify(
            response.status_code,
            response.get("Location", ""),
            role=role,
            rule=rule,
            api=api,
            method=method,
            name=name,
            body=getattr(response, "content", b""),
        )
        if problem:
            failures.append(f"{role}: {problem}")
    assert not failures, f"{method} {url} (rule {rule}):\n" + "\n".join(failures)


def test_admin_is_staff_only():
    world = build_world()
    for role in ROLES:
        status = client_for(world, role, api=False).get("/admin/").status_code
        assert status == (200 if role == "staff" else 302), (role, status)
