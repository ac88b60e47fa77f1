"""The project dashboard: access, every panel on an empty and a seeded project, numbers equal to the API's,
CSV downloads, and a pinned query count."""

import csv
import io
import re
from datetime import date, datetime
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation.models import Annotation, ItemStatus, Role
from quality.dashboard.tables import TABLES
from tests.factories import UserFactory, add_member, make_project
from tests.quality.dashboard_seed import DISCARD_REASONS, LABELS, TAGS, seed_project

pytestmark = pytest.mark.django_db

SECTIONS = ("progress", "labels", "agreement", "hlp", "errors", "active-learning", "ingress", "problems")
PANELS = (
    "panel-status",
    "panel-progress",
    "panel-activity",
    "panel-annotators",
    "panel-labels",
    "panel-labels-by-annotator",
    "panel-confusion",
    "panel-agreement-over-time",
    "panel-agreement-by-version",
    "panel-agreement-by-label",
    "panel-hlp-label",
    "panel-hlp-tag",
    "panel-learning-curve",
    "panel-stability",
    "panel-batches",
    "panel-flags",
    "panel-issue-kinds",
    "panel-discards",
)
# session + user, membership, status counts, labels, batches per day, status snapshots, annotations per day (+ their
# annotators' names), decisions per day, report history, latest report, annotator rows, model versions, batches,
# batch flags, unsummarised flags, issue counts, review queue count, discard reasons, duplicate scan.
QUERIES_COLD = 21
QUERIES_WARM = QUERIES_COLD - 3  # annotations and decisions per day come from the cache
# A large project with a recent stored dashboard snapshot: one query for that row instead of the status counts,
# annotations per day (+ names), decisions per day, issue counts, review queue count and discard reasons; no cache
# involved.
QUERIES_STORED = QUERIES_COLD - 6


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seeded 400-item project shared by the read-only tests of this module."""
    with django_db_blocker.unblock():
        data = seed_project(n_items=400, seed=3, days=30)
    yield data
    with django_db_blocker.unblock():
        users = [data.manager, data.reviewer, *data.annotators]
        data.project.delete()
        for user in users:
            user.delete()


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def _item_count(html: str) -> int:
    """The item total the dashboard's filtered list shows."""
    match = re.search(r'data-count="(\d+)"', html)
    assert match, html[:500]
    return int(match.group(1))


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# --- access ---------------------------------------------------------------------------------------------------


def test_reviewers_and_managers_see_the_dashboard_annotators_get_403_and_strangers_404(client):
    project = make_project()
    reviewer, annotator = add_member(project, Role.REVIEWER), add_member(project, Role.ANNOTATOR)
    for url in (
        f"/projects/{project.pk}/dashboard/",
        f"/projects/{project.pk}/dashboard/?csv=status",
        f"/projects/{project.pk}/items/",
    ):
        assert _get(client, project.created_by, url).status_code == 200
        assert _get(client, reviewer, url).status_code == 200
        assert _get(client, annotator, url).status_code == 403
        assert _get(client, UserFactory(), url).status_code == 404
        client.logout()
        assert client.get(url).status_code == 302  # to the login page
    assert _get(client, UserFactory(), "/projects/999999/dashboard/").status_code == 404


def test_project_page_links_reviewers_to_the_dashboard_but_not_annotators(client):
    project = make_project()
    reviewer, annotator = add_member(project, Role.REVIEWER), add_member(project, Role.ANNOTATOR)
    html = _get(client, reviewer, f"/projects/{project.pk}/").content.decode()
    assert 'id="dashboard-panel"' in html and f'href="/projects/{project.pk}/dashboard/"' in html
    assert 'id="dashboard-panel"' not in _get(client, annotator, f"/projects/{project.pk}/").content.decode()


# --- every panel renders ----------------------------------------------------------------------------------------


def test_every_panel_renders_on_an_empty_project(client):
    project = make_project()
    response = _get(client, project.created_by, f"/projects/{project.pk}/dashboard/")
    html = response.content.decode()
    assert response.status_code == 200
    for anchor in SECTIONS + PANELS:
        assert f'id="{anchor}"' in html, anchor
    assert 'id="no-report"' in html and 'id="total-items">0<' in html
    assert "No items yet." in html and "No quality run yet." in html and "No model yet." in html
    # every CSV still downloads, with its header and no rows (status and problems list their categories)
    for name in TABLES:
        rows = _csv(client.get(f"/projects/{project.pk}/dashboard/?csv={name}"))
        if name == "status":
            assert {r["status"]: r["items"] for r in rows} == {s: "0" for s in ItemStatus.values}
        elif name not in ("problems", "issue_kinds"):
            assert rows == [], name


