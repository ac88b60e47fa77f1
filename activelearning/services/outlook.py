"""What a trained model says about labelling on: its learning curve and the projection to more labels, how much
its predictions moved since the previous version, and the sentence that sums them up for the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from activelearning.models import ModelVersion
from activelearning.services import scoring

if TYPE_CHECKING:
    from activelearning.basemodel import TrainingConfig

CURVE_POINTS = 6
PROJECTION_FACTORS = (2, 5, 10)


def curve_and_projection(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    seed: int,
    config: TrainingConfig,
    full_accuracy: float,
    n_folds: int,
    min_size: int,
) -> tuple[list[dict], dict]:
    """The accuracy at growing subsets of the labels (k-fold each) and its power-law projection to more labels."""
    # Lazy: torch and scipy load only inside a training job, never at web/worker startup.
    from activelearning import stopping
    from activelearning.basemodel import out_of_sample_proba

    def evaluate(rows: np.ndarray) -> float:
        if len(rows) == len(y):
            return full_accuracy  # the full set's k-fold accuracy is already known
        return out_of_sample_proba(
            X[rows], y[rows], n_classes=n_classes, n_folds=n_folds, seed=seed, config=config
        ).metrics.cv_accuracy

    curve = stopping.learning_curve(
        n_labelled=len(y), evaluate=evaluate, n_points=CURVE_POINTS, min_size=min_size, seed=seed
    )
    fit = stopping.fit_power_law(curve=curve)
    support = stopping.projection_support(
        curve=curve,
        accuracy=full_accuracy,
        n_labelled=len(y),
        n_classes=n_classes,
        chance=float(np.bincount(y, minlength=n_classes).max() / len(y)),
    )
    projection = {
        "method": fit.method,
        "a": fit.a,
        "b": fit.b,
        "c": fit.c,
        "max_factor": support.max_factor,
        "limit": support.reason,
        "points": [
            {
                "factor": factor,
                "n": int(factor * len(y)),
                "accuracy": stopping.projected_accuracy(
                    fit=fit, n_current=len(y), factor=float(factor), current_accuracy=full_accuracy
                ),
            }
            for factor in PROJECTION_FACTORS
            if factor <= support.max_factor
        ],
    }
    points = [{"n": int(n), "accuracy": float(a)} for n, a in zip(curve.sizes, curve.scores, strict=True)]
    return points, projection


def summary_sentence(
    *, previous: ModelVersion | None, n_train: int, accuracy: float, stability: dict | None, projection: dict
) -> tuple[str, bool | None]:
    at_2x = projection["points"][0]["accuracy"] if projection["points"] else None
    if previous is None:
        outlook = (
            f"projected {100 * at_2x:.1f} % at twice the labels"
            if at_2x is not None
            else f"no projection: {projection['limit']}"
        )
        sentence = (
            f"First model: {100 * accuracy:.1f} % cross-validated accuracy on {n_train} labels, {outlook}. "
            "Train again after more labels to see whether labelling still pays."
        )
        return sentence, None
    from activelearning import stopping  # lazy: scipy (keeps web/worker startup free of the ML stack)

    advice = stopping.stopping_advice(
        labels_added=n_train - previous.n_train,
        accuracy_before=previous.cv_accuracy,
        accuracy_now=accuracy,
        share_changed=stability["changed_share"] if stability else 0.0,
        projected_at_2x=at_2x,
        no_projection_reason=projection.get("limit"),
    )
    sentence = advice.sentence[0].upper() + advice.sentence[1:]
    return sentence, advice.worth_labelling


def stability_figures(outcome: scoring.PoolOutcome) -> dict | None:
    before, now = outcome.stability_arrays()
    if not len(before):
        return None
    from activelearning import stopping  # lazy: scipy (keeps web/worker startup free of the ML stack)

    result = stopping.prediction_stability(previous=before, current=now)
    return {
        "changed_share": result.share_changed,
        "kappa_vs_previous": result.cohens_kappa,
        "n_items": result.n_items,
    }
