"""Free-text search on the item list (``?q=``): the same items for the same data on PostgreSQL (the suite's
database) and on the embedded SQLite default (a child process on a fresh SQLite file), answered from the search
index on both. Expected sets are written by hand from the rows below."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

ROWS = [
    {
        "external_id": "a1",
        "text": "The cat sat on the mat",
        "tags": ["pets"],
        "metadata": {"source": "forum"},
    },
    {
        "external_id": "img-002",
        "text": "Dogs bark loudly",
        "tags": ["pets", "loud"],
        "metadata": {"source": "news", "city": "서울"},
    },
    {"external_id": "k3", "text": "고양이가 잔다", "tags": [], "metadata": {"note": "Catalogue entry"}},
]
OTHER_PROJECT_ROWS = [{"external_id": "x9", "text": "a cat in another project", "tags": ["pets"]}]

# query -> external ids of the searched project's items it finds
CASES = {
    "cat": ["a1", "k3"],  # "cat" itself, and the start of "Catalogue"
    "CAT sat": ["a1"],  # every word must be there, case does not matter
    "pets": ["a1", "img-002"],  # a tag
    "img-002": ["img-002"],  # an external id as written
    "002": ["img-002"],  # a part of it
    "서울": ["img-002"],  # a metadata value in Korean
    "고양이가": ["k3"],
    "forum": ["a1"],
    "source": ["a1", "img-002"],  # a metadata key
    "loud": ["img-002"],  # a tag, and the start of "loudly"
    "zebra": [],
    "!!": ["a1", "img-002", "k3"],  # no words: no search
}
EDITED_CASES = {"giraffe": ["a1"], "mat": [], "source": ["img-002"]}


def run_cases(project, other) -> dict:
    """Search every case, then edit an item (new text, metadata dropped) and search again: the index follows."""
    from annotation.models import Item
    from annotation.selectors import item_list

    def found(query):
        return sorted(item_list(project=project, q=query).values_list("external_id", flat=True))

    out = {"before": {query: found(query) for query in CASES}}
    item = Item.objects.get(project=project, external_id="a1")
    item.text = "A giraffe"
    item.metadata = {}
    item.save(update_fields=["text", "metadata"])
    Item.objects.filter(project=project, external_id="k3").delete()
    out["after"] = {query: found(query) for query in EDITED_CASES}
    return out


def seed():
    from django.contrib.auth import get_user_model

    from annotation.services.projects import LabelSpec, project_create
    from ingress.services.bulk import item_bulk_create

    manager = get_user_model().objects.create_user("search-manager", password="manager-pass-1")
    projects = []
    for name, rows in (("searched", ROWS), ("other", OTHER_PROJECT_ROWS)):
        project = project_create(
            user=manager,
            name=name,
            task_type="text_classification",
            labels=[LabelSpec(value="a"), LabelSpec(value="b")],
        )
        item_bulk_create(project=project, rows=rows)
        projects.append(project)
    return projects


def search_plan(project, query: str) -> str:
    """The database's plan for the item list searched for ``query``."""
    from annotation.selectors import item_list

    sql, params = item_list(project=project, q=query).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Few rows make a sequential scan the cheapest plan; the question is whether the index can serve.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


SQLITE_SCRIPT = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import transaction
from tests.annotation import test_item_search as t
project, other = t.seed()
with transaction.atomic():
    plan = t.search_plan(project, "cat")
print("RESULT " + json.dumps({**t.run_cases(project, other), "plan": plan}))
"""


def expected() -> dict:
    return {"before": {q: sorted(ids) for q, ids in CASES.items()}, "after": EDITED_CASES}


@pytest.mark.django_db(transaction=True)
def test_search_finds_the_same_items_on_postgresql_from_the_gin_index():
    # Given the rows above in one project and a cat in another, on the suite's PostgreSQL
    assert connection.vendor == "postgresql"
    project, other = seed()
    # When each case is searched, and again after an edit and a delete
    out = run_cases(project, other)
    # Then the hand-written sets come back, never the other project's item
    assert out == expected()


@pytest.mark.django_db(transaction=True)
def test_search_on_postgresql_reads_the_gin_index_not_every_item():
    # Given a project of 1,000 items, one of them with a rare word, analysed
    from django.db import transaction

    from annotation.services.projects import LabelSpec, project_create
    from ingress.services.bulk import item_bulk_create
    from tests.factories import UserFactory

    project = project_create(
        user=UserFactory(),
        name="plan",
        task_type="text_classification",
        labels=[LabelSpec(value="a"), LabelSpec(value="b")],
    )
    rows = [{"external_id": f"r{i}", "text": f"common words number {i}"} for i in range(999)]
    item_bulk_create(project=project, rows=[*rows, {"external_id": "rare", "text": "an axolotl"}])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotation_item")
    # When PostgreSQL plans the searched item list
    with transaction.atomic():
        plan = search_plan(project, "axolotl")
    # Then the GIN expression index answers it
    assert "item_search_idx" in plan, plan


def test_search_finds_the_same_items_on_sqlite_from_the_fts5_table(tmp_path):
    # Given the same rows on a fresh embedded SQLite database (migrated there, so the FTS5 triggers exist)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELGATE_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LABELGATE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    # When each case is searched there
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith("RESULT ")).split(" ", 1)[1]
    )
    # Then the same sets as on PostgreSQL, and the plan reads the FTS5 table's index, not every item
    plan = out.pop("plan")
    assert out == expected()
    assert "VIRTUAL TABLE INDEX" in plan and "annotation_item_fts" in plan, plan


@pytest.mark.django_db
def test_the_item_list_api_searches_with_q_combined_with_its_filters(api):
    # Given the rows above, a manager of the searched project
    from django.contrib.auth import get_user_model

    project, _ = seed()
    client = api(get_user_model().objects.get(username="search-manager"))

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/projects/{project.pk}/items/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["external_id"] for row in response.json()["results"])

    # When ?q= is given, alone and with the tag filter
    # Then the items holding every word come back, narrowed by the other filters; an empty q searches nothing
    assert ids("q=cat") == ["a1", "k3"]
    assert ids("q=pets&tag=loud") == ["img-002"]
    assert ids("q=%EC%84%9C%EC%9A%B8") == ["img-002"]
    assert ids("q=") == ["a1", "img-002", "k3"]
    assert client.get(f"/api/projects/{project.pk}/items/?q={'x' * 201}").status_code == 400
