"""Dawid–Skene confidence stays honest on small projects: ties and two-to-one splits are not read as certain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quality.metrics.consensus_dawid_skene import MIN_ANNOTATOR_ITEMS, dawid_skene
from quality.metrics.table import AnnotationTable

# The browser loop's nine items (pos=0, neg=1, neutral=2) by three annotators: three unanimous, three 2-to-1
# (each annotator in the minority once), three three-way splits; every label has 9 of the 27 votes.
LOOP_VOTES = np.array(
    [[0, 0, 0], [1, 1, 1], [2, 2, 2], [0, 0, 1], [1, 2, 1], [0, 2, 2], [0, 1, 2], [1, 2, 0], [2, 0, 1]]
)


def test_small_project_gets_the_symmetric_posterior_not_certainty():
    # Given the loop's votes (each annotator has 9 < MIN_ANNOTATOR_ITEMS items)
    fit = dawid_skene(table=AnnotationTable.from_dense(LOOP_VOTES, n_classes=3))
    confidence = fit.consensus.confidence
    # Then every annotator shares one symmetric matrix with accuracy p, the classes are equally likely, and the
    # posterior is the hand-computed one for K=3, q = (1-p)/2:
    p = fit.confusion[0, 0, 0]
    q = (1 - p) / 2
    np.testing.assert_allclose(
        fit.confusion, np.broadcast_to(np.where(np.eye(3, dtype=bool), p, q), (3, 3, 3))
    )
    np.testing.assert_allclose(fit.priors, 1 / 3)
    # unanimous p^3 / (p^3 + 2 q^3), two-to-one p^2 q / (p^2 q + p q^2 + q^3), three-way split exactly 1/3
    np.testing.assert_allclose(confidence[:3], p**3 / (p**3 + 2 * q**3))
    np.testing.assert_allclose(confidence[3:6], p * p * q / (p * p * q + p * q * q + q**3))
    np.testing.assert_allclose(confidence[6:], 1 / 3)
    # and the old reading of 1.00 is gone: a 2-1 split is well below certainty
    assert confidence[3:6].max() < 0.8 and p < 0.9


def test_shrinkage_without_thin_annotators_is_the_plain_fit_at_zero_strength():
    # Given annotators with MIN_ANNOTATOR_ITEMS items each, plain ML (prior_strength=0) vs the default prior
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, MIN_ANNOTATOR_ITEMS)
    votes = np.stack(
        [np.where(rng.random(truth.size) < 0.8, truth, (truth + 1) % 3) for _ in range(3)], axis=1
    )
    table = AnnotationTable.from_dense(votes, n_classes=3)
    plain = dawid_skene(table=table, prior_strength=0.0)
    shrunk = dawid_skene(table=table)
    # Then the prior only pulls towards the pooled symmetric matrix: the off-diagonal spread is more even
    off = ~np.eye(3, dtype=bool)
    assert shrunk.confusion[:, off].std() < plain.confusion[:, off].std()


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(min_value=3, max_value=6),
    n_items=st.integers(min_value=1, max_value=MIN_ANNOTATOR_ITEMS - 2),
    accuracy=st.floats(min_value=0.4, max_value=0.99),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_three_way_tie_among_equally_reliable_annotators_never_reads_above_one_half(
    k, n_items, accuracy, seed
):
    # Given balanced classes, three annotators with the same accuracy (mistakes uniform over the wrong labels), a
    # few items each, and one more item on which they all disagree
    rng = np.random.default_rng(seed)
    truth = rng.permutation(np.arange(n_items) % k)
    votes = np.stack(
        [
            np.where(rng.random(n_items) < accuracy, truth, (truth + rng.integers(1, k, n_items)) % k)
            for _ in range(3)
        ],
        axis=1,
    )
    votes = np.vstack([votes, [0, 1, 2]])
    # When
    confidence = dawid_skene(table=AnnotationTable.from_dense(votes, n_classes=k)).consensus.confidence
    # Then the tie's posterior stays near 1/3 (the true one for equally reliable annotators), never above 1/2
    assert confidence[-1] <= 0.5


@pytest.mark.parametrize("p,k", [(0.8, 3), (0.7, 4), (0.9, 5)])
def test_per_item_posterior_of_a_two_to_one_split_matches_the_hand_formula(p, k):
    # Given symmetric annotators with accuracy p on k classes and a uniform prior: P(2-vote label) =
    # p^2 q / (p^2 q + p q^2 + (k-2) q^3) with q = (1-p)/(k-1)
    from quality.metrics.consensus import consensus_single_item

    q = (1 - p) / (k - 1)
    confusion = np.broadcast_to(np.where(np.eye(k, dtype=bool), p, q), (3, k, k))
    result = consensus_single_item(
        annotators=np.array([0, 1, 2]),
        labels=np.array([0, 0, 1]),
        n_classes=k,
        confusion=confusion,
        priors=np.full(k, 1 / k),
    )
    expected = p * p * q / (p * p * q + p * q * q + (k - 2) * q**3)
    assert result.label == 0 and result.confidence == pytest.approx(expected)