def test_every_panel_renders_with_charts_on_a_seeded_project(client, seeded):
    html = _get(client, seeded.reviewer, f"/projects/{seeded.project.pk}/dashboard/").content.decode()
    for anchor in SECTIONS + PANELS:
        assert f'id="{anchor}"' in html, anchor
    for chart in (
        "chart-status",
        "chart-progress",
        "chart-activity",
        "chart-labels",
        "chart-labels-by-annotator",
        "chart-confusion",
        "chart-agreement",
        "chart-agreement-version",
        "chart-agreement-label",
        "chart-hlp-label",
        "chart-hlp-tag",
        "chart-learning-curve",
        "chart-stability",
        "chart-flags",
        "chart-issue-kinds",
        "chart-discards",
    ):
        assert f'<svg class="chart" id="{chart}"' in html, chart
    assert 'id="no-report"' not in html and 'id="error-table"' in html and 'id="batch-table"' in html
    # the seeded α band: 12 runs, each with an interval → one closed band path per series
    assert html.count('class="band"') == 2
    # the newest model's strategy is the current one; the last batch carries a drift alert
    assert 'id="current-strategy">entropy<' in html
    assert 'id="drift-alert"' in html and "text length is longer than before" in html


def test_status_charts_say_statuses_in_words_and_keep_the_codes_for_links(client, seeded):
    html = _get(client, seeded.reviewer, f"/projects/{seeded.project.pk}/dashboard/").content.decode()
    bars = html[html.index('id="chart-status"') :]
    bars = bars[: bars.index("</svg>")]
    shown = [unescape(t) for t in re.findall(r'<text class="axis-label"[^>]*>([^<]+)</text>', bars)]
    # written out by hand: what the project page calls each status
    assert shown == ["new", "in progress", "labelled", "needs review", "accepted", "discarded"]
    assert 'data-label="needs_review"' in bars and 'data-label="in_progress"' in bars
    lines = html[html.index('id="chart-progress"') :]
    legend = lines[lines.index('<p class="legend') :]
    legend = legend[: legend.index("</p>")]
    assert "in progress" in legend and "needs review" in legend and "_" not in re.sub(r"<[^>]+>", "", legend)


# --- numbers equal the API's -----------------------------------------------------------------------------------


def test_status_counts_equal_the_project_api(client, api, seeded):
    pid = seeded.project.pk
    counts = api(seeded.reviewer).get(f"/api/projects/{pid}/").json()["counts"]
    rows = _csv(_get(client, seeded.reviewer, f"/projects/{pid}/dashboard/?csv=status"))
    assert {r["status"]: int(r["items"]) for r in rows} == {s: counts[s] for s in ItemStatus.values}
    assert {s: counts[s] for s in ItemStatus.values} == seeded.status_counts
    html = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert f'id="total-items">{counts["total"]}<' in html
    queue = api(seeded.reviewer).get(f"/api/projects/{pid}/review-queue/").json()["count"]
    assert f'id="review-queue-now" data-count="{queue}">{queue}<' in html


def test_agreement_and_label_figures_equal_the_quality_api(client, api, seeded):
    pid = seeded.project.pk
    report = api(seeded.reviewer).get(f"/api/projects/{pid}/quality/").json()
    over_time = _csv(_get(client, seeded.reviewer, f"/projects/{pid}/dashboard/?csv=agreement_over_time"))
    assert len(over_time) == 12
    assert float(over_time[-1]["krippendorff_alpha"]) == pytest.approx(report["krippendorff_alpha"])
    assert float(over_time[-1]["alpha_ci_low"]) == pytest.approx(report["krippendorff_alpha_ci_low"])
    assert float(over_time[-1]["fleiss_kappa"]) == pytest.approx(report["fleiss_kappa"])
    # seeded α rises linearly from 0.45 to 0.75 over the 12 runs
    assert [round(float(r["krippendorff_alpha"]), 4) for r in over_time] == [
        round(0.45 + 0.3 * i / 11, 4) for i in range(12)
    ]
    html = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert f'id="headline-alpha">{report["krippendorff_alpha"]:.3f}<' in html
    labels = _csv(client.get(f"/projects/{pid}/dashboard/?csv=labels"))
    assert [r["label"] for r in labels] == list(LABELS)
    assert {r["label"]: int(r["consensus_items"]) for r in labels} == {
        label: row["n_consensus"] for label, row in report["per_label"].items()
    }
    hlp = _csv(client.get(f"/projects/{pid}/dashboard/?csv=hlp_by_tag"))
    assert {r["tag"]: float(r["hlp"]) for r in hlp} == pytest.approx(
        {tag: row["hlp"] for tag, row in report["per_tag"].items()}
    )


