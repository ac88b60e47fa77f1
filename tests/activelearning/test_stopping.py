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
    assert "still pays" in advice.sentence and "88.0 %" in advice.sentence


def test_projection_starts_from_todays_measured_accuracy_not_from_a_fit_that_passes_below_it():
    # Given a fit acc(n) = 0.7 - n^-0.5, which says 0.600 at today's 100 labels, while 0.675 was measured
    fit = PowerLawFit(a=0.7, b=1.0, c=0.5, method="power_law")
    # When projecting to 2x and 10x
    at_2x = projected_accuracy(fit=fit, n_current=100, factor=2, current_accuracy=0.675)
    at_10x = projected_accuracy(fit=fit, n_current=100, factor=10, current_accuracy=0.675)
    # Then the projection is today's 0.675 plus the fit's gain: 1/10 - 1/sqrt(200) and 1/10 - 1/sqrt(1000)
    assert at_2x == pytest.approx(0.675 + 0.1 - 0.0707106781, abs=1e-9)  # 0.7042893
    assert at_10x == pytest.approx(0.675 + 0.1 - 0.0316227766, abs=1e-9)  # 0.7433772
    assert at_2x >= 0.675


def test_projection_of_a_fitted_noisy_curve_never_falls_below_the_last_measured_point():
    # Given a curve whose last point sits well above the trend of the others
    curve = LearningCurve(
        sizes=np.array([10, 20, 40, 80, 160]), scores=np.array([0.30, 0.45, 0.52, 0.55, 0.675])
    )
    fit = fit_power_law(curve=curve)
    # Then every projection starts at today's 0.675 and does not go down
    projections = [
        projected_accuracy(fit=fit, n_current=160, factor=f, current_accuracy=0.675) for f in (2, 5, 10)
    ]
    assert 0.675 <= projections[0] <= projections[1] <= projections[2] <= 1.0


def test_projection_of_a_flat_fit_is_todays_accuracy():
    fit = fit_power_law(curve=LearningCurve(sizes=np.array([10, 20]), scores=np.array([0.5, 0.6])))
    assert projected_accuracy(fit=fit, n_current=20, factor=2, current_accuracy=0.63) == pytest.approx(0.63)


def test_advice_when_the_training_set_shrank_does_not_credit_negative_labels_with_the_accuracy_change():
    # Given a model trained on 3 labels fewer than the previous one (items were reopened), accuracy 58.9 -> 67.5 %
    advice = stopping_advice(
        labels_added=-3, accuracy_before=0.589, accuracy_now=0.675, share_changed=0.10, projected_at_2x=0.70
    )
    # Then the sentence names the shrink, credits nothing to labelling, and the verdict is the projection's
    # (70.0 - 67.5 = 2.5 points >= 1 point)
    assert advice.worth_labelling is True
    assert advice.sentence == (
        "this model was trained on 3 fewer labels than the previous one (items reopened for more annotations wait "
        "outside the training set until they are decided again), so its +8.6-point change in accuracy says "
        "nothing about labelling more; the learning curve says labelling more still pays (projected 70.0 % at "
        "twice the labels, 67.5 % today)."
    )
    assert "-3" not in advice.sentence


def test_advice_when_the_training_set_shrank_and_the_curve_is_flat_says_stop():
    # Given the same 8.6-point jump and 10 % changed predictions, but a projection only 0.5 points above today
    advice = stopping_advice(
        labels_added=-3, accuracy_before=0.589, accuracy_now=0.675, share_changed=0.10, projected_at_2x=0.68
    )
    # Then the jump and the churn (caused by the shrink, not by labels) do not make it "pay"
    assert advice.worth_labelling is False
    assert advice.sentence.endswith(
        "the learning curve says labelling more of the same is unlikely to pay (projected 68.0 % at twice the "
        "labels, 67.5 % today)."
    )


def test_advice_without_new_labels_or_projection_gives_no_verdict():
    advice = stopping_advice(labels_added=0, accuracy_before=0.7, accuracy_now=0.7, share_changed=0.0)
    assert advice.worth_labelling is None
    assert advice.sentence.startswith(
        "this model was trained on the same number of labels as the previous one"
    )
    assert advice.sentence.endswith("train again after new labels.")


def test_advice_projection_is_quoted_in_percent_next_to_todays_accuracy():
    advice = stopping_advice(
        labels_added=200, accuracy_before=0.80, accuracy_now=0.85, share_changed=0.08, projected_at_2x=0.88
    )
    assert advice.sentence.endswith(
        "— labelling more still pays (projected 88.0 % at twice the labels, 85.0 % today)."
    )


