"""Agreement metrics: hand-computed cases and reference implementations (statsmodels, krippendorff, sklearn)."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from quality.metrics.agreement import (
    coincidence_matrix,
    count_metrics,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from quality.metrics.agreement_report import agreement_report
from quality.metrics.pairwise import pairwise_cohen_kappa
from quality.metrics.table import AnnotationTable

A, B = 0, 1
# item 0: A A A | item 1: A A B | item 2: A B - | item 3: A - - (single annotation, ignored)
HAND = np.array([[A, A, A], [A, A, B], [A, B, -1], [A, -1, -1]])


def _noisy_matrix(
    seed: int, n_items: int = 120, n_raters: int = 6, k: int = 4, missing: float = 0.3
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n_items)
    matrix = np.where(
        rng.random((n_items, n_raters)) < 0.6, truth[:, None], rng.integers(0, k, (n_items, n_raters))
    )
    matrix[rng.random(matrix.shape) < missing] = -1
    return matrix


def _reliability(matrix: np.ndarray) -> np.ndarray:
    return np.where(matrix < 0, np.nan, matrix).T.astype(float)


def test_percent_agreement_is_mean_share_of_agreeing_pairs_over_items_with_two_annotations():
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    # item0 3/3 pairs agree, item1 1/3, item2 0/1; item3 excluded → (1 + 1/3 + 0) / 3 = 4/9
    assert percent_agreement(table=table) == pytest.approx(4 / 9, abs=1e-12)


def test_fleiss_kappa_with_unequal_counts_uses_per_item_pair_shares_and_pooled_marginals():
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    # P̄ = 4/9; pooled votes over items 0-2: A 6, B 2 of 8 → Pe = 0.75² + 0.25² = 0.625
    # κ = (4/9 − 0.625) / (1 − 0.625) = −13/27
    assert fleiss_kappa(table=table) == pytest.approx(-13 / 27, abs=1e-12)


def test_krippendorff_alpha_hand_case_matches_formula_and_package():
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    # o_AA = 3·2/2 + 2·1/2 = 4, o_BB = 0, n = 8, n_A = 6, n_B = 2
    # α = 1 − (n−1)(n − Σo_cc) / (n² − Σn_c²) = 1 − 7·4 / (64 − 36 − 4) = −1/6
    assert krippendorff_alpha(table=table) == pytest.approx(-1 / 6, abs=1e-12)
    expected = krippendorff.alpha(reliability_data=_reliability(HAND), level_of_measurement="nominal")
    assert krippendorff_alpha(table=table) == pytest.approx(expected, abs=1e-9)


def test_coincidence_matrix_hand_case():
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    # off-diagonal: item1 2·1/2 = 1, item2 1·1/1 = 1 → o_AB = 2
    np.testing.assert_allclose(coincidence_matrix(table=table), [[4.0, 2.0], [2.0, 0.0]])


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_matches_statsmodels_with_equal_counts(seed):
    matrix = _noisy_matrix(seed, missing=0.0)
    table = AnnotationTable.from_dense(matrix, n_classes=4)
    assert fleiss_kappa(table=table) == pytest.approx(sm_fleiss_kappa(table.counts()), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_krippendorff_alpha_matches_package_with_missing_data(seed):
    matrix = _noisy_matrix(seed)
    table = AnnotationTable.from_dense(matrix, n_classes=4)
    expected = krippendorff.alpha(reliability_data=_reliability(matrix), level_of_measurement="nominal")
    assert krippendorff_alpha(table=table) == pytest.approx(expected, abs=1e-9)


def test_per_label_alpha_matches_package_on_one_vs_rest_data():
    matrix = _noisy_matrix(7)
    metrics = count_metrics(table=AnnotationTable.from_dense(matrix, n_classes=4))
    for c in range(4):
        binary = np.where(matrix < 0, -1, (matrix == c).astype(int))
        expected = krippendorff.alpha(reliability_data=_reliability(binary), level_of_measurement="nominal")
        assert metrics.per_label_krippendorff_alpha[c] == pytest.approx(expected, abs=1e-9)
        assert metrics.per_label_fleiss_kappa[c] == pytest.approx(
            fleiss_kappa(table=AnnotationTable.from_dense(binary, n_classes=2)), abs=1e-12
        )


@pytest.mark.parametrize("seed", range(3))
def test_pairwise_cohen_kappa_matches_sklearn_for_every_pair(seed):
    matrix = _noisy_matrix(seed, n_raters=7)
    result = pairwise_cohen_kappa(table=AnnotationTable.from_dense(matrix, n_classes=4), min_overlap=1)
    assert result.kappa.size == 21  # every pair of 7 raters overlaps somewhere at this density
    for a, b, n, kappa in zip(
        result.annotator_a, result.annotator_b, result.n_overlap, result.kappa, strict=True
    ):
        both = (matrix[:, a] >= 0) & (matrix[:, b] >= 0)
        assert n == both.sum()
        assert kappa == pytest.approx(cohen_kappa_score(matrix[both, a], matrix[both, b]), abs=1e-9)


def test_pairwise_drops_pairs_below_min_overlap_and_weights_mean_by_overlap():
    # raters 0,1 share 4 items (κ = 1: perfect, both classes used); raters 0,2 share 2 items (one agree, one not)
    matrix = np.array([[0, 0, 0], [1, 1, 1], [0, 0, -1], [1, 1, -1]])
    table = AnnotationTable.from_dense(matrix, n_classes=2)
    all_pairs = pairwise_cohen_kappa(table=table, min_overlap=1)
    assert list(zip(all_pairs.annotator_a, all_pairs.annotator_b, strict=True)) == [(0, 1), (0, 2), (1, 2)]
    np.testing.assert_allclose(all_pairs.kappa, [1.0, 1.0, 1.0])
    kept = pairwise_cohen_kappa(table=table, min_overlap=3)
    assert list(zip(kept.annotator_a, kept.annotator_b, strict=True)) == [(0, 1)]

    matrix = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1], [1, 1, 0], [0, 0, -1], [1, 1, -1]])
    result = pairwise_cohen_kappa(table=AnnotationTable.from_dense(matrix, n_classes=2), min_overlap=1)
    # pair (0,1): 6 items all agree → κ 1; pairs (0,2),(1,2): 4 items, 2 agree, marginals 2/2 → κ 0
    np.testing.assert_allclose(result.kappa, [1.0, 0.0, 0.0])
    assert result.mean() == pytest.approx(1 / 3)
    assert result.weighted_mean() == pytest.approx(6 / 14)  # (6·1 + 4·0 + 4·0) / 14


def test_single_class_in_use_gives_nan_not_an_exception():
    table = AnnotationTable.from_dense(np.zeros((5, 3), dtype=int), n_classes=3)
    assert percent_agreement(table=table) == 1.0
    assert np.isnan(fleiss_kappa(table=table))
    assert np.isnan(krippendorff_alpha(table=table))
    assert np.isnan(pairwise_cohen_kappa(table=table, min_overlap=1).kappa).all()


def test_multi_label_overall_is_mean_of_per_label_binary_metrics():
    rng = np.random.default_rng(3)
    dense = _noisy_matrix(3, n_raters=5)
    base = AnnotationTable.from_dense(dense, n_classes=4)
    flags = (rng.random((base.n_annotations, 3)) < 0.4).astype(np.uint8)
    table = AnnotationTable(
        item=base.item,
        annotator=base.annotator,
        label=flags,
        n_items=base.n_items,
        n_annotators=5,
        n_classes=3,
        multi_label=True,
    )
    per_label_alpha = [krippendorff_alpha(table=table.one_vs_rest(c)) for c in range(3)]
    assert krippendorff_alpha(table=table) == pytest.approx(np.mean(per_label_alpha), abs=1e-12)
    report = agreement_report(table=table, min_overlap=1, n_boot=0)
    per_label_kappa = [
        pairwise_cohen_kappa(table=table.one_vs_rest(c), min_overlap=1).mean() for c in range(3)
    ]
    for c in range(3):
        assert report.per_label[c].cohen_kappa_mean == pytest.approx(per_label_kappa[c], abs=1e-12)


def test_report_per_label_matches_one_vs_rest_tables_and_ci_brackets_point():
    table = AnnotationTable.from_dense(_noisy_matrix(11, n_items=200), n_classes=4)
    report = agreement_report(table=table, min_overlap=1, n_boot=50, seed=1)
    binary = table.one_vs_rest(2)
    assert report.per_label[2].fleiss_kappa == pytest.approx(fleiss_kappa(table=binary), abs=1e-12)
    assert report.per_label[2].cohen_kappa_weighted == pytest.approx(
        pairwise_cohen_kappa(table=binary, min_overlap=1).weighted_mean(), abs=1e-12
    )
    assert report.overall.cohen_kappa_mean == pytest.approx(report.pairwise.mean(), abs=1e-12)
    for name, (low, high) in report.overall.ci.items():
        assert low <= getattr(report.overall, name) <= high
    again = agreement_report(table=table, min_overlap=1, n_boot=50, seed=1)
    assert again.overall.ci == report.overall.ci


@pytest.mark.parametrize(
    "kwargs",
    [
        {"item": [0, 0], "annotator": [1, 1], "label": [0, 1]},  # same annotator twice on one item
        {"item": [0, 1], "annotator": [0, 0], "label": [0, 2]},  # label out of range
        {"item": [0, 5], "annotator": [0, 0], "label": [0, 1]},  # item out of range
        {"item": [0, 1], "annotator": [0], "label": [0, 1]},  # length mismatch
        {"item": [0.5, 1], "annotator": [0, 0], "label": [0, 1]},  # non-integer index
    ],
)
def test_bad_table_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        AnnotationTable(**kwargs, n_items=2, n_annotators=2, n_classes=2)


def test_multi_label_flags_must_be_zero_or_one_and_bad_options_raise():
    with pytest.raises(ValueError):
        AnnotationTable(
            item=[0], annotator=[0], label=[[0, 2]], n_items=1, n_annotators=1, n_classes=2, multi_label=True
        )
    table = AnnotationTable.from_dense(HAND, n_classes=2)
    with pytest.raises(ValueError):
        pairwise_cohen_kappa(table=table, min_overlap=0)
    with pytest.raises(ValueError):
        agreement_report(table=table, level=1.5)