def test_imbalance_warning_reads_the_consensus_shares(client, api, seeded):
    # seeded consensus shares are about 50/25/15/7/3 %: cat vs other is well over 10× → a warning
    per_label = api(seeded.reviewer).get(f"/api/projects/{seeded.project.pk}/quality/").json()["per_label"]
    counts = {label: row["n_consensus"] for label, row in per_label.items()}
    total = sum(counts.values())
    html = _get(client, seeded.reviewer, f"/projects/{seeded.project.pk}/dashboard/").content.decode()
    assert 'id="imbalance" class="warn"' in html
    assert (
        f"“cat” has {100 * counts['cat'] / total:.0f} % of the consensus labels, "
        f"“other” {100 * counts['other'] / total:.1f} % ({counts['cat'] / counts['other']:.0f}× fewer)"
    ) in html


def test_error_analysis_is_sorted_by_potential_gain_with_a_reading(client, seeded):
    rows = _csv(_get(client, seeded.reviewer, f"/projects/{seeded.project.pk}/dashboard/?csv=error_analysis"))
    # gap per tag t is 100 · ((0.9 − 0.1 t) − (0.88 − 0.15 t)) = 2 + 5 t points; gain = gap × share
    expected = sorted(((2 + 5 * t) * share, tag) for t, (tag, share) in enumerate(TAGS.items()))[::-1]
    assert [r["tag"] for r in rows] == [tag for _, tag in expected]
    assert [float(r["potential_gain_points"]) for r in rows] == pytest.approx([gain for gain, _ in expected])
    assert rows[0]["reading"] == "indoor: 30 % of data, gap 7.0 points → at most 2.10 points overall"


def test_flag_and_discard_counts_equal_the_seeded_ones_and_the_item_list(client, api, seeded):
    pid = seeded.project.pk
    flags = _csv(_get(client, seeded.reviewer, f"/projects/{pid}/dashboard/?csv=flags"))
    assert {r["flag"]: int(r["items"]) for r in flags} == seeded.flag_counts
    for flag, n in seeded.flag_counts.items():
        assert api(seeded.reviewer).get(f"/api/projects/{pid}/items/?flag={flag}").json()["count"] == n
    reasons = _csv(client.get(f"/projects/{pid}/dashboard/?csv=discard_reasons"))
    assert {r["reason"]: int(r["items"]) for r in reasons} == seeded.discard_reasons
    assert set(seeded.discard_reasons) <= set(DISCARD_REASONS)
    problems = {
        r["problem"]: r["items"] for r in _csv(client.get(f"/projects/{pid}/dashboard/?csv=problems"))
    }
    queue = api(seeded.reviewer).get(f"/api/projects/{pid}/review-queue/").json()["count"]
    assert int(problems["items in the review queue now"]) == queue
    assert int(problems["discarded"]) == seeded.status_counts["discarded"]
    assert problems["exact duplicates"] == "7"  # the newest of the 8 seeded import jobs stored 7
    open_issues = (
        api(seeded.reviewer)
        .get(f"/api/projects/{pid}/items/?has_issue=true&status=new,in_progress,labelled,needs_review")
        .json()["count"]
    )
    assert int(problems["open label issues now"]) == open_issues > 0


def test_discard_reason_bars_link_to_lists_of_the_bars_size(client, seeded):
    pid = seeded.project.pk
    html = _get(client, seeded.reviewer, f"/projects/{pid}/dashboard/").content.decode()
    chart = html[html.index('id="chart-discards"') :]
    bars = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-label="([^"]+)" data-value="(\d+)"',
        chart[: chart.index("</svg>")],
    )
    assert {label: int(n) for _, label, n in bars} == seeded.discard_reasons
    for href, label, n in bars:
        url = unescape(href)
        assert url == f"/projects/{pid}/items/?{urlencode({'discard_reason': label})}"
        assert _item_count(client.get(url).content.decode()) == int(n)


