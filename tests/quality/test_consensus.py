"""Consensus methods: majority vote, Dawid–Skene, CROWDLAB/ActiveLab wrappers, dispatcher, one-item update."""

from __future__ import annotations

import numpy as np
import pytest
from cleanlab.multiannotator import get_active_learning_scores, get_label_quality_multiannotator

from quality.metrics.consensus import (
    active_learning_scores,
    consensus,
    consensus_single_item,
    crowdlab,
    dawid_skene,
    iterative_crowdlab,
    majority_vote,
)
from quality.metrics.consensus_oos import cross_val_pred_probs
from quality.metrics.table import AnnotationTable

MISSING = -1


def _simulate(
    *, confusion: np.ndarray, priors: np.ndarray, n_items: int, per_item: int | None, seed: int
) -> tuple[AnnotationTable, np.ndarray]:
    """Annotations drawn from known confusion matrices; ``per_item=None`` means every annotator labels all."""
    rng = np.random.default_rng(seed)
    n_annotators, k, _ = confusion.shape
    truth = rng.choice(k, size=n_items, p=priors)
    if per_item is None:
        annotator = np.tile(np.arange(n_annotators), n_items)
        item = np.repeat(np.arange(n_items), n_annotators)
    else:
        annotator = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item].ravel()
        item = np.repeat(np.arange(n_items), per_item)
    cumulative = confusion[annotator, truth[item]].cumsum(axis=1)
    label = np.minimum((rng.random(item.size)[:, None] > cumulative).sum(axis=1), k - 1)
    table = AnnotationTable(
        item=item, annotator=annotator, label=label, n_items=n_items, n_annotators=n_annotators, n_classes=k
    )
    return table, truth


def _noisy(accuracy: float, k: int) -> np.ndarray:
    matrix = np.full((k, k), (1 - accuracy) / (k - 1))
    np.fill_diagonal(matrix, accuracy)
    return matrix


# ---------------------------------------------------------------- majority vote


def test_majority_vote_picks_plurality_and_reports_share_and_ties() -> None:
    # Given: class 2 is the most used overall (5 votes), class 0 and 1 have 3 each
    table = AnnotationTable.from_dense(
        np.array([[0, 0, 1], [1, 2, MISSING], [2, 2, 2], [MISSING] * 3, [0, 1, 2]]), n_classes=3
    )
    # When
    result = majority_vote(table=table)
    # Then: ties go to the more prevalent class 2; the empty item gets -1 and NaN
    np.testing.assert_array_equal(result.label, [0, 2, 2, -1, 2])
    np.testing.assert_allclose(result.confidence[[0, 1, 2, 4]], [2 / 3, 1 / 2, 1, 1 / 3])
    assert np.isnan(result.confidence[3])
    np.testing.assert_array_equal(result.is_tie, [False, True, False, False, True])
    assert result.method == "majority_vote" and result.posteriors is None


def test_majority_vote_ties_between_equally_prevalent_classes_go_to_lowest_index() -> None:
    # Given: classes 1 and 3 tie on one item and are equally prevalent overall
    table = AnnotationTable.from_dense(np.array([[3, 1], [0, 0], [2, 2]]), n_classes=4)
    # When
    result = majority_vote(table=table)
    # Then
    assert result.label[0] == 1 and result.is_tie[0]


def test_majority_vote_annotator_quality_is_agreement_on_shared_items() -> None:
    # Given: annotator 2 disagrees on one of two shared items; annotator 3 only labels a lone item
    table = AnnotationTable.from_dense(
        np.array([[0, 0, 1, MISSING], [1, 1, 1, MISSING], [MISSING, MISSING, MISSING, 2]]), n_classes=3
    )
    # When
    quality = majority_vote(table=table).annotator_quality
    # Then
    np.testing.assert_allclose(quality[:3], [1.0, 1.0, 0.5])
    assert np.isnan(quality[3])


# ---------------------------------------------------------------- Dawid–Skene


