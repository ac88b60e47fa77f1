import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from activelearning.stopping import (
    LearningCurve,
    PowerLawFit,
    fit_power_law,
    learning_curve,
    prediction_stability,
    projected_accuracy,
    stopping_advice,
)


def test_power_law_parameters_are_recovered_from_exact_points():
    # Given acc(n) = 0.95 - 0.8 n^-0.5
    sizes = np.array([20, 40, 80, 160, 320, 640])
    curve = LearningCurve(sizes=sizes, scores=0.95 - 0.8 * sizes**-0.5)
    fit = fit_power_law(curve=curve)
    assert fit.method == "power_law"
    assert (fit.a, fit.b, fit.c) == pytest.approx((0.95, 0.8, 0.5), rel=1e-3)
    # projection at 2x 640: 0.95 - 0.8 / sqrt(1280) = 0.927639
    assert projected_accuracy(fit=fit, n_current=640, factor=2) == pytest.approx(0.927639, abs=1e-4)


def test_projection_never_goes_beyond_ten_times():
    fit = PowerLawFit(a=0.9, b=0.5, c=0.5, method="power_law")
    assert projected_accuracy(fit=fit, n_current=100, factor=10) == pytest.approx(0.9 - 0.5 / np.sqrt(1000))
    with pytest.raises(ValueError):
        projected_accuracy(fit=fit, n_current=100, factor=10.5)


def test_too_few_points_fall_back_to_flat_line_at_last_score():
    fit = fit_power_law(curve=LearningCurve(sizes=np.array([10, 20]), scores=np.array([0.5, 0.6])))
    assert fit.method == "flat"
    assert projected_accuracy(fit=fit, n_current=20, factor=10) == pytest.approx(0.6)


def test_learning_curve_uses_nested_subsets():
    seen: list[np.ndarray] = []

    def evaluate(indices: np.ndarray) -> float:
        seen.append(indices.copy())
        return len(indices) / 1000

    curve = learning_curve(n_labelled=400, evaluate=evaluate, n_points=5, min_size=25)
    np.testing.assert_array_equal(curve.sizes, [25, 50, 100, 200, 400])
    for smaller, larger in zip(seen, seen[1:], strict=False):
        assert set(smaller) <= set(larger)
    np.testing.assert_allclose(curve.scores, curve.sizes / 1000)


def test_stability_matches_sklearn_kappa_and_share_changed():
    rng = np.random.default_rng(0)
    previous = rng.integers(0, 4, size=500)
    current = np.where(rng.random(500) < 0.1, rng.integers(0, 4, size=500), previous)
    stability = prediction_stability(previous=previous, current=current)
    assert stability.share_changed == pytest.approx((previous != current).mean())
    assert stability.cohens_kappa == pytest.approx(cohen_kappa_score(previous, current))
    assert stability.n_items == 500


def test_stability_accepts_probabilities():
    previous = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    current = np.array([[0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9]])
    assert prediction_stability(previous=previous, current=current).share_changed == pytest.approx(0.25)


def test_advice_says_stop_when_curve_is_flat():
    advice = stopping_advice(labels_added=500, accuracy_before=0.912, accuracy_now=0.915, share_changed=0.01)
    assert not advice.worth_labelling
    assert advice.sentence == (
        "the last 500 labels moved accuracy by 0.3 points and changed 1 % of pool predictions — labelling "
        "more of the same is unlikely to pay; look at the error-analysis table instead."
    )


def test_advice_says_continue_when_accuracy_still_moves():
    advice = stopping_advice(
        labels_added=200, accuracy_before=0.80, accuracy_now=0.85, share_changed=0.08, projected_at_2x=0.88
    )
    assert advice.worth_labelling
    assert "still pays" in advice.sentence and "0.88" in advice.sentence