def test_annotator_batch_and_model_figures_equal_their_apis(client, api, seeded):
    pid = seeded.project.pk
    reviewer_api = api(seeded.reviewer)
    client.force_login(seeded.reviewer)
    # annotators: the latest run's figures, row for row (GET /api/projects/{pid}/annotators/)
    from_api = reviewer_api.get(f"/api/projects/{pid}/annotators/?page_size=1000").json()["results"]
    table = {r["annotator"]: r for r in _csv(client.get(f"/projects/{pid}/dashboard/?csv=annotators"))}
    assert len(from_api) == 12 and set(table) == {r["username"] for r in from_api}
    for row in from_api:
        mine = table[row["username"]]
        assert int(mine["run_annotations"]) == row["n_annotations"]
        assert float(mine["agreement_with_consensus"]) == pytest.approx(
            row["agreement_with_consensus"], abs=1e-6
        )
        assert float(mine["median_lead_time_s"]) == pytest.approx(row["median_lead_time_s"], abs=1e-6)
        assert float(mine["quality_score"]) == pytest.approx(row["quality_score"], abs=1e-6)
    # batches (GET /api/projects/{pid}/batches/), newest first
    from_api = reviewer_api.get(f"/api/projects/{pid}/batches/").json()["results"]
    batches = _csv(client.get(f"/projects/{pid}/dashboard/?csv=batches"))
    assert [int(b["batch"]) for b in batches] == [b["number"] for b in from_api] == list(range(8, 0, -1))
    for mine, row in zip(batches, from_api, strict=True):
        created = timezone.localtime(datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")))
        assert (mine["created_at"], mine["source"]) == (created.strftime("%Y-%m-%d %H:%M"), row["source"])
        assert [int(mine[k]) for k in ("items", "duplicates", "errors", "flagged", "drift_alerts")] == [
            row["n_created"],
            row["n_duplicates"],
            row["n_errors"],
            sum(row["profile_summary"]["flags"].values()),
            len(row["drift"]),
        ]
    # active learning: the latest model (GET /api/projects/{pid}/model/)
    model = reviewer_api.get(f"/api/projects/{pid}/model/").json()
    latest = _csv(client.get(f"/projects/{pid}/dashboard/?csv=stability"))[-1]
    assert (int(latest["version"]), int(latest["n_train"]), latest["strategy"]) == (
        model["version"],
        model["n_train"],
        model["strategy"],
    )
    assert float(latest["cv_accuracy"]) == pytest.approx(model["cv_accuracy"], abs=1e-6)
    assert float(latest["changed_share"]) == pytest.approx(model["stability"]["changed_share"], abs=1e-6)
    assert float(latest["kappa_vs_previous"]) == pytest.approx(
        model["stability"]["kappa_vs_previous"], abs=1e-6
    )
    curve = _csv(client.get(f"/projects/{pid}/dashboard/?csv=learning_curve"))
    for kind, points in (("measured", model["learning_curve"]), ("projected", model["projection"]["points"])):
        rows = [r for r in curve if r["kind"] == kind]
        assert [int(r["n_labels"]) for r in rows] == [p["n"] for p in points] and points
        assert [float(r["accuracy"]) for r in rows] == pytest.approx(
            [p["accuracy"] for p in points], abs=1e-6
        )
    html = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert f"Model v{model['version']} · {model['n_train']} labels" in html
    assert f"<strong>{100 * model['cv_accuracy']:.1f} %</strong>" in html


def test_progress_series_equal_the_seeded_dates(client, seeded):
    pid = seeded.project.pk
    progress = _csv(_get(client, seeded.reviewer, f"/projects/{pid}/dashboard/?csv=progress"))
    activity = _csv(client.get(f"/projects/{pid}/dashboard/?csv=activity"))
    # one row per day from the first event to today; imported is cumulative, annotations per day are not
    days = [r["day"] for r in progress]
    assert (
        days == sorted(days) and days[-1] == timezone.now().date().isoformat() and len(set(days)) == len(days)
    )
    running, expected_imported = 0, []
    for day in days:
        running += seeded.items_per_day.get(day, 0)
        expected_imported.append(running)
    assert [int(r["imported"]) for r in progress] == expected_imported
    assert expected_imported[-1] == seeded.n_items
    assert int(progress[-1]["accepted"]) == seeded.status_counts["accepted"]
    assert int(progress[-1]["discarded"]) == seeded.status_counts["discarded"]
    assert {
        r["day"]: int(r["annotations"]) for r in activity if int(r["annotations"])
    } == seeded.annotations_per_day
    annotators = _csv(client.get(f"/projects/{pid}/dashboard/?csv=annotators"))
    assert sum(int(r["annotations"]) for r in annotators) == seeded.n_annotations


def _chart_links(html: str, chart_id: str) -> list[tuple[str, str]]:
    """(series, href) of every linked point of a line chart."""
    chart = html[html.index(f'id="{chart_id}"') :]
    chart = chart[: chart.index("</svg>")]
    return [
        (unescape(series), unescape(href))
        for href, series in re.findall(r'<a href="([^"]+)" class="chart-link" data-series="([^"]+)"', chart)
    ]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _annotated_items(project, first: date | None, last: date) -> int:
    """Items with an annotation on the days ``first``..``last`` (UTC, the test settings' zone)."""
    annotations = Annotation.objects.filter(project=project, created_at__date__lte=last)
    if first is not None:
        annotations = annotations.filter(created_at__date__gte=first)
    return annotations.values("item").distinct().count()


def test_progress_and_activity_points_link_to_the_items_of_their_day(client, seeded):
    # Given the seeded project (batches, annotations and decisions on known days, no status snapshots)
    pid = seeded.project.pk
    html = _get(client, seeded.reviewer, f"/projects/{pid}/dashboard/").content.decode()
    progress = _csv(client.get(f"/projects/{pid}/dashboard/?csv=progress"))
    today = timezone.now().date().isoformat()
    # When the progress chart is drawn: every imported/accepted/discarded point links to its day's items; with no
    # snapshot, the other statuses have only today's live point, linking to the items in that status now
    links = _chart_links(html, "chart-progress")
    per_series = {name: [u for s, u in links if s == name] for name in ("imported", *ItemStatus.values)}
    assert {name: len(urls) for name, urls in per_series.items()} == {
        "imported": len(progress),
        "accepted": len(progress),
        "discarded": len(progress),
        "new": 1,
        "in_progress": 1,
        "labelled": 1,
        "needs_review": 1,
    }
    assert [r["counts_from"] for r in progress] == ["dates"] * (len(progress) - 1) + ["live"]
    assert (
        all(r["new"] == "" for r in progress[:-1]) and int(progress[-1]["new"]) == seeded.status_counts["new"]
    )
    # Then following a link lists that day's items: imported that day, or accepted/discarded that day (the
    # cumulative line's step)
    step = {
        name: {
            row["day"]: int(row[name]) - (int(prev[name]) if prev else 0)
            for prev, row in zip([None, *progress], progress, strict=False)
        }
        for name in ("imported", "accepted", "discarded")
    }
    for name in ("imported", "accepted", "discarded"):
        days = [_query(url)["imported" if name == "imported" else "decided"] for url in per_series[name]]
        assert days == [r["day"] for r in progress]
        followed = [(day, url) for day, url in zip(days, per_series[name], strict=True) if step[name][day]][
            :4
        ]
        followed.append(
            next((day, url) for day, url in zip(days, per_series[name], strict=True) if not step[name][day])
        )
        for day, url in followed:
            if day != today:  # today's accepted/discarded are live counts, not a running total of decisions
                assert _item_count(client.get(url).content.decode()) == step[name][day], (name, day)
    assert sum(step["imported"].values()) == seeded.n_items
    for status in ("new", "needs_review"):
        (url,) = per_series[status]
        assert _item_count(client.get(url).content.decode()) == seeded.status_counts[status]
    # And each annotations-per-day column links to the items annotated that day
    chart = html[html.index('id="chart-activity"') :]
    columns = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-label="[^"]+" data-value="(\d+)"',
        chart[: chart.index("</svg>")],
    )
    assert len(columns) == len(progress)
    for href, n in [c for c in columns if int(c[1])][:3]:
        day = date.fromisoformat(_query(unescape(href))["annotated"])
        assert _item_count(client.get(unescape(href)).content.decode()) == _annotated_items(
            seeded.project, day, day
        )
        assert int(n) == seeded.annotations_per_day[day.isoformat()]