def test_dawid_skene_recovers_known_confusion_matrices() -> None:
    # Given: three annotators with distinct, known confusions labelling 2,000 items
    true_confusion = np.array(
        [
            [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]],
            [[0.7, 0.2, 0.1], [0.15, 0.8, 0.05], [0.1, 0.1, 0.8]],
            [[0.8, 0.05, 0.15], [0.05, 0.9, 0.05], [0.2, 0.05, 0.75]],
        ]
    )
    priors = np.array([0.5, 0.3, 0.2])
    table, truth = _simulate(confusion=true_confusion, priors=priors, n_items=2000, per_item=None, seed=1)
    # When
    fit = dawid_skene(table=table)
    # Then
    assert fit.converged
    assert np.abs(fit.confusion - true_confusion).max() < 0.05
    assert np.abs(fit.priors - priors).max() < 0.03
    expected_quality = np.einsum("k,akk->a", priors, true_confusion)
    np.testing.assert_allclose(fit.consensus.annotator_quality, expected_quality, atol=0.03)
    np.testing.assert_allclose(fit.consensus.posteriors.sum(axis=1), 1.0)
    assert (fit.consensus.label == truth).mean() > 0.9


def test_dawid_skene_beats_majority_vote_with_an_adversarial_annotator() -> None:
    # Given: two decent annotators and one who systematically answers (true + 1) mod 4
    k = 4
    adversary = np.roll(np.eye(k), 1, axis=1) * 0.9 + 0.1 / k
    confusion = np.stack([_noisy(0.7, k), _noisy(0.7, k), adversary / adversary.sum(axis=1, keepdims=True)])
    table, truth = _simulate(
        confusion=confusion, priors=np.full(k, 1 / k), n_items=2000, per_item=None, seed=2
    )
    # When
    mv_accuracy = (majority_vote(table=table).label == truth).mean()
    fit = dawid_skene(table=table)
    ds_accuracy = (fit.consensus.label == truth).mean()
    # Then: DS inverts the adversary's permutation instead of counting it as noise
    assert ds_accuracy > mv_accuracy + 0.1
    assert fit.consensus.annotator_quality[2] < 0.2 < fit.consensus.annotator_quality[0]


def test_dawid_skene_one_iteration_matches_a_loop_reference() -> None:
    # Given: a small table and a plain-Python EM step from vote-share initialisation
    table = AnnotationTable.from_dense(
        np.array([[0, 0, 1], [1, 1, MISSING], [2, 1, 2], [0, MISSING, 0], [2, 2, 1]]), n_classes=3
    )
    smoothing = 0.5
    shares = table.counts() / table.counts().sum(axis=1, keepdims=True)
    counts = np.full((3, 3, 3), smoothing)
    for i, a, lab in zip(table.item, table.annotator, table.label, strict=True):
        counts[a, :, lab] += shares[i]
    confusion = counts / counts.sum(axis=2, keepdims=True)
    priors = (shares.sum(axis=0) + smoothing) / (shares.sum() + 3 * smoothing)
    joint = np.tile(priors, (5, 1))
    for i, a, lab in zip(table.item, table.annotator, table.label, strict=True):
        joint[i] *= confusion[a, :, lab]
    expected = joint / joint.sum(axis=1, keepdims=True)
    # When
    fit = dawid_skene(table=table, max_iter=1, smoothing=smoothing, prior_strength=0.0, min_annotator_items=0)
    # Then
    assert fit.n_iter == 1
    np.testing.assert_allclose(fit.confusion, confusion)
    np.testing.assert_allclose(fit.priors, priors)
    np.testing.assert_allclose(fit.consensus.posteriors, expected)


def test_dawid_skene_marks_unannotated_items_and_unseen_annotators() -> None:
    # Given: item 2 has no annotation, annotator 2 none either
    table = AnnotationTable(
        item=[0, 0, 1, 1], annotator=[0, 1, 0, 1], label=[0, 0, 1, 1], n_items=3, n_annotators=3, n_classes=2
    )
    # When
    fit = dawid_skene(table=table)
    # Then
    assert fit.consensus.label.tolist() == [0, 1, -1]
    assert np.isnan(fit.consensus.confidence[2])
    np.testing.assert_allclose(fit.consensus.posteriors[2], fit.priors)
    assert np.isnan(fit.consensus.annotator_quality[2])
    np.testing.assert_allclose(fit.confusion[2], fit.confusion[:2].mean(axis=0))


@pytest.mark.parametrize("kwargs", [{"max_iter": 0}, {"tol": 0.0}, {"smoothing": 0.0}])
def test_dawid_skene_rejects_bad_parameters(kwargs: dict[str, float]) -> None:
    table = AnnotationTable.from_dense(np.array([[0, 1], [1, 1]]), n_classes=2)
    with pytest.raises(ValueError):
        dawid_skene(table=table, **kwargs)


# ---------------------------------------------------------------- CROWDLAB / ActiveLab


