"""The hot path's cache (annotation/hotpath_cache.py): token → user, access and label sets are served from a shared
cache, and every change to what they hold outdates them at once; a cache that fails is bypassed."""

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from annotation.admin import ProjectCacheAdmin
from annotation.models import Guideline, Label, Membership, Project, Role
from annotation.selectors import label_choices
from annotation.services.projects import guideline_create, membership_set
from quality.review.services.labels import label_add
from tests.factories import add_items, add_member, make_project

ROOT = Path(__file__).resolve().parents[2]


class BrokenCache:
    """A cache backend whose every call fails, as Redis does while it is down."""

    def __init__(self, *args, **kwargs):
        pass

    def close(self, **kwargs):
        pass

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


@pytest.fixture
def shared_cache(settings):
    """A cache of its own for the hot path (one process here, so local memory shares it like Redis would)."""
    settings.CACHES = {
        **settings.CACHES,
        "hotpath": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(uuid.uuid4()),
        },
    }
    settings.LABELGATE_HOTPATH_CACHE = "hotpath"


def sql_naming(queries, table: str) -> int:
    return sum(table in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_repeat_requests_read_token_and_access_from_the_cache(api, shared_cache):
    # Given an annotator who has called the project once
    project = make_project(k=3)
    annotator = add_member(project)
    client = api(annotator)
    assert client.get(f"/api/projects/{project.pk}/").status_code == 200
    # When they call it again
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/projects/{project.pk}/")
    # Then neither their token nor their membership is read from the database
    assert response.status_code == 200
    assert sql_naming(queries, "authtoken_token") == 0
    assert sql_naming(queries, Membership._meta.db_table) == 0


@pytest.mark.django_db(transaction=True)
def test_a_role_change_a_new_guideline_and_a_new_label_apply_to_the_next_request(api, shared_cache):
    # Given an annotator whose access and label set are cached
    project = make_project(k=3)
    add_items(project, 3)
    annotator = add_member(project)
    client = api(annotator)
    assert client.get(f"/api/projects/{project.pk}/members/").status_code == 403
    item = client.get(f"/api/projects/{project.pk}/next/").json()["item"]["id"]
    assert (
        client.post(f"/api/projects/{project.pk}/annotations/", {"item": item, "label": "bump"}).status_code
        == 400
    )
    # When a manager promotes them, adds a label and publishes a guideline
    membership_set(project=project, user_id=annotator.pk, role=Role.MANAGER)
    label_add(project=project, author=project.created_by, value="bump")
    guideline_create(project=project, author=project.created_by, body="new", change_note="stricter")
    # Then each change shows on their next request
    assert client.get(f"/api/projects/{project.pk}/members/").status_code == 200
    assert (
        client.post(f"/api/projects/{project.pk}/annotations/", {"item": item, "label": "bump"}).status_code
        == 201
    )
    refused = client.get(f"/api/projects/{project.pk}/next/")
    assert refused.status_code == 409 and refused.json()["code"] == "guideline_ack_required"


@pytest.mark.django_db(transaction=True)
def test_a_removed_member_and_a_deactivated_user_lose_access_at_once(api, shared_cache):
    # Given two annotators whose token and access are cached
    project = make_project(k=3)
    removed, deactivated = add_member(project), add_member(project)
    clients = {user: api(user) for user in (removed, deactivated)}
    for client in clients.values():
        assert client.get(f"/api/projects/{project.pk}/").status_code == 200
    # When one is removed in the admin and the other deactivated
    MembershipAdmin = type(admin.site._registry[Membership])
    MembershipAdmin(Membership, admin.site).delete_model(
        None, Membership.objects.get(user=removed, project=project)
    )
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    # Then the first gets 404 and the second 401 on their next request
    assert clients[removed].get(f"/api/projects/{project.pk}/").status_code == 404
    assert clients[deactivated].get(f"/api/projects/{project.pk}/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_labelling_works_on_the_database_while_the_cache_is_down(api, settings):
    # Given a hot-path cache that fails on every call
    settings.CACHES = {**settings.CACHES, "hotpath": {"BACKEND": f"{__name__}.BrokenCache"}}
    settings.LABELGATE_HOTPATH_CACHE = "hotpath"
    project = make_project(k=3)
    add_items(project, 2)
    client = api(add_member(project))
    # When an annotator takes an item and labels it
    served = client.get(f"/api/projects/{project.pk}/next/")
    stored = client.post(
        f"/api/projects/{project.pk}/annotations/", {"item": served.json()["item"]["id"], "label": "pos"}
    )
    # Then both succeed
    assert served.status_code == 200 and stored.status_code == 201


# What the hot path caches per project comes from these rows; whoever writes them must outdate the cache.
CACHED_MODELS = (Project, Label, Guideline, Membership)
WRITE = re.compile(
    r"\b(?:Project|Label|Guideline|Membership)\.objects\b[^\n]*?\.(?:create|bulk_create|get_or_create|update_or_create|"
    r"update|delete|bulk_update)\(|\b(?:project|label|guideline|membership)\.(?:save|delete)\("
)


def test_every_module_that_writes_cached_rows_outdates_the_cache():
    # Given the apps' modules (not migrations or tests)
    writers, silent = [], []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/")[0] not in {"annotation", "activelearning", "quality", "datasets", "config"}:
            continue
        if "/migrations/" in relative:
            continue
        source = path.read_text()
        if WRITE.search(source):
            writers.append(relative)
            if "project_changed(" not in source:
                silent.append(relative)
    # Then each one that writes those rows also bumps the project's version
    assert "annotation/services/projects.py" in writers
    assert silent == []


def test_the_admin_outdates_the_cache_for_every_cached_model():
    for model in CACHED_MODELS:
        assert isinstance(admin.site._registry[model], ProjectCacheAdmin), model


@pytest.mark.parametrize(
    ("backend", "alias"),
    [
        (None, ""),
        ("django.core.cache.backends.locmem.LocMemCache", ""),
        ("django.core.cache.backends.dummy.DummyCache", ""),
        ("django.core.cache.backends.db.DatabaseCache", ""),
        ("django.core.cache.backends.redis.RedisCache", "default"),
        ("django.core.cache.backends.memcached.PyMemcacheCache", "default"),
    ],
)
def test_the_hot_path_caches_only_in_a_cache_every_process_shares(backend, alias):
    # Given the settings read with a cache backend (none: the embedded default's local memory)
    import subprocess
    import sys

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CACHE_BACKEND", "LABELGATE_HOTPATH_CACHE"}
    }
    if backend:
        env["CACHE_BACKEND"] = backend
    code = "import config.settings as s; print(repr(s.LABELGATE_HOTPATH_CACHE))"
    # When the hot path's cache alias is chosen; then it is the shared cache or none
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == repr(alias)


@pytest.mark.django_db(transaction=True)
def test_a_read_later_in_the_writers_own_transaction_sees_the_change(shared_cache):
    # Given a project whose label choices a request has cached
    project = make_project(labels=("cat", "dog"))
    assert label_choices(project=project) == {"cat", "dog"}
    with transaction.atomic():
        # When a label is added and the same transaction reads the choices again (an uncommitted read is
        # never stored, but a stored entry would be served unless the version moved with the write)
        label_add(project=project, author=project.created_by, value="bird")
        # Then it reads its own write, not the entry cached before it
        assert label_choices(project=project) == {"cat", "dog", "bird"}


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_caches_the_old_rows_before_the_commit_is_outdated_by_the_commit(shared_cache):
    # Given a project whose label choices are cached
    project = make_project(labels=("cat", "dog"))
    assert label_choices(project=project) == {"cat", "dog"}

    def other_request() -> set[str]:
        try:
            return label_choices(project=project)
        finally:
            connection.close()

    with transaction.atomic():
        label_add(project=project, author=project.created_by, value="bird")
        # When another request, on its own connection, reads the committed rows after the write but before
        # the commit, and caches them
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(other_request).result() == {"cat", "dog"}
    # Then after the commit nobody is served that entry
    assert label_choices(project=project) == {"cat", "dog", "bird"}
