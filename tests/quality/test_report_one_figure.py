"""Each figure of a quality report has one source: the report's sentences repeat the stored "routed to review"
and name the model, reference and judgements; the annotator table gives the judgements behind each agreement;
the only guideline version's HLP carries the headline's interval; a frozen version keeps HLP and the model per
reference."""

import html as html_lib
import re

import pytest

from annotation.models import Item, ItemStatus
from quality.models import QualityReport
from tests.datasets.builders import freeze
from tests.factories import make_project
from tests.quality.test_accuracy_reference import _seeded_report
from tests.quality.test_quality_run import VOTES, _job, _run
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db


def _row(page: str, marker: str) -> str:
    return re.sub(r"<[^>]+>", " ", page.split(marker, 1)[1].split("</tr>", 1)[0])


def test_the_sentence_on_items_marked_for_review_uses_the_stored_count():
    # Given two three-way splits (each a reason to look) and a unanimous item; the second split is still
    # gathering votes, so the run marks 2 items but only 1 can reach the review queue
    project, items, _ = votes_project(
        make_project,
        [["pos", "neg", "neutral"], ["neg", "pos", "neutral"], ["pos", "pos", "pos"]],
        consensus_method="majority_vote",
    )
    Item.objects.filter(pk=items[1].pk).update(status=ItemStatus.IN_PROGRESS, target_annotations=4)
    job = _job(project, n_boot=0)
    # When the quality run executes
    _run(job)
    # Then the headline figure and the sentence both say 1
    report = QualityReport.objects.get(job=job)
    assert report.n_routed_to_review == 1
    (sentence,) = [line for line in report.explanations if "items for review" in line]
    assert "this run marked 1 items for review" in sentence


def test_the_model_sentence_names_reference_model_and_judgements(client):
    # Given the hand-computed project of test_accuracy_reference (consensus: HLP 9/10, base model 6/10 on 10
    # judgements on 4 items; gold: HLP 7/9, base model 6/9 on 9 judgements on 3 items)
    project = _seeded_report()
    report = QualityReport.objects.get(project=project)
    # Then one sentence per reference names both, the model and the counts; no unqualified model sentence
    assert (
        "Against the consensus, the base model is right on 60.0% of 10 judgements on 4 items; human-level "
        "performance on the same judgements is 90.0%."
    ) in report.explanations
    assert (
        "Against the gold, the base model is right on 66.7% of 9 judgements on 3 items; human-level "
        "performance on the same judgements is 77.8%."
    ) in report.explanations
    assert not [line for line in report.explanations if line.startswith("The model is right")]


def test_a_frozen_version_keeps_and_shows_hlp_and_the_model_per_reference(client):
    # Given the same project, frozen after its quality run
    project = _seeded_report()
    version = freeze(project)
    # Then the version's metrics keep the per-reference rows, the old keys too
    rows = {row["reference"]: row for row in version.metrics["accuracy_by_reference"]}
    assert rows["gold"]["model"] == "base model"
    assert (rows["gold"]["n_judgements"], rows["gold"]["n_items"]) == (9, 3)
    assert rows["gold"]["hlp"] == pytest.approx(7 / 9) and rows["gold"]["model_accuracy"] == pytest.approx(
        6 / 9
    )
    assert version.metrics["hlp"] == pytest.approx(12 / 13)
    # And the version page shows both figures per reference with the judgements and the model's name
    client.force_login(project.created_by)
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/datasets/{version.pk}/").content.decode())
    consensus = " ".join(_row(page, 'data-metric="reference-consensus">').split())
    assert "HLP and model vs consensus at freeze" in consensus
    assert "HLP 90.0% · base model 60.0%" in consensus and "same 10 judgements on 4 items" in consensus
    gold = " ".join(_row(page, 'data-metric="reference-gold">').split())
    assert "HLP 77.8% · base model 66.7%" in gold and "same 9 judgements on 3 items" in gold


def test_a_version_frozen_before_the_reference_was_recorded_says_so(client, monkeypatch):
    # Given a version frozen as before, its metrics holding only the bare figures (versions are immutable, so
    # the freeze itself records the old shape)
    from datasets import upstream

    project = _seeded_report()
    monkeypatch.setattr(upstream, "quality_figures", lambda project: {"hlp": 0.573, "model_accuracy": 0.857})
    version = freeze(project)
    client.force_login(project.created_by)
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/datasets/{version.pk}/").content.decode())
    # Then the bare figures are shown with "reference not recorded"
    assert "57.3%" in _row(page, 'data-metric="hlp">') and "reference not recorded" in _row(
        page, 'data-metric="hlp">'
    )
    assert "85.7%" in _row(page, 'data-metric="model">')
    assert "reference not recorded" in _row(page, 'data-metric="model">')


def test_annotator_agreements_carry_the_judgements_they_count(client):
    # Given VOTES (majority vote). Leave-one-out by hand: annotators 0 and 1 face a majority of the others only
    # on item 1 (items 0, 2, 3 tie for them) and agree there → 1/1; annotator 2 faces one on items 0, 1, 3 and
    # agrees on item 1 only → 1/3. Against the consensus (pos, neg, neg by tie-break, neutral) annotator 0 is
    # right on 3 of 4 items.
    project, _, annotators = votes_project(make_project, VOTES, consensus_method="majority_vote")
    _run(_job(project, n_boot=0))
    client.force_login(project.created_by)
    rows = {r["user"]: r for r in client.get(f"/api/projects/{project.pk}/annotators/").json()["results"]}
    first, third = rows[annotators[0].pk], rows[annotators[2].pk]
    assert (first["agreement_with_others"], first["n_agreement_with_others"]) == (1.0, 1)
    assert (third["agreement_with_others"], third["n_agreement_with_others"]) == (pytest.approx(1 / 3), 3)
    assert (first["agreement_with_consensus"], first["n_agreement_with_consensus"]) == (0.75, 4)
    # And the quality page shows the n beside each
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/quality/").content.decode())
    table = page.split('id="annotators"', 1)[1].split("</table>", 1)[0]
    first_row = " ".join(
        re.sub(r"<[^>]+>", " ", table.split(annotators[0].username, 1)[1].split("</tr>", 1)[0]).split()
    )
    assert "75.0% · n = 4" in first_row and "100.0% · n = 1" in first_row


def test_the_only_guideline_versions_hlp_shows_the_headlines_interval(client):
    # Given a quality run with bootstrap intervals over one guideline version
    project = _seeded_report()
    report = QualityReport.objects.get(project=project)
    ((version, row),) = report.per_guideline_version.items()
    # Then the API's per-version interval is the headline's
    assert row["hlp"] == pytest.approx(12 / 13)
    assert row["hlp_ci"] == [report.hlp_ci_low, report.hlp_ci_high]
    # And the page's per-version row shows the headline's text
    client.force_login(project.created_by)
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/quality/").content.decode())
    headline = " ".join(_row(page, 'data-metric="hlp">').split())
    interval = re.search(r"92\.3% \[[\d.]+%, [\d.]+%\]", headline).group(0)
    per_version = " ".join(
        re.sub(r"<[^>]+>", " ", page.split('id="per-version"', 1)[1].split("</table>", 1)[0]).split()
    )
    assert f"{interval} · n = 5" in per_version
