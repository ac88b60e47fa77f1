"""When to stop labelling: learning-curve extrapolation and prediction stability between model versions."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

MAX_PROJECTION_FACTOR = 10.0  # a power law fitted on today's labels says little about far larger sets
MIN_CURVE_POINTS = 3  # a three-parameter fit through fewer points is no fit
FEW_CURVE_POINTS = 4  # below this, a fit is not trusted past twice today's labels
WILSON_Z = 1.96  # 95 % interval


@dataclass(frozen=True)
class LearningCurve:
    sizes: np.ndarray  # (m,) label counts, increasing
    scores: np.ndarray  # (m,) accuracy at each size


@dataclass(frozen=True)
class PowerLawFit:
    """acc(n) = a − b·n^(−c) when ``method`` is "power_law" (curve_fit converged). Fallbacks: "log_linear",
    acc(n) = a + b·log n with b clipped at ≥ 0 (c unused), and "flat", acc(n) = a (too few points)."""

    a: float
    b: float
    c: float
    method: str

    def predict(self, n: np.ndarray | float) -> np.ndarray:
        size = np.asarray(n, dtype=np.float64)
        if self.method == "log_linear":
            return self.a + self.b * np.log(size)
        return self.a - self.b * np.power(size, -self.c)


@dataclass(frozen=True)
class Stability:
    share_changed: float  # share of pool items whose predicted label differs between versions
    cohens_kappa: float  # chance-corrected agreement between the two versions' predicted labels
    n_items: int


@dataclass(frozen=True)
class StoppingAdvice:
    worth_labelling: bool | None  # None: no verdict (nothing to judge by yet)
    sentence: str


def learning_curve(
    *,
    n_labelled: int,
    evaluate: Callable[[np.ndarray], float],
    n_points: int = 6,
    min_size: int = 10,
    seed: int = 0,
) -> LearningCurve:
    """Scores of nested random subsets (each subset contains the previous one) of the labelled rows,
    sizes spaced evenly in log from ``min_size`` to ``n_labelled``. ``evaluate(indices)`` fits on those
    rows and returns an accuracy (e.g. the out-of-sample cv accuracy). Raises ValueError when
    ``n_labelled < min_size``."""
    if n_labelled < min_size:
        raise ValueError(f"need at least {min_size} labelled rows for a learning curve")
    order = np.random.default_rng(seed).permutation(n_labelled)
    sizes = np.unique(np.geomspace(min_size, n_labelled, n_points).round().astype(np.int64))
    scores = np.array([evaluate(order[:size]) for size in sizes], dtype=np.float64)
    return LearningCurve(sizes=sizes, scores=scores)


def _power_law(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a - b * np.power(n, -c)


def fit_power_law(*, curve: LearningCurve, max_score: float = 1.0) -> PowerLawFit:
    """Fit acc(n) = a − b·n^(−c) with 0 ≤ a ≤ max_score, b ≥ 0, 0.01 ≤ c ≤ 3. Falls back to a log-linear
    fit when the optimiser fails and to a flat line at the last score with fewer than 3 points."""
    sizes = np.asarray(curve.sizes, dtype=np.float64)
    scores = np.asarray(curve.scores, dtype=np.float64)
    if len(sizes) < 3:
        return PowerLawFit(a=float(scores[-1]) if len(scores) else 0.0, b=0.0, c=1.0, method="flat")
    start = (min(float(scores.max()) + 0.01, max_score), max(float(scores.max() - scores.min()), 1e-3), 0.5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            (a, b, c), _ = curve_fit(
                _power_law,
                sizes,
                scores,
                p0=start,
                bounds=([0.0, 0.0, 0.01], [max_score, np.inf, 3.0]),
                maxfev=10_000,
            )
        return PowerLawFit(a=float(a), b=float(b), c=float(c), method="power_law")
    except (RuntimeError, ValueError, OptimizeWarning):
        # A falling curve is noise, not a trend, so the slope is clipped rather than extrapolated downwards.
        slope, intercept = np.polyfit(np.log(sizes), scores, 1)
        return PowerLawFit(a=float(intercept), b=float(max(slope, 0.0)), c=0.0, method="log_linear")


def projected_accuracy(
    *,
    fit: PowerLawFit,
    n_current: int,
    factor: float,
    current_accuracy: float | None = None,
    max_score: float = 1.0,
) -> float:
    """Accuracy projected at ``factor`` × the current label count, clipped to [0, max_score].

    With ``current_accuracy`` (the accuracy measured at ``n_current``) the projection is that measurement plus
    the fit's gain from ``n_current`` to ``factor`` × ``n_current``. A least-squares fit through a noisy curve
    can pass below today's point, and the fit's own value there would then project "more labels, lower
    accuracy", which no fitted family (all non-decreasing) means. Without it, the fit's value itself.
    Raises ValueError when factor is outside [1, 10]: extrapolating further is guesswork."""
    if not 1.0 <= factor <= MAX_PROJECTION_FACTOR:
        raise ValueError(f"factor must be in [1, {MAX_PROJECTION_FACTOR:g}]")
    at_factor = float(fit.predict(factor * n_current))
    if current_accuracy is None:
        return float(np.clip(at_factor, 0.0, max_score))
    gain = max(at_factor - float(fit.predict(n_current)), 0.0)
    return float(np.clip(current_accuracy + gain, 0.0, max_score))


@dataclass(frozen=True)
class ProjectionSupport:
    """How far the learning curve may be extrapolated. ``max_factor`` is 0 when nothing may be projected, and
    ``reason`` then says why in words a label manager reads."""

    max_factor: float
    reason: str


def wilson_interval(*, accuracy: float, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """Wilson score interval of a proportion ``accuracy`` measured on ``n`` items. Raises ValueError for n < 1."""
    if n < 1:
        raise ValueError("n must be at least 1")
    denominator = 1.0 + z * z / n
    centre = (accuracy + z * z / (2 * n)) / denominator
    half = z * np.sqrt(accuracy * (1.0 - accuracy) / n + z * z / (4 * n * n)) / denominator
    return float(centre - half), float(centre + half)


def projection_support(
    *, curve: LearningCurve, accuracy: float, n_labelled: int, chance: float, n_classes: int
) -> ProjectionSupport:
    """Whether, and how far, a projection from ``curve`` is supported.

    Nothing is projected when the curve has fewer than ``MIN_CURVE_POINTS`` distinct sizes, or when the 95 %
    Wilson interval of today's ``accuracy`` (on ``n_labelled`` labels) reaches ``chance`` (the accuracy of always
    answering the most common label): a curve through noise projects noise. With fewer than
    ``FEW_CURVE_POINTS`` points the projection stops at 2×; otherwise at the span the curve itself covers
    (largest over smallest size), at most ``MAX_PROJECTION_FACTOR``."""
    sizes = np.asarray(curve.sizes)
    if len(sizes) < MIN_CURVE_POINTS:
        return ProjectionSupport(
            max_factor=0.0,
            reason=f"too few labels to project: the learning curve has {len(sizes)} point"
            f"{'' if len(sizes) == 1 else 's'}, a fit needs {MIN_CURVE_POINTS}",
        )
    low, high = wilson_interval(accuracy=accuracy, n=n_labelled)
    if low <= chance:
        rate = (
            f"{_points(chance)} for {n_classes} balanced labels"
            if np.isclose(chance, 1.0 / n_classes)
            else f"{_points(chance)} by always answering the most common label"
        )
        return ProjectionSupport(
            max_factor=0.0,
            reason=f"the model is not yet better than chance ({rate}): "
            f"{_points(accuracy)} on {n_labelled} labels, 95 % interval {_points(low)}–{_points(high)}",
        )
    if len(sizes) < FEW_CURVE_POINTS:
        return ProjectionSupport(
            max_factor=2.0, reason=f"only {len(sizes)} learning-curve points: projected to 2× at most"
        )
    span = float(sizes[-1] / sizes[0])
    factor = min(max(span, 2.0), MAX_PROJECTION_FACTOR)
    return ProjectionSupport(
        max_factor=factor,
        reason=f"projected no further than the curve's own span ({span:.1f}× its smallest size)",
    )


def prediction_stability(*, previous: np.ndarray, current: np.ndarray) -> Stability:
    """Compare two model versions' predicted labels (n,) — or probabilities (n, K), reduced by argmax —
    on the same pool rows. κ is 1.0 when both versions predict one identical constant label.
    Raises ValueError on a length mismatch or an empty pool."""
    a = np.asarray(previous)
    b = np.asarray(current)
    a = a.argmax(axis=1) if a.ndim == 2 else a.astype(np.int64)
    b = b.argmax(axis=1) if b.ndim == 2 else b.astype(np.int64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("previous and current must be non-empty and the same length")
    n_labels = int(max(a.max(), b.max())) + 1
    confusion = np.bincount(a * n_labels + b, minlength=n_labels**2).reshape(n_labels, n_labels) / a.size
    observed = float(np.trace(confusion))
    expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0))
    kappa = 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return Stability(share_changed=1.0 - observed, cohens_kappa=kappa, n_items=int(a.size))


def _points(value: float) -> str:
    return f"{100 * value:.1f} %"


def stopping_advice(
    *,
    labels_added: int,
    accuracy_before: float,
    accuracy_now: float,
    share_changed: float,
    projected_at_2x: float | None = None,
    no_projection_reason: str | None = None,
    min_accuracy_gain: float = 0.01,
    min_share_changed: float = 0.02,
) -> StoppingAdvice:
    """A plain-language verdict. More of the same labelling "still pays" when the last ``labels_added``
    labels moved accuracy by at least ``min_accuracy_gain``, or changed at least ``min_share_changed`` of
    pool predictions, or the learning curve projects at least ``min_accuracy_gain`` more at 2×. Without a
    projection, ``no_projection_reason`` (from :func:`projection_support`) is quoted instead.

    When the training set did not grow (``labels_added`` ≤ 0: items reopened for more annotations leave it
    until they are decided again), the change since the previous model is no evidence about labelling more, so
    only the projection decides; without one ``worth_labelling`` is None (no verdict)."""
    gain = accuracy_now - accuracy_before
    projected_gain = None if projected_at_2x is None else projected_at_2x - accuracy_now
    projects_gain = projected_gain is not None and projected_gain >= min_accuracy_gain
    if projected_at_2x is not None:
        outlook = (
            f" (projected {_points(projected_at_2x)} at twice the labels, {_points(accuracy_now)} today)"
        )
    else:
        outlook = f" (no projection: {no_projection_reason})" if no_projection_reason else ""
    if labels_added <= 0:
        fewer = "the same number of labels as" if labels_added == 0 else f"{-labels_added} fewer labels than"
        evidence = (
            f"this model was trained on {fewer} the previous one (items reopened for more annotations wait "
            f"outside the training set until they are decided again), so its {100 * gain:+.1f}-point change in "
            "accuracy says nothing about labelling more"
        )
        if projected_at_2x is None:
            return StoppingAdvice(
                worth_labelling=None, sentence=f"{evidence}; train again after new labels{outlook}."
            )
        verdict = (
            "the learning curve says labelling more still pays"
            if projects_gain
            else "the learning curve says labelling more of the same is unlikely to pay"
        )
        return StoppingAdvice(worth_labelling=projects_gain, sentence=f"{evidence}; {verdict}{outlook}.")
    pays = gain >= min_accuracy_gain or share_changed >= min_share_changed or projects_gain
    evidence = (
        f"the last {labels_added} labels moved accuracy by {100 * gain:.1f} points and changed "
        f"{100 * share_changed:.0f} % of pool predictions"
    )
    if pays:
        sentence = f"{evidence} — labelling more still pays{outlook}."
    else:
        sentence = f"{evidence} — labelling more of the same is unlikely to pay; look at the error-analysis table instead."
    return StoppingAdvice(worth_labelling=pays, sentence=sentence)