def test_training_summary_with_fewer_labels_than_the_previous_version_shows_no_negative_count():
    # Given the previous version (80 labels, 58.9 %) and a new one on 77 labels at 67.5 %, projected 70.0 % at 2x
    from activelearning.models import ModelVersion
    from activelearning.services.outlook import summary_sentence

    previous = ModelVersion(version=1, n_train=80, cv_accuracy=0.589)
    sentence, worth = summary_sentence(
        previous=previous,
        n_train=77,
        accuracy=0.675,
        stability={"changed_share": 0.10, "kappa_vs_previous": 0.8, "n_items": 100},
        projection={"points": [{"factor": 2, "n": 154, "accuracy": 0.70}]},
    )
    # Then the stored summary starts with a capital, names 3 fewer labels and never "-3 labels"
    assert sentence.startswith("This model was trained on 3 fewer labels than the previous one")
    assert "-3" not in sentence and "projected 70.0 % at twice the labels, 67.5 % today" in sentence
    assert worth is True


def test_projection_from_fitted_curve_points_adds_the_fits_gain_to_the_measured_accuracy():
    # Given curve points on acc(n) = 0.95 - 0.8 n^-0.5 (the fit recovers it) and 0.93 measured at 640 labels,
    # above the fit's 0.95 - 0.8/sqrt(640) = 0.918377
    sizes = np.array([20, 40, 80, 160, 320, 640])
    fit = fit_power_law(curve=LearningCurve(sizes=sizes, scores=0.95 - 0.8 * sizes**-0.5))
    # Then 2x projects 0.93 + 0.8/sqrt(640) - 0.8/sqrt(1280) = 0.93 + 0.0316228 - 0.0223607 = 0.9392621
    assert projected_accuracy(fit=fit, n_current=640, factor=2, current_accuracy=0.93) == pytest.approx(
        0.9392621, abs=1e-4
    )


def test_wilson_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    from activelearning.stopping import wilson_interval

    for successes, n in [(5, 12), (10, 12), (95, 100), (0, 7)]:
        expected = proportion_confint(successes, n, alpha=0.05, method="wilson")
        assert wilson_interval(accuracy=successes / n, n=n) == pytest.approx(expected, abs=1e-3)


def test_no_projection_when_the_accuracy_interval_reaches_chance():
    from activelearning.stopping import projection_support

    # Given 12 labels on meaningless texts, 5 right (41.7 %), two balanced labels (chance 50 %), 3 curve points
    curve = LearningCurve(sizes=np.array([10, 11, 12]), scores=np.array([0.5, 0.45, 5 / 12]))
    # When / Then: nothing is projected, and the reason names the chance rate
    support = projection_support(curve=curve, accuracy=5 / 12, n_labelled=12, chance=0.5, n_classes=2)
    assert support.max_factor == 0
    assert "not yet better than chance (50.0 % for 2 balanced labels)" in support.reason
    # and 7 right of 12 (58.3 %), above chance as a point, still is not: its 95 % interval starts at 32.0 %
    assert (
        projection_support(curve=curve, accuracy=7 / 12, n_labelled=12, chance=0.5, n_classes=2).max_factor
        == 0
    )
    # An unbalanced set's chance is the most common label's share, named as such
    unbalanced = projection_support(curve=curve, accuracy=0.75, n_labelled=12, chance=0.75, n_classes=2)
    assert (
        unbalanced.max_factor == 0 and "75.0 % by always answering the most common label" in unbalanced.reason
    )


def test_projection_is_capped_by_the_number_and_span_of_curve_points():
    from activelearning.stopping import projection_support

    def support(sizes):
        sizes = np.asarray(sizes)
        return projection_support(
            curve=LearningCurve(sizes=sizes, scores=np.full(len(sizes), 0.95)),
            accuracy=0.95,
            n_labelled=int(sizes[-1]),
            chance=0.5,
            n_classes=2,
        )

    # Two points: no fit at all
    two = support([10, 20])
    assert two.max_factor == 0 and "too few labels to project" in two.reason
    # Three points: twice today's labels at most, whatever their span
    assert support([10, 100, 1000]).max_factor == 2
    # Four points or more: as far as the curve spans (300 / 100 = 3x), never past 10x, never below 2x
    assert support([100, 150, 200, 300]).max_factor == pytest.approx(3.0)
    assert support([20, 40, 80, 160, 320, 640]).max_factor == 10
    assert support([100, 110, 120, 130]).max_factor == 2


def test_first_model_summary_without_projection_says_why_and_quotes_no_figure():
    from activelearning.services.outlook import summary_sentence

    reason = "the model is not yet better than chance (50.0 % for 2 balanced labels)"
    sentence, worth = summary_sentence(
        previous=None, n_train=12, accuracy=5 / 12, stability=None, projection={"points": [], "limit": reason}
    )
    assert sentence == (
        "First model: 41.7 % cross-validated accuracy on 12 labels, no projection: the model is not yet better "
        "than chance (50.0 % for 2 balanced labels). Train again after more labels to see whether labelling still "
        "pays."
    )
    assert worth is None


def test_advice_without_projection_quotes_the_reason_instead_of_a_figure():
    advice = stopping_advice(
        labels_added=4,
        accuracy_before=0.40,
        accuracy_now=0.45,
        share_changed=0.3,
        no_projection_reason="too few labels to project",
    )
    assert (
        "(no projection: too few labels to project)" in advice.sentence and "projected" not in advice.sentence
    )
