"""The stored consensus is always a label somebody voted for; where the consensus method prefers another, the item
says so (``model_overrides_annotators``) and the method's unvoted pick is kept apart as a suggestion.

Reproduces what a reviewer saw: a consensus with no votes (at confidence 0.00, or a unanimous 5, 5, 5 → "6" at
0.996), a minority beating a majority without a word, and the per-item update trusting a strong model prior
over annotators who joined after the last fit.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from quality.adapters import project_data_for_table
from quality.metrics.consensus import consensus_single_item
from quality.metrics.table import AnnotationTable
from quality.services.engine import run_quality

OVERRIDE = "model_overrides_annotators"


def _run(table: AnnotationTable, labels: list[str], method: str, **data_fields):
    data = project_data_for_table(
        table=table, label_values=labels, features=data_fields.pop("features", None)
    )
    if data_fields:
        from dataclasses import replace

        data = replace(data, **data_fields)
    return run_quality(
        data=data, requested_method=method, review_threshold=0.6, route_profile_flags=True, n_boot=0
    )


# ---------------------------------------------------------------- the rule on one score matrix


def test_voted_consensus_takes_the_best_voted_label_and_keeps_the_unvoted_top_as_a_suggestion():
    from quality.metrics.consensus_votes import voted_consensus

    # Given a method that ranks class 2 first although the votes are 0, 0, 1
    scores = np.array([[0.15, 0.05, 0.80]])
    counts = np.array([[2, 1, 0]])
    # When
    result = voted_consensus(scores=scores, counts=counts)
    # Then the consensus is the best voted class, at its own score, and class 2 is only a suggestion
    assert (result.label[0], result.suggestion[0], bool(result.overrides[0])) == (0, 2, True)
    assert result.confidence[0] == pytest.approx(0.15)


def test_voted_consensus_marks_a_minority_beating_the_majority_and_not_a_broken_tie():
    from quality.metrics.consensus_votes import voted_consensus

    # Given item 0: votes 2 × class 0, 1 × class 1, method prefers 1; item 1: a 1-1 tie the method breaks;
    # item 2: no votes
    scores = np.array([[0.3, 0.7, 0.0], [0.2, 0.7, 0.1], [0.5, 0.5, 0.0]])
    counts = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0]])
    # When
    result = voted_consensus(scores=scores, counts=counts)
    # Then the minority win is kept (it is voted) but marked; the tie is not an override; no votes, no label
    assert result.label.tolist() == [1, 1, -1]
    assert result.overrides.tolist() == [True, False, False]
    assert result.suggestion.tolist() == [-1, -1, -1]
    assert result.confidence[:2].tolist() == [0.7, 0.7] and np.isnan(result.confidence[2])


# ---------------------------------------------------------------- the per-item update


def test_single_item_update_with_annotators_unknown_to_the_fit_never_picks_a_label_nobody_chose():
    # Given the last fit knew annotators 0 and 1 (both 60 % accurate); annotators 7 and 8 joined after it and
    # both voted class 0; the item's model probabilities put 0.998 on class 2
    confusion = np.array([np.full((3, 3), 0.2) + np.eye(3) * 0.4] * 2)
    model_prior = np.array([0.001, 0.001, 0.998])
    # When the per-item consensus runs
    result = consensus_single_item(
        annotators=[7, 8], labels=[0, 0], n_classes=3, confusion=confusion, priors=model_prior
    )
    # Then the posterior (newcomers count as the mean annotator) ranks class 2 first by hand:
    # 0.001·0.6² = 3.6e-4, 0.001·0.2² = 4e-5, 0.998·0.2² = 0.03992
    joint = model_prior * np.array([0.6, 0.2, 0.2]) ** 2
    np.testing.assert_allclose(result.posterior, joint / joint.sum())
    # but the consensus is the label both annotators chose, at its (low) posterior, and class 2 a suggestion
    assert result.label == 0
    assert result.confidence == pytest.approx(joint[0] / joint.sum())
    assert (result.suggestion, result.overrides) == (2, True)


def test_single_item_update_without_a_strong_prior_is_unchanged():
    confusion = np.array([np.full((3, 3), 0.2) + np.eye(3) * 0.4] * 2)
    result = consensus_single_item(annotators=[0, 1, 5], labels=[1, 1, 2], n_classes=3, confusion=confusion)
    assert (result.label, result.suggestion, result.overrides) == (1, -1, False)


# ---------------------------------------------------------------- the quality run


def _swapping_crowd() -> tuple[AnnotationTable, int]:
    """Classes "5", "6", "7". Two honest annotators (0, 1) and three (2, 3, 4) who always swap 5 and 6: every
    item 0..59 gets both honest votes and one swapper's, so the fit learns the swap. Item 60 gets only the
    swappers, all saying "5". Returns (table, index of item 60)."""
    item, annotator, label = [], [], []
    swap = {0: 1, 1: 0, 2: 2}
    for i in range(60):
        truth = i % 3
        for a, said in ((0, truth), (1, truth), (2 + i % 3, swap[truth])):
            item.append(i)
            annotator.append(a)
            label.append(said)
    for a in (2, 3, 4):
        item.append(60)
        annotator.append(a)
        label.append(0)
    table = AnnotationTable(
        item=np.array(item),
        annotator=np.array(annotator),
        label=np.array(label),
        n_items=61,
        n_annotators=5,
        n_classes=3,
        group=np.zeros(len(item), dtype=np.int64),
    )
    return table, 60


def test_dawid_skene_run_keeps_a_unanimous_vote_and_shows_its_override_as_a_suggestion():
    # Given a unanimous "5" from three annotators the fit has seen swap 5 and 6 on sixty items
    table, lone = _swapping_crowd()
    # When a Dawid–Skene run measures the project
    outcome = _run(table, ["5", "6", "7"], "dawid_skene")
    items = outcome.items
    # Then the consensus is "5", the label every annotator chose; "6" (the method's pick) is a suggestion with its
    # reason; the confidence is the method's probability for "5", which it doubts; the item goes to review
    assert items.consensus[lone] == "5"
    assert items.suggestion[lone] == "6"
    assert OVERRIDE in items.reasons[lone]
    assert items.confidence[lone] < 0.5 and "low_consensus_confidence" in items.reasons[lone]
    assert bool(items.route[lone])
    # and the items the honest pair decided are not touched
    assert items.consensus[:60] == [str(5 + i % 3) for i in range(60)]
    assert not any(OVERRIDE in reasons for reasons in items.reasons[:60])


def _digits_crowd(seed: int) -> tuple[np.ndarray, np.ndarray, AnnotationTable]:
    """600 digit images, each labelled by 3 of 15 simulated annotators: 12 honest ones (55–95 % accurate,
    mistakes mostly to a look-alike digit), one spammer, two who map each digit to a fixed wrong one."""
    rng = np.random.default_rng(seed)
    features, truth = load_digits(return_X_y=True)
    features, truth = features[:600], truth[:600]
    look_alike = np.array([6, 7, 3, 5, 9, 3, 0, 1, 3, 4])
    matrices = []
    for _ in range(12):
        accuracy = rng.uniform(0.55, 0.95)
        matrix = np.full((10, 10), 0.3 * (1 - accuracy) / 9)
        matrix[np.arange(10), look_alike] += 0.7 * (1 - accuracy)
        matrix[np.arange(10), np.arange(10)] = accuracy
        matrices.append(matrix / matrix.sum(axis=1, keepdims=True))
    matrices.append(np.full((10, 10), 0.1))
    for _ in range(2):
        wrong = (np.arange(10) + rng.integers(1, 10)) % 10
        matrix = np.full((10, 10), 0.15 / 9)
        matrix[np.arange(10), wrong] = 0.85
        matrices.append(matrix)
    confusion = np.array(matrices)
    annotator = np.argsort(rng.random((600, 15)), axis=1)[:, :3].ravel()
    item = np.repeat(np.arange(600), 3)
    cumulative = confusion[annotator, truth[item]].cumsum(axis=1)
    label = np.minimum((rng.random(item.size)[:, None] > cumulative).sum(axis=1), 9)
    table = AnnotationTable(
        item=item,
        annotator=annotator,
        label=label,
        n_items=600,
        n_annotators=15,
        n_classes=10,
        group=np.zeros(item.size, dtype=np.int64),
    )
    return features, truth, table


def test_crowdlab_run_with_the_quality_model_stores_only_voted_consensus_and_names_every_override():
    # Given 600 digit images × 3 of 15 annotators with cached features (the quality model runs)
    features, truth, table = _digits_crowd(seed=0)
    # When the run uses CROWDLAB with the quality model
    outcome = _run(table, [str(d) for d in range(10)], "auto", features=features)
    assert outcome.method == "crowdlab"
    counts = table.counts()
    stored = np.array([int(value) for value in outcome.items.consensus])
    votes_for_stored = counts[np.arange(600), stored]
    overridden = np.array([OVERRIDE in reasons for reasons in outcome.items.reasons])
    # Then every stored consensus has at least one vote
    assert (votes_for_stored > 0).all()
    # and one with fewer votes than the item's most-voted label says why
    assert overridden[votes_for_stored < counts.max(axis=1)].all()
    # and every unvoted pick of the method is a suggestion on an overridden item, never the consensus
    suggested = np.array([-1 if value is None else int(value) for value in outcome.items.suggestion])
    has = suggested >= 0
    assert has.any() and overridden[has].all() and (counts[np.flatnonzero(has), suggested[has]] == 0).all()
    # and a confidence below 1/10 (less than a uniform guess) only appears where the method overrode the votes:
    # without an override the stored label is the top of the posterior whose probability the confidence is
    confidence = np.asarray(outcome.items.confidence)
    assert not ((confidence < 0.1) & ~overridden).any()
    # and overridden items are routed to review, where the suggestion is shown
    assert outcome.items.route[overridden].all()
    # and the suggestions are worth showing: mostly the true digit
    assert (suggested[has] == truth[has]).mean() > 0.7
