"""Label issues: every reason code, the severity formula, the model recipe's reproducibility, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from quality.metrics.label_issues import (
    REASON_CODES,
    REASON_WEIGHTS,
    decode_reasons,
    find_label_issues,
    find_label_issues_from_features,
)


def _confident_probs(labels: np.ndarray, k: int, *, overrides: dict[int, int]) -> np.ndarray:
    """Model probabilities agreeing with ``labels`` (0.9) except at ``overrides`` {item: predicted class}."""
    predicted = labels.copy()
    for item, cls in overrides.items():
        predicted[item] = cls
    probs = np.full((labels.size, k), 0.1 / (k - 1))
    probs[np.arange(labels.size), predicted] = 0.9
    return probs


def test_model_disagreement_flags_only_the_confidently_contradicted_item() -> None:
    # Given: 30 items over 3 classes; the model confidently says class 2 for item 4 (labelled 1)
    labels = np.arange(30) % 3
    probs = _confident_probs(labels, 3, overrides={4: 2})
    # When
    issues = find_label_issues(consensus_label=labels, pred_probs=probs)
    # Then
    assert np.flatnonzero(issues.needs_review).tolist() == [4]
    assert np.flatnonzero(issues.is_label_issue).tolist() == [4]
    assert issues.model_label[4] == 2
    assert decode_reasons(issues.reasons)[4] == ("model_disagrees",)
    np.testing.assert_allclose(issues.label_quality[4], 0.05)
    np.testing.assert_allclose(issues.severity[4], 0.9 * (1 - 0.05))


def test_label_quality_is_nan_without_a_model_or_without_a_label() -> None:
    labels = np.array([0, 1, -1, 1, 0, 1])
    with_model = find_label_issues(
        consensus_label=labels, pred_probs=_confident_probs(labels.clip(0), 2, overrides={})
    )
    without = find_label_issues(consensus_label=labels)
    assert np.isnan(with_model.label_quality[2])
    assert np.isfinite(with_model.label_quality[[0, 1, 3, 4, 5]]).all()
    assert np.isnan(without.label_quality).all() and not without.needs_review.any()


def test_low_consensus_confidence_is_flagged_below_the_threshold_only() -> None:
    issues = find_label_issues(
        consensus_label=np.array([0, 1, 1, -1]),
        consensus_confidence=np.array([0.4, 0.6, np.nan, 0.1]),
        confidence_threshold=0.5,
    )
    assert issues.needs_review.tolist() == [True, False, False, False]
    assert decode_reasons(issues.reasons)[0] == ("low_consensus_confidence",)
    np.testing.assert_allclose(issues.severity[0], 0.7 * 0.6)


def test_annotators_split_needs_two_votes_and_no_majority() -> None:
    # Given: 1–1 split, 2–1 majority, a single vote, 1–1–1 split
    counts = np.array([[1, 1, 0], [2, 1, 0], [0, 1, 0], [1, 1, 1]])
    # When
    issues = find_label_issues(consensus_label=np.array([0, 0, 1, 0]), vote_counts=counts)
    # Then
    assert issues.needs_review.tolist() == [True, False, False, True]
    assert decode_reasons(issues.reasons)[3] == ("annotators_split",)
    np.testing.assert_allclose(issues.severity[[0, 3]], [0.6 * 0.5, 0.6 * 2 / 3])


def test_gold_mismatch_ignores_items_without_gold() -> None:
    issues = find_label_issues(consensus_label=np.array([0, 1, 2]), gold_label=np.array([0, 2, -1]))
    assert issues.needs_review.tolist() == [False, True, False]
    assert decode_reasons(issues.reasons)[1] == ("gold_mismatch",)
    assert issues.severity[1] == 1.0


def test_near_duplicate_conflict_ranks_the_odd_one_out_first() -> None:
    # Given: group 0 = items 0,1,2 labelled 3,3,1; group 1 = items 3,4 agreeing; item 5 ungrouped
    issues = find_label_issues(
        consensus_label=np.array([3, 3, 1, 2, 2, 0]), duplicate_group=np.array([0, 0, 0, 1, 1, -1])
    )
    assert issues.needs_review.tolist() == [True, True, True, False, False, False]
    assert decode_reasons(issues.reasons)[2] == ("near_duplicate_conflict",)
    np.testing.assert_allclose(issues.severity[:3], [0.8 * 0.5, 0.8 * 0.5, 0.8 * 1.0])
    assert issues.review_order().tolist() == [2, 0, 1]


def test_profile_flag_and_unsure_or_unusable_are_flagged() -> None:
    # Given: item 0 profiled as bad; item 1 marked unsure by 1 of 3 and unusable by 1 of 3 annotators
    issues = find_label_issues(
        consensus_label=np.array([0, 1, 0]),
        profile_flag=np.array([True, False, False]),
        unsure_count=np.array([0, 1, 0]),
        unusable_count=np.array([0, 1, 0]),
        vote_counts=np.array([[3, 0], [1, 2], [3, 0]]),
    )
    assert decode_reasons(issues.reasons)[:2] == [("profile_flag",), ("unsure_or_unusable",)]
    assert not issues.needs_review[2]
    np.testing.assert_allclose(issues.severity[:2], [0.4, 0.5 * 2 / 3])


def test_severity_combines_reasons_by_noisy_or() -> None:
    # Given: one item with gold mismatch is already maximal; another with a split and low confidence
    issues = find_label_issues(
        consensus_label=np.array([0, 0]),
        consensus_confidence=np.array([0.5, 0.4]),
        vote_counts=np.array([[2, 1], [1, 1]]),
        gold_label=np.array([1, -1]),
    )
    expected_second = 1 - (1 - 0.7 * 0.6) * (1 - 0.6 * 0.5)
    np.testing.assert_allclose(issues.severity, [1.0, expected_second])
    assert decode_reasons(issues.reasons)[1] == ("low_consensus_confidence", "annotators_split")
    assert issues.reasons[1] == 0b110


def test_reason_codes_and_weights_line_up() -> None:
    assert len(REASON_CODES) == len(REASON_WEIGHTS) == 8
    # Codes are bits of stored masks: a new one is appended, so the first seven keep their bits.
    assert REASON_CODES[0] == "model_disagrees" and REASON_CODES[-1] == "model_overrides_annotators"
    assert decode_reasons(np.array([0, 2**8 - 1])) == [(), REASON_CODES]


def test_features_recipe_is_reproducible_and_finds_swapped_digits() -> None:
    # Given: 600 digits with 60 labels swapped among confusable classes
    features, truth = load_digits(return_X_y=True)
    features, truth = features[:600], truth[:600]
    rng = np.random.default_rng(0)
    corrupted = rng.choice(600, size=60, replace=False)
    partner = {0: 6, 1: 7, 2: 3, 3: 8, 4: 9, 5: 3, 6: 0, 7: 1, 8: 3, 9: 4}
    noisy = truth.copy()
    noisy[corrupted] = [partner[c] for c in truth[corrupted]]
    # When
    first, probs = find_label_issues_from_features(
        features=features, consensus_label=noisy, n_classes=10, seed=3
    )
    second, _ = find_label_issues_from_features(
        features=features, consensus_label=noisy, n_classes=10, seed=3
    )
    # Then
    np.testing.assert_array_equal(first.is_label_issue, second.is_label_issue)
    np.testing.assert_array_equal(first.severity, second.severity)
    assert probs.shape == (600, 10)
    is_corrupted = np.isin(np.arange(600), corrupted)
    precision = (first.is_label_issue & is_corrupted).sum() / first.is_label_issue.sum()
    recall = (first.is_label_issue & is_corrupted).sum() / is_corrupted.sum()
    assert precision > 0.7 and recall > 0.7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"consensus_label": np.array([0.0, 1.0])},
        {"consensus_label": np.array([0, -2])},
        {"consensus_label": np.array([0, 1]), "pred_probs": np.array([[0.5, 0.5]])},
        {"consensus_label": np.array([0, 1]), "pred_probs": np.array([[0.5, 0.6], [0.5, 0.5]])},
        {"consensus_label": np.array([0, 2]), "pred_probs": np.array([[0.5, 0.5], [0.5, 0.5]])},
        {"consensus_label": np.array([0, 1]), "gold_label": np.array([0])},
        {"consensus_label": np.array([0, 1]), "profile_flag": np.array([1, 0])},
        {"consensus_label": np.array([0, 1]), "duplicate_group": np.array([0.5, 1.0])},
        {"consensus_label": np.array([0, 1]), "vote_counts": np.array([1, 2])},
        {"consensus_label": np.array([0, 1]), "unsure_count": np.array([-1, 0])},
    ],
)
def test_bad_input_raises_value_error(kwargs: dict[str, np.ndarray]) -> None:
    with pytest.raises(ValueError):
        find_label_issues(**kwargs)
