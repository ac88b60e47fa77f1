"""The guideline loop closes: after a guideline revision, the quality report shows agreement and HLP per guideline
version, so a manager sees whether the revision raised agreement."""

import pytest

from annotation.services.projects import guideline_create
from core.jobs import JobContext
from core.models import Job
from quality import services as quality_services
from quality.models import QualityReport
from tests.factories import add_items, add_member, make_project
from tests.quality.vote_builders import annotate, items_of

pytestmark = pytest.mark.django_db

# Under v1 annotators split; under v2 (after the revision) they mostly agree.
# Percent agreement (agreeing pairs / 3 pairs per item): v1 mean(1/3, 0) = 1/6; v2 mean(1, 1/3) = 2/3.
# Leave-one-out HLP (one annotator vs the majority of the other two, ties skipped):
#   v1: item 0 only a1 is judged (pos,pos majority) and is wrong; item 1 all ties → 0/1 = 0
#   v2: item 2 three right; item 3 only a2 is judged (neg,neg majority) and is wrong → 3/4
V1 = [["pos", "neg", "pos"], ["neg", "neutral", "pos"]]
V2 = [["pos", "pos", "pos"], ["neg", "neg", "pos"]]


def test_a_guideline_revision_shows_up_per_version_in_the_quality_report(client):
    # Given a project annotated under guideline v1, then revised, then annotated under v2
    project = make_project(consensus_method="majority_vote")
    add_items(project, 4)
    items = items_of(project)
    annotators = [add_member(project) for _ in range(3)]
    for item, votes in zip(items[:2], V1, strict=True):
        for user, label in zip(annotators, votes, strict=True):
            annotate(project, item, user, label, version=1)
    guideline_create(
        project=project, author=project.created_by, body="Sarcasm counts as neg.", change_note="sarcasm rule"
    )
    for item, votes in zip(items[2:], V2, strict=True):
        for user, label in zip(annotators, votes, strict=True):
            annotate(project, item, user, label, version=2)
    # When the quality check runs
    job = quality_services.quality_run_create(project=project, user=project.created_by, n_boot=0)
    quality_services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    # Then the report holds agreement and HLP for each version, and v2 is higher
    report = QualityReport.objects.get(job=job)
    per_version = report.per_guideline_version
    assert set(per_version) == {"1", "2"}
    assert per_version["1"]["n_annotations"] == 6 and per_version["2"]["n_annotations"] == 6
    assert per_version["1"]["percent_agreement"] == pytest.approx(1 / 6)
    assert per_version["2"]["percent_agreement"] == pytest.approx(2 / 3)
    assert per_version["1"]["hlp"] == pytest.approx(0.0)
    assert per_version["2"]["hlp"] == pytest.approx(3 / 4)
    # and the manager's report page shows one row per version
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    table = html.split('id="per-version"')[1].split("</table>")[0]
    assert "<td>v1</td>" in table and "<td>v2</td>" in table
    assert "16.7%" in table and "66.7%" in table


def test_per_version_agreement_has_bootstrap_intervals_that_separate_a_real_improvement(client):
    import csv
    import io
    import random

    # Given 30 items annotated at random under v1 and 30 nearly unanimously under v2 (3 annotators each)
    rng = random.Random(5)
    labels = ["pos", "neg", "neutral"]
    project = make_project(consensus_method="majority_vote")
    add_items(project, 60)
    items = items_of(project)
    annotators = [add_member(project) for _ in range(3)]
    for item in items[:30]:
        for user in annotators:
            annotate(project, item, user, rng.choice(labels), version=1)
    guideline_create(project=project, author=project.created_by, body="Clearer.", change_note="clearer")
    for n, item in enumerate(items[30:]):
        truth = labels[n % 3]
        for a, user in enumerate(annotators):
            annotate(project, item, user, labels[(n + 1) % 3] if (n, a) == (0, 0) else truth, version=2)
    # When a quality run with a bootstrap runs
    job = quality_services.quality_run_create(project=project, user=project.created_by, n_boot=60)
    quality_services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    # Then each version's α and κ carry an interval around the estimate, and v2's lies wholly above v1's
    per_version = QualityReport.objects.get(job=job).per_guideline_version
    for version in ("1", "2"):
        for metric in ("krippendorff_alpha", "fleiss_kappa"):
            low, high = per_version[version][f"{metric}_ci"]
            assert low <= per_version[version][metric] <= high, (version, metric)
    assert per_version["2"]["krippendorff_alpha_ci"][0] > per_version["1"]["krippendorff_alpha_ci"][1]
    # And the dashboard's per-version CSV carries the same bounds
    client.force_login(project.created_by)
    body = client.get(f"/projects/{project.pk}/dashboard/?csv=agreement_by_version").content.decode()
    rows = {r["guideline_version"]: r for r in csv.DictReader(io.StringIO(body))}
    for version in ("1", "2"):
        low, high = per_version[version]["krippendorff_alpha_ci"]
        assert float(rows[version]["alpha_ci_low"]) == pytest.approx(low, abs=1e-6)  # CSV keeps 6 places
        assert float(rows[version]["alpha_ci_high"]) == pytest.approx(high, abs=1e-6)
