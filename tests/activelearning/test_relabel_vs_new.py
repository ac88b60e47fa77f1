"""Relabel or label new? ActiveLab scores of labelled items and of new items on one scale, the decision built on
them (pure, no database), and the training job reopening a doubtful item only when that decision says so."""

import warnings

import numpy as np
import pytest
from cleanlab.internal.multiannotator_utils import find_best_temp_scaler
from cleanlab.multiannotator import get_active_learning_scores

from activelearning import priority
from activelearning.models import Prediction
from activelearning.relabel import (
    activelab_labelled,
    activelab_temperature,
    activelab_unlabelled,
    relabel_or_new,
)
from activelearning.services import scoring
from annotation.models import Item, ItemStatus
from ingress.services.bulk import item_bulk_create
from tests.activelearning.al_helpers import al_project, vote
from tests.activelearning.test_al_train import run_train
from tests.factories import add_member

NAN = np.nan
# Three annotators: three items they agree on, one they agree on without the third vote, and a 1–1 split the
# model is unsure about too (the last row).
VOTES = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 0, NAN], [1, NAN, 1], [0, 1, NAN]], dtype=float)
PROBA = np.array(
    [
        [0.9, 0.05, 0.05],
        [0.05, 0.9, 0.05],
        [0.05, 0.05, 0.9],
        [0.8, 0.1, 0.1],
        [0.1, 0.8, 0.1],
        [0.5, 0.45, 0.05],
    ]
)
SPLIT, AGREED = 5, 0


def _cleanlab(votes, proba, unlabelled):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_active_learning_scores(
            labels_multiannotator=votes, pred_probs=proba, pred_probs_unlabeled=unlabelled
        )


def test_one_vote_per_item_gives_the_hand_computed_activelab_scores():
    # Given one vote per item: cleanlab then uses no temperature (1) and weight 1 for the model and each annotator,
    # and a labelled item's quality is the model's probability of its label
    votes = np.array([[0, NAN], [NAN, 1]])
    proba = np.array([[0.9, 0.05, 0.05], [0.2, 0.5, 0.3]])
    # When both kinds of score are computed
    labelled = activelab_labelled(votes=votes, pred_probs=proba)
    new = activelab_unlabelled(
        pred_probs=np.array([[0.5, 0.3, 0.2], [1 / 3, 1 / 3, 1 / 3]]), scale=labelled.scale
    )
    # Then labelled = (quality · (1 voter + model) + 1/K · mean annotator weight) / 3 ...
    assert labelled.scores == pytest.approx([(0.9 * 2 + 1 / 3) / 3, (0.5 * 2 + 1 / 3) / 3])
    # ... and new = (model weight · top probability + 1/K · mean annotator weight) / 2; a uniform row is 1/K
    assert new == pytest.approx([(0.5 + 1 / 3) / 2, 1 / 3])


@pytest.mark.parametrize(
    "votes",
    [
        np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 0, 1], [1, 2, 1], [0, 1, 2]]),
        np.array([[0, NAN], [NAN, 1], [2, NAN], [NAN, 0], [1, NAN], [NAN, 2]]),
    ],
    ids=["every annotator votes (integer labels)", "one vote per item"],
)
def test_chunked_scores_equal_one_cleanlab_call_on_labelled_and_unlabelled_items(votes):
    # Given labelled votes with their probabilities and ten new items split into chunks of 3, 3 and 4
    unlabelled = np.random.default_rng(4).dirichlet(np.ones(3), size=10)
    # When the labelled part is scored once and each chunk of new items on its own
    labelled = activelab_labelled(votes=votes.astype(float), pred_probs=PROBA)
    chunks = [
        activelab_unlabelled(pred_probs=unlabelled[s : s + n], scale=labelled.scale)
        for s, n in ((0, 3), (3, 3), (6, 4))
    ]
    # Then both equal what cleanlab returns for everything in one call (the two share one scale)
    expected_labelled, expected_new = _cleanlab(votes, PROBA, unlabelled)
    assert labelled.scores == pytest.approx(expected_labelled, abs=1e-12)
    assert np.concatenate(chunks) == pytest.approx(expected_new, abs=1e-12)


