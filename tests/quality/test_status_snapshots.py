"""Daily snapshots of items by status (``quality.status_snapshot``, run by Celery beat) and the dashboard's
items-over-time chart drawn from them: idempotent upserts, hand-counted statuses, CSV equal to the API and the
stored rows."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation.models import Item, ItemStatus, Role
from ingress.models import ImportBatch
from quality import tasks
from quality.dashboard import selectors
from quality.models import ProjectDashboardSnapshot, ProjectStatusSnapshot
from quality.services import project_status_snapshot_take
from tests.factories import add_items, add_member, make_project
from tests.quality.dashboard_seed import seed_project
from tests.quality.test_dashboard_page import QUERIES_COLD, QUERIES_STORED
from tests.quality.vote_builders import items_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _set_statuses(project, statuses: list[str]) -> None:
    for item, status in zip(items_of(project), statuses, strict=True):
        Item.objects.filter(pk=item.pk).update(status=status)


def _stored(project) -> list[tuple]:
    return list(
        ProjectStatusSnapshot.objects.filter(project=project)
        .order_by("day", "status")
        .values_list("id", "day", "status", "count")
    )


def test_the_beat_schedule_runs_the_snapshot_tasks():
    entry = settings.CELERY_BEAT_SCHEDULE["labelgate-status-snapshot"]
    assert entry["task"] == tasks.status_snapshot.name == "quality.status_snapshot"
    entry = settings.CELERY_BEAT_SCHEDULE["labelgate-dashboard-snapshot"]
    assert entry["task"] == tasks.dashboard_snapshot.name == "quality.dashboard_snapshot"
    # often enough that a stored snapshot is used: three runs fit in its maximum age
    assert 3 * entry["schedule"] <= selectors.STORED_MAX_AGE.total_seconds()


def test_the_snapshot_counts_each_status_and_running_it_again_changes_nothing():
    # Given a project of 7 items in hand-set statuses, and a project without items
    project = make_project()
    add_items(project, 7)
    _set_statuses(project, ["new", "new", "new", "needs_review", "needs_review", "accepted", "discarded"])
    empty = make_project()
    # When the beat task runs, and runs again
    tasks.status_snapshot()
    first = _stored(project)
    tasks.status_snapshot()
    # Then today has one row per status with the hand-counted items, the same rows after the second run
    today = timezone.now().date()
    assert _stored(project) == first
    assert {status: n for _, day, status, n in first if day == today} == {
        "new": 3,
        "in_progress": 0,
        "labelled": 0,
        "needs_review": 2,
        "accepted": 1,
        "discarded": 1,
    }
    assert len(first) == len(ItemStatus.values) and not _stored(empty)
    # And a later run the same day updates those rows in place (same ids), never adding any
    _set_statuses(project, ["accepted"] * 7)
    tasks.status_snapshot()
    assert [(pk, status, n) for pk, _, status, n in _stored(project)] == [
        (pk, status, 7 if status == "accepted" else 0) for pk, _, status, _ in first
    ]


def test_the_progress_chart_shows_every_status_from_snapshots_and_today_live(client, api):
    # Given 6 items imported three days ago; snapshots two days ago and yesterday; statuses changed since
    project = make_project()
    add_items(project, 6)
    now = timezone.now()
    today = now.date()
    ImportBatch.objects.filter(project=project).update(created_at=now - timedelta(days=3))
    _set_statuses(project, ["new"] * 4 + ["labelled"] * 2)
    project_status_snapshot_take(project_id=project.pk, day=today - timedelta(days=2), taken_at=now)
    _set_statuses(project, ["new", "new", "in_progress", "labelled", "needs_review", "discarded"])
    project_status_snapshot_take(project_id=project.pk, day=today - timedelta(days=1), taken_at=now)
    _set_statuses(project, ["new", "in_progress", "labelled", "needs_review", "accepted", "accepted"])
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    # When the progress CSV is downloaded
    response = client.get(f"/projects/{project.pk}/dashboard/?csv=progress")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # Then there is a row per day: before the snapshots only dates (nothing accepted or discarded, the other
    # statuses unknown), then each day's stored rows, and today the API's live counts
    assert [r["day"] for r in rows] == [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    assert [r["counts_from"] for r in rows] == ["dates", "snapshot", "snapshot", "live"]
    assert [int(r["imported"]) for r in rows] == [6, 6, 6, 6]
    assert {s: rows[0][s] for s in ItemStatus.values} == {
        "new": "",
        "in_progress": "",
        "labelled": "",
        "needs_review": "",
        "accepted": "0",
        "discarded": "0",
    }
    stored = {}
    for _, day, status, n in _stored(project):
        stored.setdefault(day.isoformat(), {})[status] = n
    for row in rows[1:3]:
        assert {s: int(row[s]) for s in ItemStatus.values} == stored[row["day"]]
    assert stored[rows[1]["day"]] == {
        "new": 4,
        "in_progress": 0,
        "labelled": 2,
        "needs_review": 0,
        "accepted": 0,
        "discarded": 0,
    }
    counts = api(reviewer).get(f"/api/projects/{project.pk}/").json()["counts"]
    assert (
        {s: int(rows[3][s]) for s in ItemStatus.values}
        == {s: counts[s] for s in ItemStatus.values}
        == {"new": 1, "in_progress": 1, "labelled": 1, "needs_review": 1, "accepted": 2, "discarded": 0}
    )
    # And the chart draws a line per status (plus imported), its note naming the first snapshot day; today's
    # point of a status links to the items in that status now
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    chart = html[html.index('id="chart-progress"') :]
    chart = chart[: chart.index("</svg>")]
    assert re.findall(r'<g class="series" data-series="([^"]+)"', chart) == ["imported", *ItemStatus.values]
    assert f"from daily snapshots since {rows[1]['day']}" in html
    today_links = dict(
        re.findall(r'<a href="([^"]+)" class="chart-link" data-series="(new|needs_review)"', chart)
    )
    assert {series: unescape(href) for href, series in today_links.items()} == {
        "new": f"/projects/{project.pk}/items/?status=new",
        "needs_review": f"/projects/{project.pk}/items/?status=needs_review",
    }
    listed = client.get(f"/projects/{project.pk}/items/?status=needs_review").content.decode()
    assert re.search(r'data-count="(\d+)"', listed).group(1) == "1"


def _table(client, pid, name) -> list[dict]:
    response = client.get(f"/projects/{pid}/dashboard/?csv={name}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def _render(client, pid) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/projects/{pid}/dashboard/")
    assert response.status_code == 200
    return response.content.decode(), len(captured.captured_queries)


def test_a_large_project_is_drawn_from_its_stored_dashboard_snapshot_equal_to_the_api(
    client, api, monkeypatch
):
    # Given a seeded project that counts as large, a small one, and both status snapshots taken
    monkeypatch.setattr(selectors, "LARGE_COUNT", 150)
    seeded = seed_project(n_items=200, seed=5, days=20)
    pid = seeded.project.pk
    small = make_project()
    add_items(small, 3)
    tasks.status_snapshot()
    # When the dashboard-snapshot task runs, twice
    assert tasks.dashboard_snapshot()["projects"] == 1
    first = ProjectDashboardSnapshot.objects.get(project=seeded.project)
    assert tasks.dashboard_snapshot()["projects"] == 1
    # Then the large project has one row (replaced in place), the small one none
    assert list(
        ProjectDashboardSnapshot.objects.filter(project__in=[seeded.project, small]).values_list(
            "pk", flat=True
        )
    ) == [first.pk]
    stored = ProjectDashboardSnapshot.objects.get(project=seeded.project)
    # And the page is drawn from it (one query for every item-wide aggregate), saying from when
    client.force_login(seeded.reviewer)
    html, queries = _render(client, pid)
    assert queries == QUERIES_STORED
    assert f"item counts as of {timezone.localtime(stored.taken_at):%H:%M}" in html
    # with the API's numbers and the seeded ones
    reviewer_api = api(seeded.reviewer)
    counts = reviewer_api.get(f"/api/projects/{pid}/").json()["counts"]
    assert (
        {r["status"]: int(r["items"]) for r in _table(client, pid, "status")}
        == {s: counts[s] for s in ItemStatus.values}
        == seeded.status_counts
    )
    assert f'id="total-items">{counts["total"]}<' in html
    problems = {r["problem"]: int(r["items"]) for r in _table(client, pid, "problems") if r["items"]}
    open_issues = reviewer_api.get(
        f"/api/projects/{pid}/items/?has_issue=true&status=new,in_progress,labelled,needs_review"
    ).json()["count"]
    assert problems["open label issues now"] == open_issues > 0
    assert (
        problems["items in the review queue now"]
        == reviewer_api.get(f"/api/projects/{pid}/review-queue/").json()["count"]
    )
    kinds = {r["reason"]: int(r["items"]) for r in _table(client, pid, "issue_kinds")}
    issue_kinds = Item.objects.filter(project=seeded.project, is_label_issue=True).values_list(
        "issue_kinds", flat=True
    )
    assert kinds["model disagrees"] == sum("model_disagrees" in k for k in issue_kinds) > 0
    assert {
        r["reason"]: int(r["items"]) for r in _table(client, pid, "discard_reasons")
    } == seeded.discard_reasons
    activity = _table(client, pid, "activity")
    assert {
        r["day"]: int(r["annotations"]) for r in activity if int(r["annotations"])
    } == seeded.annotations_per_day
    progress = _table(client, pid, "progress")
    assert progress[-1]["counts_from"] == "stored" and int(progress[-1]["accepted"]) == counts["accepted"]
    # When an item is discarded meanwhile, the page keeps the stored counts (and their time) until the next run
    item = Item.objects.filter(project=seeded.project, status=ItemStatus.NEW).first()
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.DISCARDED)
    assert (
        int(next(r for r in _table(client, pid, "status") if r["status"] == "discarded")["items"])
        == counts["discarded"]
    )
    tasks.dashboard_snapshot()
    assert (
        int(next(r for r in _table(client, pid, "status") if r["status"] == "discarded")["items"])
        == counts["discarded"] + 1
    )
    # And a snapshot older than STORED_MAX_AGE is ignored: live numbers, no stored time, the cold query count
    # plus the look-up of the stored row
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.NEW)
    ProjectDashboardSnapshot.objects.filter(project=seeded.project).update(
        taken_at=timezone.now() - selectors.STORED_MAX_AGE - timedelta(minutes=1)
    )
    html, queries = _render(client, pid)
    assert "item counts as of" not in html and queries == QUERIES_COLD + 1
    assert {r["status"]: int(r["items"]) for r in _table(client, pid, "status")} == seeded.status_counts
    assert _table(client, pid, "progress")[-1]["counts_from"] == "live"
