"""Quality runs with base-model probabilities: gold items get held-out predictions from the training job, so
CROWDLAB, the model check and model-vs-gold accuracy run in projects with gold; items without probabilities
fall back to Dawid–Skene instead of switching the model off project-wide."""

import numpy as np
import pytest

from activelearning import services as al_services
from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import ModelVersion, Prediction
from annotation.models import Item
from annotation.services.annotations import AnnotationInput, annotation_submit
from core.jobs import JobContext, job_create
from ingress.services.bulk import item_bulk_create
from quality import services
from quality.adapters import project_data_load
from quality.job_kinds import QUALITY_JOB
from quality.metrics.consensus import dawid_skene
from quality.models import ItemQuality, QualityReport
from quality.services.quality_model import QUALITY_MODEL_TEXT
from tests.activelearning.al_helpers import LABELS, text_for
from tests.factories import add_member, make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db

N_PER_LABEL = 8
N_GOLD_PER_LABEL = 2


def _quality(project):
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    services.quality_run(job=job, context=JobContext(job))
    return QualityReport.objects.get(job=job)


def _train(project):
    job = job_create(
        kind=TRAIN_JOB,
        task_name=al_services.TRAIN_TASK,
        project=project,
        params={"strategy": "margin", "seed": 0},
    )
    return al_services.model_train_run(job=job, context=JobContext(job))


def _project_with_gold_and_a_mislabelled_item():
    """Three annotators label every item (gold included) with the label its words say, except the trap item:
    its words are clearly "pos", all three say "neg". Returns (project, gold items, trap item)."""
    project = make_project(labels=LABELS, k=3, consensus_method="auto")
    rows = []
    for offset, label in enumerate(LABELS):
        rows += [
            {"external_id": f"L-{label}-{i}", "text": text_for(label, 100 * offset + i)}
            for i in range(N_PER_LABEL)
        ]
        rows += [
            {
                "external_id": f"G-{label}-{i}",
                "text": text_for(label, 5_000 + 100 * offset + i),
                "gold_label": label,
            }
            for i in range(N_GOLD_PER_LABEL)
        ]
    rows.append({"external_id": "trap", "text": text_for("pos", 9_999)})
    result = item_bulk_create(project=project, rows=rows)
    assert not result.errors, result.errors
    annotators = [add_member(project) for _ in range(3)]
    for item in Item.objects.filter(project=project).order_by("id"):
        label = "neg" if item.external_id == "trap" else item.external_id.split("-")[1]
        for user in annotators:
            annotation_submit(
                project=project, user=user, data=AnnotationInput(item_id=item.pk, labels=[label])
            )
    gold = list(Item.objects.filter(project=project, is_gold=True).order_by("id"))
    return project, gold, Item.objects.get(project=project, external_id="trap")


def test_trained_model_covers_gold_items_so_crowdlab_and_the_model_check_run():
    # Given a project with gold items, k = 3 annotations per item and one item the annotators got wrong,
    # whose consensus the first (model-less) quality run stores for training
    project, gold, trap = _project_with_gold_and_a_mislabelled_item()
    assert _quality(project).consensus_method == "dawid_skene"
    # When the real base model is trained and the quality run executes again
    trained = _train(project)
    report = _quality(project)
    # Then gold items were never trained on, but hold out-of-sample predictions
    assert trained["mode"] == "model"
    assert ModelVersion.objects.get(project=project).n_train == len(LABELS) * N_PER_LABEL + 1
    gold_predictions = Prediction.objects.filter(item__in=gold)
    assert gold_predictions.count() == len(gold) and all(p.is_out_of_sample for p in gold_predictions)
    # and every labelled item, gold included, had model probabilities and cached features, so CROWDLAB ran
    # project-wide with the quality model refitted on those features
    data = project_data_load(project=project)
    assert data.table.n_items == Item.objects.filter(project=project).count()
    assert data.has_probs.all()
    assert report.consensus_method == "crowdlab"
    assert (
        f"Consensus: CROWDLAB with {QUALITY_MODEL_TEXT}, fitted on Dawid–Skene labels and refitted once."
        in report.explanations
    )
    # and the model, confident from the words, flags the trap item whose consensus contradicts it
    trap = Item.objects.get(pk=trap.pk)
    assert trap.predicted_label == "pos" and trap.predicted_probs["pos"] > 0.5
    row = ItemQuality.objects.get(report=report, item=trap)
    assert row.consensus_label == "neg"
    assert "model_disagrees" in row.reasons and row.is_issue
    # and HLP and the model's accuracy against gold are numbers (the model's: its predictions on the gold items)
    gold_rows = Item.objects.filter(pk__in=[item.pk for item in gold]).values_list(
        "predicted_label", "gold_label"
    )
    assert report.hlp_gold == pytest.approx(1.0)
    assert report.model_accuracy == pytest.approx(np.mean([pred == truth for pred, truth in gold_rows]))


def test_items_without_probabilities_fall_back_to_dawid_skene_while_the_rest_use_crowdlab():
    # Given 12 items with 3 votes each; all but one carry model probabilities
    votes = [
        ["pos", "pos", "neg"],
        ["neg", "neg", "neg"],
        ["neutral", "neutral", "pos"],
        ["pos", "pos", "pos"],
    ] * 3
    project, items, _ = votes_project(make_project, votes)
    for item, row in zip(items[1:], votes[1:], strict=True):
        top = max(set(row), key=row.count)
        Item.objects.filter(pk=item.pk).update(
            predicted_probs={value: 0.8 if value == top else 0.1 for value in LABELS}
        )
    # When the quality run executes on "auto"
    report = _quality(project)
    # Then CROWDLAB ran, with Dawid–Skene named as the consensus of the item without probabilities
    assert report.consensus_method == "crowdlab"
    assert (
        "Consensus: CROWDLAB on the 11 labelled items with model probabilities; Dawid–Skene for the 1 labelled "
        "item without them." in report.explanations
    )
    # and that item carries plain Dawid–Skene's label and is not model-checked, while the others are
    plain = dawid_skene(table=project_data_load(project=project).table).consensus
    rows = {row.item_id: row for row in ItemQuality.objects.filter(report=report)}
    assert rows[items[0].pk].consensus_label == LABELS[plain.label[0]]
    assert rows[items[0].pk].confidence == pytest.approx(plain.confidence[0])
    assert rows[items[0].pk].label_quality is None and "model_disagrees" not in rows[items[0].pk].reasons
    assert all(rows[item.pk].label_quality is not None for item in items[1:])