def _spammer_table(seed: int) -> tuple[AnnotationTable, np.ndarray, np.ndarray]:
    k = 4
    confusion = np.stack([_noisy(0.9, k), _noisy(0.85, k), _noisy(0.8, k), np.full((k, k), 1 / k)])
    table, truth = _simulate(
        confusion=confusion, priors=np.full(k, 1 / k), n_items=400, per_item=3, seed=seed
    )
    rng = np.random.default_rng(seed)
    # A decent but imperfect model: 75 % mass on the truth, 10 % of items confidently wrong.
    probs = np.full((400, k), 0.25 / (k - 1))
    predicted = np.where(rng.random(400) < 0.9, truth, (truth + 1) % k)
    probs[np.arange(400), predicted] = 0.75
    return table, truth, probs


def test_crowdlab_returns_full_length_arrays_and_ranks_the_spammer_last() -> None:
    # Given: three good annotators and one who answers at random, plus item 400 nobody labelled
    table, truth, probs = _spammer_table(seed=3)
    table = AnnotationTable(
        item=table.item,
        annotator=table.annotator,
        label=table.label,
        n_items=401,
        n_annotators=5,
        n_classes=4,
    )
    probs = np.vstack([probs, np.full(4, 0.25)])
    # When
    result = crowdlab(table=table, pred_probs=probs)
    # Then
    assert result.label.shape == (401,) and result.confidence.shape == (401,)
    assert result.label[400] == -1 and np.isnan(result.confidence[400])
    assert result.annotator_quality.shape == (5,) and np.isnan(result.annotator_quality[4])
    assert result.annotator_quality[3] < result.annotator_quality[:3].min()
    assert (result.label[:400] == truth).mean() > (majority_vote(table=table).label[:400] == truth).mean()


def test_crowdlab_matches_cleanlab_called_directly() -> None:
    # Given
    table, _, probs = _spammer_table(seed=4)
    wide = table.dense(fill=MISSING).astype(float)
    wide[wide == MISSING] = np.nan
    # When
    ours = crowdlab(table=table, pred_probs=probs)
    reference = get_label_quality_multiannotator(wide, probs, verbose=False)
    # Then
    np.testing.assert_array_equal(ours.label, reference["label_quality"]["consensus_label"])
    np.testing.assert_allclose(ours.confidence, reference["label_quality"]["consensus_quality_score"])
    np.testing.assert_allclose(
        ours.annotator_quality, reference["annotator_stats"]["annotator_quality"].sort_index()
    )


def test_active_learning_scores_cover_labelled_and_unlabelled_items() -> None:
    # Given: 400 labelled items and 50 unlabelled ones
    table, _, probs = _spammer_table(seed=5)
    table = AnnotationTable(
        item=table.item,
        annotator=table.annotator,
        label=table.label,
        n_items=450,
        n_annotators=4,
        n_classes=4,
    )
    probs = np.vstack([probs, np.tile([0.7, 0.1, 0.1, 0.1], (50, 1))])
    wide = table.dense(fill=MISSING)[:400].astype(float)
    wide[wide == MISSING] = np.nan
    # When
    scores = active_learning_scores(table=table, pred_probs=probs)
    reference_labelled, reference_unlabelled = get_active_learning_scores(wide, probs[:400], probs[400:])
    # Then
    np.testing.assert_allclose(scores[:400], reference_labelled)
    np.testing.assert_allclose(scores[400:], reference_unlabelled)


# ---------------------------------------------------------------- dispatcher and errors


def test_consensus_defaults_to_crowdlab_with_probabilities_and_dawid_skene_without() -> None:
    table, _, probs = _spammer_table(seed=6)
    assert consensus(table=table).method == "dawid_skene"
    assert consensus(table=table, pred_probs=probs).method == "crowdlab"
    assert consensus(table=table, method="majority_vote").method == "majority_vote"


