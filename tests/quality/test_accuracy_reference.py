"""HLP and model accuracy name their reference (consensus or gold), their items and the model, and each pair
shown side by side is measured on the same judgements — on the quality page and in the API."""

import html as html_lib

import pytest

from annotation.models import Item
from core.jobs import JobContext
from core.models import Job
from quality import services
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

# Item: three votes, gold, the base model's top label (None: no prediction).
ROWS = [
    (["pos", "pos", "pos"], "pos", "pos"),
    (["neg", "neg", "neg"], "neg", "pos"),
    (["pos", "pos", "neg"], "neg", "neg"),
    (["neg", "neg", "neg"], None, "neg"),
    (["pos", "pos", "pos"], None, None),
]
# Hand-computed. Leave-one-out consensus: item 3's two "pos" votes face a tie (excluded), its "neg" vote faces
# "pos"; every other judgement faces its own unanimous label.
#   HLP vs consensus, every item: 3 + 3 + 0 + 3 + 3 = 12 of 13 judgements on 5 items.
#   Same judgements for HLP and model (items 1–4 have a prediction): HLP 9/10, model 3 + 0 + 0 + 3 = 6/10.
#   Vs gold (items 1–3, all predicted): HLP 3 + 3 + 1 = 7/9, model 3 + 0 + 3 = 6/9.
CONSENSUS = {
    "n_items": 4,
    "n_judgements": 10,
    "hlp": 9 / 10,
    "model_accuracy": 6 / 10,
    "hlp_all": 12 / 13,
    "hlp_all_n_items": 5,
}
GOLD = {
    "n_items": 3,
    "n_judgements": 9,
    "hlp": 7 / 9,
    "model_accuracy": 6 / 9,
    "hlp_all": 7 / 9,
    "hlp_all_n_items": 3,
}


def _seeded_report():
    project, items, _ = votes_project(make_project, [votes for votes, _, _ in ROWS])
    for item, (_, gold, top) in zip(items, ROWS, strict=True):
        fields = {"is_gold": gold is not None, "gold_label": gold}
        if top is not None:
            fields["predicted_probs"] = {
                value: (0.8 if value == top else 0.1) for value in ("pos", "neg", "neutral")
            }
        Item.objects.filter(pk=item.pk).update(**fields)
    job = services.quality_run_create(project=project, user=project.created_by, n_boot=20)
    services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    return project


@pytest.mark.django_db
def test_api_reports_hlp_and_model_per_reference_on_the_same_items(client):
    project = _seeded_report()
    client.force_login(project.created_by)
    report = client.get(f"/api/projects/{project.pk}/quality/").json()

    rows = {row["reference"]: row for row in report["accuracy_by_reference"]}
    assert set(rows) == {"consensus", "gold"}
    for reference, expected in (("consensus", CONSENSUS), ("gold", GOLD)):
        row = rows[reference]
        for key, value in expected.items():
            assert row[key] == pytest.approx(value), (reference, key)
        assert row["model"] == "base model" and row["with_predictions_only"] is True
    # The legacy figure is kept, and now says what it was measured on.
    assert report["model_accuracy"] == pytest.approx(6 / 9)
    assert report["model_accuracy_reference"] == "gold"
    assert report["model_accuracy_n_items"] == 3
    assert report["model_accuracy_model"] == "base model"
    assert report["hlp"] == pytest.approx(12 / 13) and report["hlp_gold"] == pytest.approx(7 / 9)


@pytest.mark.django_db
def test_page_names_reference_items_and_model_beside_each_accuracy(client):
    project = _seeded_report()
    client.force_login(project.created_by)
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/quality/").content.decode())

    consensus_row = page.split('data-metric="model-consensus">', 1)[1].split("</tr>", 1)[0]
    assert "HLP and model vs consensus" in consensus_row
    assert "HLP 90.0% · base model 60.0%" in consensus_row
    assert "same 10 judgements on 4 items" in consensus_row
    gold_row = page.split('data-metric="model-gold">', 1)[1].split("</tr>", 1)[0]
    assert "HLP and model vs gold" in gold_row
    assert "HLP 77.8% · base model 66.7%" in gold_row
    assert "same 9 judgements on 3 items" in gold_row
    assert "on 5 items" in page.split('data-metric="hlp">', 1)[1].split("</tr>", 1)[0]
    assert "on 3 items" in page.split('data-metric="hlp-gold">', 1)[1].split("</tr>", 1)[0]
    # No unqualified "Model accuracy" figure beside them any more.
    assert 'data-metric="model">' not in page


@pytest.mark.django_db
def test_dashboard_names_the_reference_and_model_of_hlp_vs_model(client):
    project = _seeded_report()
    client.force_login(project.created_by)
    page = html_lib.unescape(client.get(f"/projects/{project.pk}/dashboard/").content.decode())

    note = page.split('id="hlp-reference">', 1)[1].split("</p>", 1)[0]
    assert "against the consensus" in note and '<strong id="hlp-model">base model</strong>' in note