def test_the_temperature_does_not_depend_on_how_the_labels_are_stored():
    # Given votes every annotator gave (so cleanlab can take them as integers) and the same votes as floats
    votes = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [1, 1, 1], [2, 2, 1], [0, 1, 1]])
    proba = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.05, 0.9, 0.05],
            [0.05, 0.05, 0.9],
            [0.1, 0.85, 0.05],
            [0.05, 0.15, 0.8],
            [0.3, 0.6, 0.1],
        ]
    )
    # When the temperature is searched on the float matrix (the only kind that can hold "no vote")
    temperature = activelab_temperature(votes=votes.astype(float), pred_probs=proba)
    # Then it is cleanlab's own choice for the integer matrix, where cleanlab indexes the classes correctly ...
    assert temperature == pytest.approx(find_best_temp_scaler(votes, proba))
    # ... while cleanlab 2.9 on the floats counts "1, 1, 1" as class 0 and flattens the model. When this line
    # fails, cleanlab has fixed it: activelab_temperature can go back to cleanlab's find_best_temp_scaler.
    assert find_best_temp_scaler(votes.astype(float), proba) > temperature


def test_rows_without_votes_or_probabilities_get_no_score():
    votes = np.vstack([VOTES, [NAN, NAN, NAN]])
    proba = np.vstack([PROBA, [1 / 3, 1 / 3, 1 / 3]])
    proba[AGREED] = NAN
    labelled = activelab_labelled(votes=votes, pred_probs=proba)
    assert np.isnan(labelled.scores[[AGREED, -1]]).all() and np.isfinite(labelled.scores[1:-1]).all()
    assert np.isnan(activelab_unlabelled(pred_probs=np.array([[NAN, 0.5, 0.5]]), scale=labelled.scale)).all()
    assert activelab_labelled(votes=np.full((2, 2), NAN), pred_probs=PROBA[:2]).scale is None
    with pytest.raises(ValueError):
        activelab_unlabelled(pred_probs=np.ones((1, 4)) / 4, scale=labelled.scale)


def test_a_doubtful_split_item_wins_over_confident_new_items():
    # Given the 1–1 split and two new items the model is sure about
    labelled = activelab_labelled(votes=VOTES, pred_probs=PROBA)
    new = activelab_unlabelled(
        pred_probs=np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01]]), scale=labelled.scale
    )
    # When relabel and new are weighed (the split item is eligible for one more vote)
    wins = relabel_or_new(relabel_scores=labelled.scores[[SPLIT]], eligible=np.array([True]), new_scores=new)
    # Then one more vote on the split item is worth more: its score is lower than the new items'
    assert labelled.scores[SPLIT] < new.min()
    assert wins.tolist() == [True]


def test_new_items_win_over_an_agreed_item():
    # Given an item three annotators and the model agree on, and a new item the model cannot tell apart (uniform:
    # ActiveLab's floor, 1/K, whatever the weights)
    labelled = activelab_labelled(votes=VOTES, pred_probs=PROBA)
    new = activelab_unlabelled(pred_probs=np.array([[0.34, 0.33, 0.33]]), scale=labelled.scale)
    # When relabel and new are weighed
    wins = relabel_or_new(relabel_scores=labelled.scores[[AGREED]], eligible=np.array([True]), new_scores=new)
    # Then the new item wins and the agreed item stays closed
    assert new[0] < labelled.scores[AGREED]
    assert wins.tolist() == [False]


def test_relabel_or_new_compares_with_the_median_new_item_and_respects_eligibility():
    # Given four labelled items (the third without a score, the fourth at its cap) and new items 0.3, 0.5, 0.7
    scores = np.array([0.2, 0.6, NAN, 0.1])
    eligible = np.array([True, True, True, False])
    # Then only the first is below the median new score (0.5) and eligible
    assert relabel_or_new(
        relabel_scores=scores, eligible=eligible, new_scores=np.array([0.7, NAN, 0.3, 0.5])
    ).tolist() == [True, False, False, False]
    # and with no new item to weigh against, nothing is reopened
    assert not relabel_or_new(relabel_scores=scores, eligible=eligible, new_scores=np.array([NAN])).any()


