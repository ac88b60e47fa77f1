"""The label-issue flag and ``model_disagrees``: which reasons call a label wrong and which only ask for a look,
with hand-computed examples and cleanlab itself as the reference."""

from __future__ import annotations

import numpy as np
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
from sklearn.datasets import load_digits

from quality.metrics.consensus_oos import cross_val_pred_probs
from quality.metrics.label_issues import decode_reasons, find_label_issues


def _probs(labels: np.ndarray, k: int, rows: dict[int, list[float]]) -> np.ndarray:
    """0.9 on each item's label (rest spread evenly), except the given rows."""
    probs = np.full((labels.size, k), 0.1 / (k - 1))
    probs[np.arange(labels.size), labels] = 0.9
    for item, row in rows.items():
        probs[item] = row
    return probs


def test_model_disagrees_wherever_the_top_label_differs_but_only_a_pruned_label_is_an_issue() -> None:
    # Given: 30 items over 3 classes (10 each). Item 4 (label 1) has the model at 0.9 on class 2; item 6
    # (label 0) has the model unsure, [0.3, 0.4, 0.3]. cleanlab's per-class thresholds are the mean
    # self-confidence of each class: class 2 = 0.9, class 1 = (9·0.9 + 0.05)/10 = 0.815. Item 4's 0.9 on class 2
    # reaches class 2's threshold, so the confident joint counts one "labelled 1, truly 2" item and
    # prune_by_noise_rate removes the labelled-1 item with the largest margin p2 − p1: item 4. Item 6 reaches no
    # threshold (0.4 < 0.815), so nothing is counted for it and it is not pruned.
    labels = np.arange(30) % 3
    probs = _probs(labels, 3, {4: [0.05, 0.05, 0.9], 6: [0.3, 0.4, 0.3]})
    # When
    issues = find_label_issues(consensus_label=labels, pred_probs=probs)
    # Then
    reasons = decode_reasons(issues.reasons)
    assert [i for i, r in enumerate(reasons) if "model_disagrees" in r] == [4, 6]
    assert issues.model_label.tolist() == [*labels[:4], 2, labels[5], 1, *labels[7:]]
    assert np.flatnonzero(issues.is_label_issue).tolist() == [4]
    assert np.flatnonzero(issues.needs_review).tolist() == [4, 6]
    # Strength 1 − label quality (self-confidence): 1 − 0.05 for item 4, 1 − 0.3 for item 6.
    np.testing.assert_allclose(issues.severity[[4, 6]], [0.9 * 0.95, 0.9 * 0.7])


def test_reasons_to_look_are_not_label_issues_but_a_gold_mismatch_is() -> None:
    # Given: item 0 split 1–1, item 1 at confidence 0.3, items 2 and 3 near duplicates with different labels,
    # item 4 profiled as bad, item 5 marked unsure, item 6 contradicting its gold label, item 7 clean
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    issues = find_label_issues(
        consensus_label=labels,
        vote_counts=np.array([[1, 1], [2, 0], [2, 0], [0, 2], [2, 0], [0, 2], [2, 0], [0, 2]]),
        consensus_confidence=np.array([0.9, 0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]),
        duplicate_group=np.array([-1, -1, 5, 5, -1, -1, -1, -1]),
        profile_flag=np.array([False, False, False, False, True, False, False, False]),
        unsure_count=np.array([0, 0, 0, 0, 0, 1, 0, 0]),
        gold_label=np.array([-1, -1, -1, -1, -1, -1, 1, -1]),
        confidence_threshold=0.5,
    )
    # Then: every one of items 0–6 is worth a look, only the gold mismatch says the label is wrong
    assert issues.needs_review.tolist() == [True] * 7 + [False]
    assert issues.is_label_issue.tolist() == [False] * 6 + [True, False]
    assert decode_reasons(issues.reasons)[:7] == [
        ("annotators_split",),
        ("low_consensus_confidence",),
        ("near_duplicate_conflict",),
        ("near_duplicate_conflict",),
        ("profile_flag",),
        ("unsure_or_unusable",),
        ("gold_mismatch",),
    ]
    assert (issues.model_label == -1).all()


def test_a_stored_model_label_is_compared_with_a_new_consensus_without_calling_it_a_label_issue() -> None:
    # Given: a model label kept from the last run (item 0: "2", item 1: "1", item 2: none) and new consensus
    # labels 1, 1, 0; item 0's stored label quality 0.2
    issues = find_label_issues(
        consensus_label=np.array([1, 1, 0]),
        model_label=np.array([2, 1, -1]),
        label_quality=np.array([0.2, np.nan, np.nan]),
    )
    # Then: only item 0 disagrees, with strength 1 − 0.2; no probabilities, so no label issue
    assert [("model_disagrees" in r) for r in decode_reasons(issues.reasons)] == [True, False, False]
    assert issues.model_label.tolist() == [2, 1, -1]
    assert not issues.is_label_issue.any()
    np.testing.assert_allclose(issues.severity, [0.9 * 0.8, 0.0, 0.0])


def test_label_issues_on_model_probabilities_are_exactly_cleanlabs_pruning() -> None:
    # Given: 500 digits with 50 labels swapped to a confusable digit, out-of-sample probabilities
    features, truth = load_digits(return_X_y=True)
    features, truth = features[:500], truth[:500]
    rng = np.random.default_rng(1)
    swapped = rng.choice(500, size=50, replace=False)
    partner = {0: 6, 1: 7, 2: 3, 3: 8, 4: 9, 5: 3, 6: 0, 7: 1, 8: 3, 9: 4}
    noisy = truth.copy()
    noisy[swapped] = [partner[c] for c in truth[swapped]]
    probs = cross_val_pred_probs(features=features, labels=noisy, n_classes=10, seed=0)
    # When
    issues = find_label_issues(consensus_label=noisy, pred_probs=probs)
    # Then: the flag is cleanlab's own prune_by_noise_rate answer, and every flagged label has the model's top
    # label elsewhere
    reference = cleanlab_find_label_issues(noisy, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    np.testing.assert_array_equal(issues.is_label_issue, reference)
    disagrees = np.array(["model_disagrees" in r for r in decode_reasons(issues.reasons)])
    np.testing.assert_array_equal(disagrees, probs.argmax(axis=1) != noisy)
    assert not (issues.is_label_issue & ~disagrees).any()
    assert disagrees.sum() > issues.is_label_issue.sum()