def test_agreement_points_link_to_the_runs_items_or_the_items_annotated_by_then(client, seeded):
    # Given 12 seeded runs, of which only the latest keep item rows
    from quality.services.runs import KEEP_ITEM_ROWS_FOR_REPORTS

    pid = seeded.project.pk
    html = _get(client, seeded.reviewer, f"/projects/{pid}/dashboard/").content.decode()
    runs = _csv(client.get(f"/projects/{pid}/dashboard/?csv=agreement_over_time"))
    # When the α/κ chart is drawn; then both lines link each run's point
    links = _chart_links(html, "chart-agreement")
    alpha = [u for s, u in links if s == "Krippendorff's α"]
    assert alpha == [u for s, u in links if s == "Fleiss' κ"] and len(alpha) == len(runs) == 12
    old = len(runs) - KEEP_ITEM_ROWS_FOR_REPORTS
    # the latest runs: their scored items; older ones: the items annotated up to the run's day
    assert [_query(u) for u in alpha[old:]] == [{"quality_run": r["report"]} for r in runs[old:]]
    assert [_query(u) for u in alpha[:old]] == [
        {"annotated": f"..{r['created_at'][:10]}"} for r in runs[:old]
    ]
    for url, run in list(zip(alpha, runs, strict=True))[:2]:
        last = date.fromisoformat(run["created_at"][:10])
        assert (
            _item_count(client.get(url).content.decode()) == _annotated_items(seeded.project, None, last) > 0
        )
    # And each guideline version's row label links to the items with a live annotation of that version
    chart = html[html.index('id="chart-agreement-version"') :]
    versions = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-label="v(\d+)"', chart[: chart.index("</svg>")]
    )
    assert [v for _, v in versions] == ["1", "2", "3"]
    counts = [_item_count(client.get(unescape(href)).content.decode()) for href, _ in versions]
    live_v1 = Annotation.objects.filter(project=seeded.project, is_live=True, guideline_version=1)
    assert counts == [live_v1.values("item").distinct().count(), 0, 0] and counts[0] > 0


