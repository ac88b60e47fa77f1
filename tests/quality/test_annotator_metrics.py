"""Per-annotator quality statistics."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from quality.metrics.annotators import annotator_quality
from quality.metrics.reference import majority_vote
from quality.metrics.table import AnnotationTable

A, B = 0, 1
# item 0: A A B | item 1: A A A | item 2: B B - | item 3: A - B
HAND = np.array([[A, A, B], [A, A, A], [B, B, -1], [A, -1, B]])


def test_hand_case_counts_loo_agreement_gold_and_confusion():
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    consensus = majority_vote(table=table).label  # [A, A, B, tie → -1]
    gold = np.array([A, -1, B, B])
    quality = annotator_quality(table=table, consensus=consensus, gold=gold, min_overlap=1)
    assert quality.n_annotations.tolist() == [4, 3, 3]
    # annotator 0: item0 tie (others A,B), item1 right, item2 right, item3 vs {B} wrong → 2/3
    # annotator 1: item0 tie, item1 right, item2 right → 2/2; annotator 2: item0 vs {A,A} wrong, item1 right,
    # item3 vs {A} wrong → 1/3
    np.testing.assert_allclose(quality.loo_agreement, [2 / 3, 1.0, 1 / 3])
    assert quality.n_loo.tolist() == [3, 2, 3]
    # gold: annotator 0 items 0,2,3 → A✓ B✓ A✗ = 2/3; annotator 1 items 0,2 → 2/2;
    # annotator 2 items 0,3 → B✗ B✓ = 1/2
    np.testing.assert_allclose(quality.gold_accuracy, [2 / 3, 1.0, 1 / 2])
    assert quality.n_gold.tolist() == [3, 2, 2]
    # confusion of annotator 2 (rows consensus, cols own): item0 A→B, item1 A→A; item3 has no consensus
    np.testing.assert_array_equal(quality.confusion[2], [[1, 1], [0, 0]])
    assert quality.consensus_agreement[2] == pytest.approx(0.5)


def test_mean_kappa_averages_sklearn_kappas_of_the_annotators_pairs():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 150)
    matrix = np.where(rng.random((150, 4)) < 0.7, truth[:, None], rng.integers(0, 3, (150, 4)))
    matrix[rng.random(matrix.shape) < 0.3] = -1
    table = AnnotationTable.from_dense(matrix, n_classes=3)
    quality = annotator_quality(table=table, consensus=majority_vote(table=table).label, min_overlap=1)
    for a in range(4):
        kappas = []
        for b in range(4):
            both = (matrix[:, a] >= 0) & (matrix[:, b] >= 0)
            if a != b:
                kappas.append(cohen_kappa_score(matrix[both, a], matrix[both, b]))
        assert quality.mean_kappa[a] == pytest.approx(np.mean(kappas), abs=1e-9)
        assert quality.n_pairs[a] == 3


def test_median_lead_time_per_annotator_ignores_nan_and_handles_even_counts():
    table = AnnotationTable.from_dense(HAND, n_classes=2)  # rows ordered (item, annotator)
    # rows: (0,0) (0,1) (0,2) (1,0) (1,1) (1,2) (2,0) (2,1) (3,0) (3,2)
    lead = np.array([4.0, 1.0, 9.0, 2.0, np.nan, 3.0, 10.0, 5.0, 6.0, 1.0])
    quality = annotator_quality(table=table, consensus=np.full(4, -1), lead_time=lead, min_overlap=1)
    # annotator 0: {4, 2, 10, 6} → 5; annotator 1: {1, 5} → 3; annotator 2: {9, 3, 1} → 3
    np.testing.assert_allclose(quality.median_lead_time, [5.0, 3.0, 3.0])


def test_annotator_without_data_gets_nan_rates_and_zero_counts():
    table = AnnotationTable.from_dense(np.array([[A, A], [B, B]]), n_classes=2)
    wider = AnnotationTable(
        item=table.item, annotator=table.annotator, label=table.label, n_items=2, n_annotators=3, n_classes=2
    )
    quality = annotator_quality(
        table=wider, consensus=np.array([A, B]), gold=np.array([-1, -1]), min_overlap=1
    )
    assert (
        quality.n_annotations[2] == 0
        and np.isnan(quality.loo_agreement[2])
        and np.isnan(quality.mean_kappa[2])
    )
    assert np.isnan(quality.gold_accuracy).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"consensus": np.array([0, 1])},
        {"consensus": np.array([0, 1, 5, 0])},
        {"consensus": np.zeros(4, dtype=int), "lead_time": np.ones(3)},
        {"consensus": np.zeros(4, dtype=int), "gold": np.zeros(4)},  # float gold
    ],
)
def test_bad_annotator_input_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        annotator_quality(table=AnnotationTable.from_dense(HAND, n_classes=2), **kwargs)