def test_consensus_default_falls_back_to_dawid_skene_when_no_item_has_two_labels() -> None:
    table = AnnotationTable(
        item=[0, 1], annotator=[0, 1], label=[0, 1], n_items=2, n_annotators=2, n_classes=2
    )
    result = consensus(table=table, pred_probs=np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert result.method == "dawid_skene"


@pytest.mark.parametrize(
    ("method", "with_probs", "bad_shape"),
    [
        ("crowdlab", False, False),
        ("majority_vote", True, False),
        ("mean", False, False),
        ("crowdlab", True, True),
    ],
)
def test_consensus_rejects_bad_requests(method: str, with_probs: bool, bad_shape: bool) -> None:
    table, _, probs = _spammer_table(seed=7)
    if bad_shape:
        probs = probs[:, :3] / probs[:, :3].sum(axis=1, keepdims=True)
    with pytest.raises(ValueError):
        consensus(table=table, method=method, pred_probs=probs if with_probs else None)


def test_consensus_rejects_multi_label_tables() -> None:
    table = AnnotationTable(
        item=[0], annotator=[0], label=[[1, 0]], n_items=1, n_annotators=1, n_classes=2, multi_label=True
    )
    with pytest.raises(ValueError, match="single-label"):
        consensus(table=table)


# ---------------------------------------------------------------- single item


def test_single_item_without_confusion_is_a_majority_vote_with_prior_tie_break() -> None:
    result = consensus_single_item(
        annotators=[0, 1], labels=[2, 0], n_classes=3, priors=np.array([0.2, 0.3, 0.5])
    )
    assert (result.label, result.confidence, result.is_tie) == (2, 0.5, True)
    np.testing.assert_allclose(result.posterior, [0.5, 0, 0.5])


def test_single_item_with_confusion_matches_hand_computed_posterior() -> None:
    # Given: annotator 0 reliable, annotator 1 near random; annotator 5 is new (gets the mean matrix)
    confusion = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.4, 0.6]]])
    priors = np.array([0.6, 0.4])
    # When
    result = consensus_single_item(
        annotators=[0, 1, 5], labels=[0, 1, 1], n_classes=2, confusion=confusion, priors=priors
    )
    # Then
    mean = confusion.mean(axis=0)
    joint = priors * confusion[0][:, 0] * confusion[1][:, 1] * mean[:, 1]
    np.testing.assert_allclose(result.posterior, joint / joint.sum())
    assert result.label == int(np.argmax(joint)) and not result.is_tie


def test_single_item_without_votes_has_no_label() -> None:
    result = consensus_single_item(annotators=[], labels=[], n_classes=3)
    assert result.label == -1 and np.isnan(result.confidence)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"annotators": [0], "labels": [0, 1], "n_classes": 2},
        {"annotators": [0], "labels": [2], "n_classes": 2},
        {"annotators": [0], "labels": [1], "n_classes": 2, "confusion": np.ones((1, 3, 3)) / 3},
        {"annotators": [0], "labels": [1], "n_classes": 2, "priors": np.array([0.5, 0.6])},
    ],
)
def test_single_item_rejects_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        consensus_single_item(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- model-assisted pipeline


def test_iterative_crowdlab_calls_the_model_once_per_round_and_records_history() -> None:
    # Given: a "model" that knows the truth for most items and records what it was trained on
    table, truth, probs = _spammer_table(seed=8)
    seen: list[np.ndarray] = []

    def fit_predict_oos(labels: np.ndarray) -> np.ndarray:
        seen.append(labels)
        return probs

    # When
    result = iterative_crowdlab(table=table, fit_predict_oos=fit_predict_oos, rounds=2)
    # Then
    assert len(seen) == 2 and result.history.shape == (3, 400)
    np.testing.assert_array_equal(seen[0], dawid_skene(table=table).consensus.label)
    np.testing.assert_array_equal(seen[1], result.history[1])
    assert (result.consensus.label == truth).mean() >= (result.history[0] == truth).mean()


def test_iterative_crowdlab_rejects_malformed_model_output() -> None:
    table, _, _ = _spammer_table(seed=9)
    with pytest.raises(ValueError):
        iterative_crowdlab(table=table, fit_predict_oos=lambda labels: np.ones((3, 4)))


def test_cross_val_pred_probs_is_deterministic_and_covers_unlabelled_items() -> None:
    # Given: two well separated blobs, item 9 unlabelled
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(0, 1, (10, 2)), rng.normal(6, 1, (10, 2))])
    labels = np.repeat([0, 1], 10)
    labels[9] = -1
    # When
    first = cross_val_pred_probs(features=features, labels=labels, n_classes=3, seed=1)
    second = cross_val_pred_probs(features=features, labels=labels, n_classes=3, seed=1)
    # Then
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first.sum(axis=1), 1.0)
    assert (first[:, 2] == 0).all()
    assert first[9, 0] > 0.5 and (first[10:, 1] > 0.5).all()


def test_cross_val_pred_probs_rejects_too_few_labels() -> None:
    with pytest.raises(ValueError, match="labelled items"):
        cross_val_pred_probs(features=np.zeros((4, 2)), labels=np.array([0, 1, -1, -1]), n_classes=2)
