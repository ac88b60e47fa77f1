"""The training job's work function on a small text project: stored predictions, priorities, idempotency, cache."""

import numpy as np
import pytest

from activelearning import priority, services
from activelearning.basemodel import BaseModel, TrainingConfig, out_of_sample_proba
from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import FeatureCache, FeatureSpace, ModelVersion, Prediction
from activelearning.services import scoring
from annotation.models import Item
from core.jobs import JobContext, job_create
from ingress.services.bulk import item_bulk_create
from tests.activelearning.al_helpers import LABELS, al_project, text_for

pytestmark = pytest.mark.django_db


def run_train(project, **params):
    job = job_create(
        kind=TRAIN_JOB,
        task_name=services.TRAIN_TASK,
        project=project,
        params={"strategy": "margin", **params},
    )
    return job, services.model_train_run(job=job, context=JobContext(job))


def _features(items, key):
    rows = dict(FeatureCache.objects.filter(extractor=key, item__in=items).values_list("item_id", "vector"))
    return np.vstack([np.frombuffer(bytes(rows[item.pk]), dtype=np.float32) for item in items])


def test_labelled_items_get_out_of_sample_probabilities_and_pool_items_priorities(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given 18 labelled items (6 per label) and an 18-item pool
    project, labelled, pool = al_project()
    # When a margin training job runs
    job, result = run_train(project, seed=3)
    # Then a model version records the run
    version = ModelVersion.objects.get(project=project)
    assert (result["mode"], version.version, version.n_train, version.strategy, version.seed) == (
        "model",
        1,
        18,
        "margin",
        3,
    )
    assert version.extractor_name == "text-tfidf-svd" and version.label_values == list(LABELS)
    # and every labelled item holds k-fold probabilities: the same as recomputing them from the cached features
    expected = out_of_sample_proba(
        _features(labelled, version.extractor),
        np.repeat([0, 1, 2], 6),
        n_classes=3,
        n_folds=5,
        seed=3,
        config=TrainingConfig(seed=3),
    )
    stored = {p.item_id: p for p in Prediction.objects.filter(item__in=labelled)}
    assert len(stored) == 18 and all(p.is_out_of_sample for p in stored.values())
    assert np.allclose(np.vstack([stored[i.pk].probabilities for i in labelled]), expected.proba, atol=1e-6)
    assert version.cv_accuracy == pytest.approx(expected.metrics.cv_accuracy)
    for item, row in zip(
        Item.objects.filter(pk__in=[i.pk for i in labelled]).order_by("id"), expected.proba, strict=True
    ):
        assert set(item.predicted_probs) == set(LABELS)  # jsonb keeps no key order
        assert [item.predicted_probs[v] for v in LABELS] == pytest.approx(row.tolist(), abs=1e-5)
        assert item.predicted_label == LABELS[int(row.argmax())]
    # and every pool item has a margin score 1 − (p1 − p2) and a priority in the batch or pool band
    items = {item.pk: item for item in Item.objects.filter(pk__in=[i.pk for i in pool])}
    bands = []
    for prediction in Prediction.objects.filter(item__in=pool):
        top_two = np.sort(prediction.probabilities)[::-1][:2]
        assert not prediction.is_out_of_sample
        assert prediction.score == pytest.approx(1 - (top_two[0] - top_two[1]), abs=1e-5)
        assert prediction.margin == pytest.approx(prediction.score)
        band = int(items[prediction.item_id].priority)
        assert items[prediction.item_id].priority == pytest.approx(band + min(prediction.score, priority.TOP))
        bands.append(band)
    assert len(bands) == 18
    assert sorted(bands) == [0] * 14 + [1] * 4  # the diverse batch of 4, the rest by score


def test_rerunning_the_same_job_changes_nothing():
    # Given a project trained once
    project, labelled, pool = al_project()
    job, first = run_train(project)
    before = list(
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("priority", "predicted_label", "predicted_probs", "target_annotations", "status")
    )
    version = ModelVersion.objects.get(project=project)
    # When the same job's work runs again (a redelivered task after a worker crash)
    second = services.model_train_run(job=job, context=JobContext(job))
    # Then the items, the predictions and the single version are unchanged
    after = list(
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("priority", "predicted_label", "predicted_probs", "target_annotations", "status")
    )
    assert after == before
    assert ModelVersion.objects.filter(project=project).count() == 1
    again = ModelVersion.objects.get(project=project)
    assert (again.pk, again.version, again.cv_accuracy, again.stability) == (
        version.pk,
        version.version,
        version.cv_accuracy,
        version.stability,
    )
    assert Prediction.objects.filter(project=project).count() == 36
    assert second["n_features_computed"] == 0 and first["n_features_computed"] == 36
    assert {k: v for k, v in second.items() if k != "n_features_computed"} == {
        k: v for k, v in first.items() if k != "n_features_computed"
    }


def test_a_second_version_compares_pool_predictions_with_the_first():
    # Given a trained project
    project, labelled, pool = al_project()
    run_train(project)
    first = {p.item_id: p.predicted for p in Prediction.objects.filter(item__in=pool)}
    # When it is trained again with the same data and seed
    _, result = run_train(project, strategy="entropy")
    # Then version 2 is identical in its predictions: nothing changed, κ = 1, and the pool is ranked by entropy
    version = ModelVersion.objects.get(project=project, version=2)
    assert version.stability == pytest.approx({"changed_share": 0.0, "kappa_vs_previous": 1.0, "n_items": 18})
    assert {p.item_id: p.previous_predicted for p in Prediction.objects.filter(item__in=pool)} == first
    assert version.strategy == "entropy" and result["version"] == 2
    assert "trained on the same number of labels as the previous one" in version.summary
    assert "the last 0 labels" not in version.summary
    for prediction in Prediction.objects.filter(item__in=pool):
        p = prediction.probabilities.astype(np.float64)
        assert prediction.score == pytest.approx(-(p * np.log(p)).sum(), abs=1e-5)


def test_features_are_cached_and_only_new_items_are_featurised():
    # Given a trained project
    project, labelled, pool = al_project()
    _, first = run_train(project)
    space = FeatureSpace.objects.get(project=project)
    # When one item is added and the model is retrained
    item_bulk_create(project=project, rows=[{"external_id": "new-1", "text": text_for("pos", 99)}])
    _, second = run_train(project)
    # Then only that item was featurised, in the same (not refitted) space
    assert (first["n_features_computed"], second["n_features_computed"]) == (36, 1)
    assert FeatureSpace.objects.filter(project=project).count() == 1
    assert FeatureCache.objects.filter(item__project=project, extractor=space.key).count() == 37
    assert space.params["n_components"] == 9  # one component per 4 items (36 at fit time)


def test_a_text_space_is_refitted_once_the_project_doubles():
    # Given a project trained on 36 items
    project, labelled, pool = al_project()
    run_train(project)
    old = FeatureSpace.objects.get(project=project)
    # When 40 more items arrive (76 > 2 × 36) and the model is retrained
    item_bulk_create(
        project=project,
        rows=[{"external_id": f"more-{i}", "text": text_for("neg", 500 + i)} for i in range(40)],
    )
    _, result = run_train(project)
    # Then a new space was fitted, every item featurised in it, and the old vectors dropped
    new = FeatureSpace.objects.filter(project=project).order_by("-id").first()
    assert new.pk != old.pk and result["n_features_computed"] == 76 and result["extractor"] == new.key
    assert FeatureCache.objects.filter(item__project=project).count() == 76
    assert not FeatureCache.objects.filter(extractor=old.key).exists()


def test_gold_items_are_neither_trained_on_nor_queued_but_get_held_out_probabilities():
    # Given a gold pool item with a priority of its own, and a labelled item that is also gold
    project, labelled, pool = al_project()
    Item.objects.filter(pk=pool[0].pk).update(is_gold=True, gold_label="pos", priority=0.25)
    Item.objects.filter(pk=labelled[0].pk).update(is_gold=True, gold_label="pos")
    # When the model is trained
    _, result = run_train(project)
    # Then the gold pool item keeps its place (the queue mixes gold in at the project's gold rate) and is not
    # scored as pool, and the labelled gold item is left out of training
    assert Item.objects.get(pk=pool[0].pk).priority == 0.25
    assert (result["n_pool"], result["n_train"], result["n_held_out"]) == (17, 17, 2)
    # and both gold items hold out-of-sample probabilities from the final model fitted without them
    version = ModelVersion.objects.get(project=project)
    model = BaseModel(config=TrainingConfig(seed=0)).fit(
        _features(labelled[1:], version.extractor), np.repeat([0, 1, 2], 6)[1:], n_classes=3
    )
    expected = model.predict_proba(_features([labelled[0], pool[0]], version.extractor))
    for item, row in zip((labelled[0], pool[0]), expected, strict=True):
        prediction = Prediction.objects.get(item=item)
        assert prediction.is_out_of_sample and prediction.score is None and prediction.margin is None
        assert np.allclose(prediction.probabilities, row, atol=1e-6)
