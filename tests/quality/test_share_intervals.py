"""Shares on the quality page and in the dashboard's HLP tables carry a 95 % Wilson interval and their n, and
nothing under five items: a bootstrap percentile interval on one or ten all-wrong items collapses to
"0.0 % [0.0 %, 0.0 %]", which claims a certainty the data cannot give. Expected intervals come from statsmodels
or are worked out by hand."""

import html
import re

import pytest
from statsmodels.stats.proportion import proportion_confint

from core.jobs import job_create
from quality.dashboard import figures
from quality.dashboard.tables.accuracy import _hlp_vs_model_row
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from tests.factories import make_project


@pytest.mark.parametrize(("hits", "n"), [(0, 5), (0, 10), (3, 7), (12, 19), (19, 19), (410, 500)])
def test_share_interval_is_the_wilson_interval(hits, n):
    low, high = figures.share_interval(hits / n, n)
    ref_low, ref_high = proportion_confint(hits, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


def test_share_text_shows_n_and_says_too_few_under_five_items():
    # 0 of 10: Wilson upper bound z²/(n + z²) = 3.8415/13.8415 = 0.2775.
    assert figures.share_text(0.0, 10) == "0.0 % [0.0 %, 27.8 %] · n = 10"
    assert figures.share_text(0.0, 1) == "too few items (n = 1)"
    assert figures.share_text(1.0, 4) == "too few items (n = 4)"
    assert figures.share_text(None, 12) == "—"


def test_dashboard_hlp_row_has_no_interval_under_five_items_and_wilson_otherwise():
    tiny = _hlp_vs_model_row("t", {"hlp": 0.0, "hlp_ci": [0.0, 0.0], "hlp_n_items": 1, "model_accuracy": 1.0})
    assert tiny[2:4] == [None, None] and tiny[5:7] == [None, None] and tiny[7] == 1
    ten = _hlp_vs_model_row(
        "t",
        {
            "hlp": 0.0,
            "hlp_ci": [0.0, 0.0],
            "hlp_n_items": 10,
            "model_accuracy": 0.5,
            "model_accuracy_n_items": 8,
        },
    )
    assert ten[2] == 0.0 and ten[3] == pytest.approx(0.2775, abs=1e-4)
    assert ten[5:7] == pytest.approx(list(proportion_confint(4, 8, method="wilson")))


def _text(page: bytes) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.decode())))


@pytest.mark.django_db
def test_quality_page_per_tag_table_shows_n_and_no_degenerate_interval(client):
    project = make_project()
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={})
    # The bootstrap intervals a stored run holds for these tags are points; the page must not show them.
    QualityReport.objects.create(
        project=project,
        job=job,
        consensus_method="majority_vote",
        n_items=11,
        n_annotations=33,
        n_annotators=3,
        hlp=0.5,
        per_tag={
            "one": {
                "n_items": 1,
                "hlp": 0.0,
                "hlp_ci": [0.0, 0.0],
                "hlp_n": 3,
                "hlp_n_items": 1,
                "hlp_gold": 0.0,
                "hlp_gold_ci": [0.0, 0.0],
                "hlp_gold_n_items": 1,
            },
            "ten": {
                "n_items": 10,
                "hlp": 0.0,
                "hlp_ci": [0.0, 0.0],
                "hlp_n": 30,
                "hlp_n_items": 10,
                "hlp_gold": 0.0,
                "hlp_gold_ci": [0.0, 0.0],
                "hlp_gold_n_items": 6,
                "model_accuracy": 0.5,
                "model_accuracy_n_items": 10,
            },
        },
    )
    client.force_login(project.created_by)
    page = _text(client.get(f"/projects/{project.pk}/quality/").content)
    assert "[0.0 %, 0.0 %]" not in page and "[0.0%, 0.0%]" not in page
    # One item: no share at all.
    assert page.count("too few items (n = 1)") == 2
    assert "0.0 % [0.0 %, 27.8 %] · n = 10" in page
    # 0 of 6 gold items: z²/(6 + z²) = 3.8415/9.8415 = 0.3903.
    assert "0.0 % [0.0 %, 39.0 %] · n = 6" in page
    # 5 of 10: centre 0.5, half-width z·sqrt(0.025 + z²/400)/(1 + z²/10) = 0.2634.
    assert "50.0 % [23.7 %, 76.3 %] · n = 10" in page
