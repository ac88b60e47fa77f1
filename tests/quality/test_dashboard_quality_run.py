"""The dashboard on the stored results of a real quality run (not seeded JSON): hand-computed confusion and label
distributions, and the report's own figures."""

import csv
import io
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.core.cache import cache

from annotation.models import Item
from core.jobs import JobContext
from quality import services
from quality.models import AnnotatorQuality, QualityReport
from tests.factories import add_items, add_member, make_project
from tests.quality.vote_builders import annotate

pytestmark = pytest.mark.django_db

# Votes of three annotators (as tests/quality/test_quality_run.py): majority consensus pos, neg, neg (3-way tie →
# the most used label), neutral.
VOTES = [
    ["pos", "pos", "neg"],
    ["neg", "neg", "neg"],
    ["pos", "neg", "neutral"],
    ["neutral", "neutral", "pos"],
]
PROBS = [
    {"pos": 0.7, "neg": 0.2, "neutral": 0.1},
    {"pos": 0.1, "neg": 0.8, "neutral": 0.1},
    {"pos": 0.6, "neg": 0.3, "neutral": 0.1},
    {"pos": 0.2, "neg": 0.2, "neutral": 0.6},
]


@pytest.fixture
def project_after_a_run():
    cache.clear()
    project = make_project(consensus_method="majority_vote")
    add_items(project, 2, prefix="n", tags=["night"])
    add_items(project, 2, prefix="d", tags=["day"])
    items = list(Item.objects.filter(project=project).order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    for item, votes, probs in zip(items, VOTES, PROBS, strict=True):
        Item.objects.filter(pk=item.pk).update(
            predicted_probs=probs, predicted_label=max(probs, key=probs.get)
        )
        for a, (user, label) in enumerate(zip(annotators, votes, strict=True)):
            annotate(project, item, user, label, lead_time_ms=1000 * (a + 1))
    job = services.quality_run_create(project=project, user=project.created_by, n_boot=20)
    services.quality_run(job=job, context=JobContext(job))
    yield project, annotators
    cache.clear()


def _csv(client, project, name) -> list[dict]:
    response = client.get(f"/projects/{project.pk}/dashboard/?csv={name}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_confusion_and_label_distributions_are_the_hand_computed_ones(client, project_after_a_run):
    project, annotators = project_after_a_run
    client.force_login(project.created_by)
    # rows consensus pos/neg/neutral × columns the annotator's label:
    # a0 [[1,0,0],[1,1,0],[0,0,1]] + a1 [[1,0,0],[0,2,0],[0,0,1]] + a2 [[0,1,0],[0,1,1],[1,0,0]]
    confusion = _csv(client, project, "confusion")
    assert [[int(r[v]) for v in ("pos", "neg", "neutral")] for r in confusion] == [
        [2, 1, 0],
        [1, 4, 1],
        [1, 0, 2],
    ]
    # each annotator's labels on items with consensus are the column sums: a0 2/1/1, a1 and a2 1/2/1 (of 4)
    by_annotator = {
        r["annotator"]: [float(r[v]) for v in ("pos", "neg", "neutral")]
        for r in _csv(client, project, "labels_by_annotator")
    }
    assert by_annotator == {
        annotators[0].username: [0.5, 0.25, 0.25],
        annotators[1].username: [0.25, 0.5, 0.25],
        annotators[2].username: [0.25, 0.5, 0.25],
    }
    labels = {r["label"]: int(r["consensus_items"]) for r in _csv(client, project, "labels")}
    assert labels == {"pos": 1, "neg": 2, "neutral": 1}
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert 'id="imbalance" class="ok"' in html
    assert "“neg” has 50 % of the consensus labels, “neutral” 25.0 % (2× fewer): balanced enough." in html


def test_agreement_hlp_and_error_analysis_are_the_reports(client, project_after_a_run):
    project, annotators = project_after_a_run
    client.force_login(project.created_by)
    report = QualityReport.objects.get(project=project)
    (row,) = _csv(client, project, "agreement_over_time")
    assert float(row["krippendorff_alpha"]) == pytest.approx(17 / 94)  # hand-computed in test_quality_run.py
    assert float(row["alpha_ci_low"]) == pytest.approx(report.krippendorff_alpha_ci_low, abs=1e-6)
    by_tag = {r["tag"]: r for r in _csv(client, project, "hlp_by_tag")}
    assert set(by_tag) == {"day", "night"}
    for tag, stored in report.per_tag.items():
        assert float(by_tag[tag]["hlp"]) == pytest.approx(stored["hlp"], abs=1e-6)
        assert float(by_tag[tag]["model_accuracy"]) == pytest.approx(stored["model_accuracy"], abs=1e-6)
    errors = _csv(client, project, "error_analysis")
    assert len(errors) == 2 and report.model_accuracy is not None
    assert [r["tag"] for r in errors] == [r["tag"] for r in report.error_analysis]
    assert [r["reading"] for r in errors] == [r["reading"].replace("`", "") for r in report.error_analysis]
    versions = _csv(client, project, "agreement_by_version")
    assert [r["guideline_version"] for r in versions] == list(report.per_guideline_version)
    # median lead time per annotator: a0 always 1 s, a1 2 s, a2 3 s
    lead = {r["annotator"]: float(r["median_lead_time_s"]) for r in _csv(client, project, "annotators")}
    assert lead == {annotators[0].username: 1.0, annotators[1].username: 2.0, annotators[2].username: 3.0}
    assert {a.user_id: a.median_lead_time_s for a in AnnotatorQuality.objects.filter(report=report)} == {
        annotators[0].pk: 1.0,
        annotators[1].pk: 2.0,
        annotators[2].pk: 3.0,
    }


def test_confusion_cells_link_to_items_with_that_consensus_where_an_annotator_gave_that_label(
    client, project_after_a_run
):
    project, _ = project_after_a_run
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    chart = html[html.index('id="chart-confusion"') :]
    chart = chart[: chart.index("</svg>")]
    cells = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-label="([^"]+)" data-col="([^"]+)">', chart
    )
    assert len(cells) == 9
    # an item is listed once however many annotators gave the label (majority consensus pos, neg, neg, neutral)
    consensus = ["pos", "neg", "neg", "neutral"]
    expected = {
        (c, g): sum(1 for votes, cons in zip(VOTES, consensus, strict=True) if cons == c and g in votes)
        for c in ("pos", "neg", "neutral")
        for g in ("pos", "neg", "neutral")
    }
    for href, row, col in cells:
        url = unescape(href)
        assert url == f"/projects/{project.pk}/items/?{urlencode({'label': row, 'annotator_label': col})}"
        listed = client.get(url).content.decode()
        assert int(re.search(r'data-count="(\d+)"', listed).group(1)) == expected[(row, col)]
    # off the diagonal no item has two alike votes, so there the list has the cell's number of items
    for row in _csv(client, project, "confusion"):
        for col in ("pos", "neg", "neutral"):
            if col != row["consensus"]:
                assert int(row[col]) == expected[(row["consensus"], col)]
    # the row labels still link to the whole row
    assert f'<a href="/projects/{project.pk}/items/?label=neg" class="chart-link" data-row="neg">' in chart


def test_agreement_points_link_to_the_items_the_run_scored(client, project_after_a_run):
    # Given a project after one real quality run (4 items scored) and one more item nobody annotated
    project, _ = project_after_a_run
    add_items(project, 1, prefix="late")
    report = QualityReport.objects.get(project=project)
    client.force_login(project.created_by)
    # When the dashboard draws α and κ per run
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    chart = html[html.index('id="chart-agreement"') :]
    points = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-series="([^"]+)"', chart[: chart.index("</svg>")]
    )
    # Then both points of the run link to the list of exactly the items it scored
    url = f"/projects/{project.pk}/items/?{urlencode({'quality_run': report.pk})}"
    assert sorted(unescape(series) for _, series in points) == ["Fleiss' κ", "Krippendorff's α"]
    assert {unescape(href) for href, _ in points} == {url}
    listed = client.get(url).content.decode()
    assert int(re.search(r'data-count="(\d+)"', listed).group(1)) == report.n_items == 4
    scored = set(report.items.values_list("item_id", flat=True))
    assert {int(pk) for pk in re.findall(r'data-item="(\d+)"', listed)} == scored
    assert Item.objects.filter(project=project).count() == 5
