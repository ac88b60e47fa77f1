"""The active-learning adapter's bulk paths on PostgreSQL: predictions written with COPY, the pool read in windows."""

import numpy as np
import pytest

from activelearning import adapters
from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import FeatureCache, Prediction
from annotation.models import Item, ItemStatus
from core.models import Job
from ingress.services.bulk import item_bulk_create
from tests.factories import make_project

pytestmark = pytest.mark.django_db

# Labels the COPY text format and the JSON template must escape: backslash, tab, quote, percent, non-ASCII.
AWKWARD = ("back\\slash", "tab\there", 'quote"%s', "naïve ✓")


def _job(project) -> Job:
    return Job.objects.create(kind=TRAIN_JOB, task_name="activelearning.train", project=project)


def _project_with_items(n: int, labels=AWKWARD):
    project = make_project(labels=labels)
    item_bulk_create(project=project, rows=[{"external_id": f"i{i}", "text": f"text {i}"} for i in range(n)])
    return project, np.asarray(
        Item.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    )


def test_predictions_write_round_trips_awkward_labels_scores_and_unreadable_rows():
    # Given four items, the third with non-finite probabilities (its content could not be read)
    project, ids = _project_with_items(4)
    proba = np.array(
        [[0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4], [np.nan] * 4, [0.25, 0.25, 0.4, 0.1]], dtype=np.float32
    )
    bald = np.array([0.5, np.nan, np.nan, 1e-300])
    rows = adapters.PredictionRows(
        item_ids=ids,
        proba=proba,
        previous=["", "tab\there", "", "back\\slash"],
        out_of_sample=False,
        score=bald,
        scores={"bald": bald, "margin": np.array([0.4, 0.9, np.nan, np.inf])},
        priority=np.array([0.25, 1.5, 0.0, 3.125]),
    )
    # When the predictions are written twice (a retried chunk)
    job_id = _job(project).pk
    assert (
        adapters.predictions_write(project=project, job_id=None, label_values=list(AWKWARD), rows=rows) == 3
    )
    assert (
        adapters.predictions_write(project=project, job_id=job_id, label_values=list(AWKWARD), rows=rows) == 3
    )
    # Then the readable items hold one prediction each, with labels, probabilities and scores intact
    stored = {p.item_id: p for p in Prediction.objects.filter(item_id__in=ids.tolist())}
    assert sorted(stored) == [ids[0], ids[1], ids[3]]
    first, second, fourth = stored[ids[0]], stored[ids[1]], stored[ids[3]]
    assert (first.predicted, second.predicted, fourth.predicted) == ("back\\slash", "naïve ✓", 'quote"%s')
    assert (second.previous_predicted, fourth.previous_predicted) == ("tab\there", "back\\slash")
    np.testing.assert_array_equal(second.probabilities, proba[1])
    assert (first.bald, first.score, first.margin, second.bald, fourth.bald, fourth.margin) == (
        0.5,
        0.5,
        pytest.approx(0.4),
        None,
        1e-300,
        None,
    )
    assert first.entropy is None and str(first.job_id) == str(job_id) and not first.is_out_of_sample
    # and every item, the unreadable one too, has its priority; only readable ones a predicted label
    items = {item.pk: item for item in Item.objects.filter(pk__in=ids.tolist())}
    assert [items[pk].priority for pk in ids.tolist()] == [0.25, 1.5, 0.0, 3.125]
    assert items[ids[2]].predicted_label is None and items[ids[2]].predicted_probs is None
    assert items[ids[0]].predicted_label == "back\\slash"
    assert items[ids[1]].predicted_probs == pytest.approx(
        dict(zip(AWKWARD, [0.1, 0.2, 0.3, 0.4], strict=True))
    )


def test_labelled_rows_clear_the_strategy_scores_a_pool_prediction_left():
    # Given an item scored as part of the pool
    project, ids = _project_with_items(1, labels=("a", "b"))
    proba = np.array([[0.3, 0.7]], dtype=np.float32)
    adapters.predictions_write(
        project=project,
        job_id=None,
        label_values=["a", "b"],
        rows=adapters.PredictionRows(
            item_ids=ids,
            proba=proba,
            previous=[""],
            out_of_sample=False,
            score=np.array([0.2]),
            scores={"margin": np.array([0.6])},
            priority=np.array([0.6]),
        ),
    )
    # When it is labelled and written again with out-of-sample probabilities
    adapters.predictions_write(
        project=project,
        job_id=None,
        label_values=["a", "b"],
        rows=adapters.PredictionRows(item_ids=ids, proba=proba, previous=["b"], out_of_sample=True),
    )
    # Then its scores are gone and its priority is left as it was
    prediction = Prediction.objects.get(item_id=ids[0])
    assert prediction.is_out_of_sample and prediction.score is None and prediction.margin is None
    assert Item.objects.get(pk=ids[0]).priority == 0.6


def test_pool_chunks_cover_every_open_item_once_in_id_order_across_windows():
    # Given seven items with cached features, of which one is labelled and one gold
    project, ids = _project_with_items(7, labels=("a", "b"))
    key = "bench-like#1"
    FeatureCache.objects.bulk_create(
        [
            FeatureCache(item_id=pk, extractor=key, vector=np.full(2, position, dtype=np.float32).tobytes())
            for position, pk in enumerate(ids.tolist())
        ]
    )
    Item.objects.filter(pk=ids[2]).update(status=ItemStatus.LABELLED)
    Item.objects.filter(pk=ids[5]).update(is_gold=True)
    Prediction.objects.create(
        project=project, item_id=ids[0], probs=b"", predicted="a", previous_predicted="b"
    )
    job_id = _job(project).pk
    Prediction.objects.create(
        project=project, item_id=ids[1], job_id=job_id, probs=b"", predicted="a", previous_predicted="b"
    )
    # When the pool is read two cache rows at a time
    chunks = list(adapters.pool_chunks(project=project, key=key, dim=2, job_id=job_id, chunk=2))
    # Then every open, non-gold item comes once, in id order, with its features and the earlier job's label
    assert np.concatenate([c.item_ids for c in chunks]).tolist() == [ids[i] for i in (0, 1, 3, 4, 6)]
    assert np.vstack([c.X for c in chunks])[:, 0].tolist() == [0, 1, 3, 4, 6]
    assert [p for c in chunks for p in c.previous] == ["a", "b", "", "", ""]
