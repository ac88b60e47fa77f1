"""The dashboard on a seeded 100,000-item project (PostgreSQL only: seeding takes minutes on SQLite): every panel
renders, with the same query count as the small project and the API's numbers, read live and, once the beat
tasks have run, from the stored dashboard snapshot."""

import csv
import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Item, ItemStatus
from quality import tasks
from quality.dashboard.selectors import LARGE_COUNT
from tests.quality.dashboard_seed import seed_project
from tests.quality.test_dashboard_page import PANELS, QUERIES_COLD, QUERIES_STORED, QUERIES_WARM, SECTIONS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_100k_item_project_renders_every_panel_with_the_pinned_query_count(client, api):
    cache.clear()
    seeded = seed_project(n_items=100_000, seed=7, days=90)
    pid = seeded.project.pk
    client.force_login(seeded.reviewer)
    # Warm renders of a large project also take the counts by status (and the label-issue counts, when there are
    # that many issues) from the short-lived cache.
    n_issues = Item.objects.filter(project=seeded.project, is_label_issue=True).count()
    warm = QUERIES_WARM - 1 - (n_issues >= LARGE_COUNT)
    for expected in (QUERIES_COLD, warm):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/projects/{pid}/dashboard/")
        assert response.status_code == 200
        assert len(captured.captured_queries) == expected
    html = response.content.decode()
    for anchor in SECTIONS + PANELS:
        assert f'id="{anchor}"' in html, anchor
    # Drawn charts, not their empty-state messages
    for chart in (
        "chart-status",
        "chart-progress",
        "chart-agreement",
        "chart-hlp-tag",
        "chart-confusion",
        "chart-learning-curve",
        "chart-flags",
        "chart-discards",
    ):
        assert f'<svg class="chart" id="{chart}"' in html, chart
    assert 'id="total-items">100000<' in html
    counts = api(seeded.reviewer).get(f"/api/projects/{pid}/").json()["counts"]

    def table(name):
        body = client.get(f"/projects/{pid}/dashboard/?csv={name}").content.decode()
        return list(csv.DictReader(io.StringIO(body)))

    assert {r["status"]: int(r["items"]) for r in table("status")} == {
        s: counts[s] for s in ItemStatus.values
    }
    assert {s: counts[s] for s in ItemStatus.values} == seeded.status_counts
    assert {r["flag"]: int(r["items"]) for r in table("flags")} == seeded.flag_counts
    progress = table("progress")
    assert int(progress[-1]["imported"]) == 100_000
    assert int(progress[-1]["accepted"]) == seeded.status_counts["accepted"]
    assert sum(int(r["annotations"]) for r in table("activity")) == seeded.n_annotations
    quality = api(seeded.reviewer).get(f"/api/projects/{pid}/quality/").json()
    assert float(table("agreement_over_time")[-1]["krippendorff_alpha"]) == pytest.approx(
        quality["krippendorff_alpha"]
    )
    live = {
        name: table(name)
        for name in (
            "status",
            "progress",
            "activity",
            "annotators",
            "problems",
            "issue_kinds",
            "discard_reasons",
        )
    }
    # Once the beat tasks have run, the page reads the stored snapshot instead: fewer queries, the same numbers
    cache.clear()
    tasks.status_snapshot()
    assert tasks.dashboard_snapshot()["projects"] >= 1
    with CaptureQueriesContext(connection) as captured:
        html = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert len(captured.captured_queries) == QUERIES_STORED and 'id="stored-at"' in html
    for name, rows in live.items():
        stored = table(name)
        if name == "progress":  # today's counts: "stored" instead of "live"
            assert stored[-1].pop("counts_from") == "stored" and rows[-1].pop("counts_from") == "live"
        assert stored == rows, name
    cache.clear()