# ---- the training job ------------------------------------------------------------------------------------------

DOUBTFUL_TEXT = "great awful the film wonderful terrible was"  # as many positive as negative words


def _voted_project(*, max_k: int):
    """k = 3, 30 labelled items and a pool of 24, of which three shared annotators labelled 12 unanimously (four
    per label) and an ambiguous text pos, pos, neg (a majority: the overlap rule wants nothing more); a fourth
    annotator has seen none of them, so another vote can be asked for."""
    project, _, pool = al_project(
        k=3, max_annotations_per_item=max_k, n_labelled_per_label=10, n_pool_per_label=8
    )
    result = item_bulk_create(project=project, rows=[{"external_id": "doubtful", "text": DOUBTFUL_TEXT}])
    assert not result.errors
    doubtful = Item.objects.get(project=project, external_id="doubtful")
    annotators = [add_member(project) for _ in range(3)]
    agreed = [item for item in pool if int(item.external_id.rsplit("-", 1)[1]) < 4]
    for item in agreed:
        label = item.external_id.split("-")[1]
        vote(project, item, [label] * 3, annotators=annotators)
        Item.objects.filter(pk=item.pk).update(
            consensus_label=label
        )  # what the quality layer's hook would set
    vote(project, doubtful, ["pos", "pos", "neg"], annotators=annotators)
    Item.objects.filter(pk=doubtful.pk).update(consensus_label="pos")
    add_member(project)
    return project, doubtful, agreed


@pytest.mark.django_db
def test_training_reopens_a_doubtful_majority_item_above_the_batch_and_leaves_agreed_ones_closed(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given k = 3, at most 5 annotations, an ambiguous item voted 2–1 and three unanimous items, all labelled
    project, doubtful, agreed = _voted_project(max_k=5)
    assert Item.objects.get(pk=doubtful.pk).status == ItemStatus.LABELLED
    # When a training job runs
    _, result = run_train(project)
    # Then ActiveLab rated one more vote on the doubtful item above a first vote on the batch's new items:
    # it is back in the queue for one more annotation, in the EXTRA band above every batch item
    doubtful = Item.objects.get(pk=doubtful.pk)
    assert (doubtful.status, doubtful.target_annotations) == (ItemStatus.IN_PROGRESS, 4)
    relabel = dict(
        Prediction.objects.filter(item_id__in=[doubtful.pk, *[i.pk for i in agreed]]).values_list(
            "item_id", "relabel_score"
        )
    )
    assert doubtful.priority == pytest.approx(priority.BAND_EXTRA + 1 - relabel[doubtful.pk])
    batch = Item.objects.filter(
        project=project, priority__gte=priority.BAND_BATCH, priority__lt=priority.BAND_BATCH + 1
    )
    assert batch.count() == 4 and all(item.priority < doubtful.priority for item in batch)
    # and the unanimous items stay labelled with their three votes
    assert {(i.status, i.target_annotations) for i in Item.objects.filter(pk__in=[i.pk for i in agreed])} == {
        (ItemStatus.LABELLED, 3)
    }
    assert all(relabel[i.pk] > relabel[doubtful.pk] for i in agreed)
    assert (result["n_relabel_over_new"], result["n_reopened"], result["n_checked"]) == (1, 1, 13)


@pytest.mark.django_db
def test_training_leaves_a_doubtful_item_closed_when_it_is_at_the_cap(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given the same items, but at most 3 annotations per item: the doubtful item has all it may get
    project, doubtful, _ = _voted_project(max_k=3)
    # When a training job runs
    _, result = run_train(project)
    # Then it keeps its label: ActiveLab scored it, but it is not eligible for one more annotation
    assert Item.objects.get(pk=doubtful.pk).status == ItemStatus.LABELLED
    assert Prediction.objects.get(item_id=doubtful.pk).relabel_score is not None
    assert (result["n_relabel_over_new"], result["n_reopened"]) == (0, 0)