def test_every_csv_parses_back_to_the_chart_numbers(client, seeded):
    pid = seeded.project.pk
    client.force_login(seeded.reviewer)
    for name in TABLES:
        response = client.get(f"/projects/{pid}/dashboard/?csv={name}")
        assert f"-{pid}-{name}.csv" in response["Content-Disposition"]
        rows = _csv(response)
        assert rows, name
        assert "link" not in rows[0]
    confusion = _csv(client.get(f"/projects/{pid}/dashboard/?csv=confusion"))
    # seeded confusion of annotator a: 10 + a on the diagonal, 1 + (r + c + a) mod 3 off it; 12 annotators
    for r, row in enumerate(confusion):
        for c, label in enumerate(LABELS):
            expected = sum(10 + a if r == c else 1 + (r + c + a) % 3 for a in range(12))
            assert int(row[label]) == expected


def test_unknown_csv_name_is_a_400_naming_the_parameter(client, seeded):
    response = _get(client, seeded.reviewer, f"/projects/{seeded.project.pk}/dashboard/?csv=bogus")
    assert response.status_code == 400
    assert response.content.decode().startswith("csv: unknown chart 'bogus'; choose one of ")


# --- query count ----------------------------------------------------------------------------------------------


def _render_queries(client, user, pid) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/projects/{pid}/dashboard/").status_code == 200
    return len(captured.captured_queries)


def test_query_count_is_pinned_and_the_same_for_an_empty_and_a_seeded_project(client, seeded):
    empty = make_project()
    reviewer = add_member(empty, Role.REVIEWER)
    assert _render_queries(client, reviewer, empty.pk) == QUERIES_COLD
    cache.clear()
    assert _render_queries(client, seeded.reviewer, seeded.project.pk) == QUERIES_COLD
    assert _render_queries(client, seeded.reviewer, seeded.project.pk) == QUERIES_WARM


def test_counts_are_live_on_small_projects_and_cached_briefly_on_large_ones(monkeypatch):
    from annotation.models import Item
    from quality.dashboard import selectors
    from tests.factories import add_items

    # Given a 3-item project whose counts were read once
    project = make_project()
    add_items(project, 3)
    assert selectors.status_counts(project=project)["new"] == 3
    # When an item changes status, a small project shows it at once
    Item.objects.filter(project=project).filter(pk=Item.objects.filter(project=project).first().pk).update(
        status="discarded"
    )
    assert selectors.status_counts(project=project)["discarded"] == 1
    # But once the project counts as large, the counts are served from the cache for COUNTS_TTL seconds
    monkeypatch.setattr(selectors, "LARGE_COUNT", 3)
    cache.clear()
    assert selectors.status_counts(project=project)["discarded"] == 1
    Item.objects.filter(project=project, status="new").update(status="discarded")
    assert selectors.status_counts(project=project)["discarded"] == 1
    cache.clear()
    assert selectors.status_counts(project=project)["discarded"] == 3
