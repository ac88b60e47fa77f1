"""Votes as arrays, and ActiveLab scores (cleanlab) that put "one more label of a doubtful item" and "a first label
of a new item" on one scale.

cleanlab's ``get_active_learning_scores(labels_multiannotator, pred_probs, pred_probs_unlabeled)`` scores an
unlabelled item from its own probabilities and three numbers it derives from the labelled part: the temperature
the model's probabilities are scaled with, the model's weight and the mean annotator weight (K classes:
``(w_model · max(scaled p) + w_annotators / K) / (w_model + w_annotators)``). :func:`activelab_labelled` runs the
labelled part once and returns those numbers as an :class:`ActiveLabScale`; :func:`activelab_unlabelled` applies
them to any chunk of pool probabilities, so a pool of any size is scored in bounded memory. Both follow cleanlab
2.9 step by step with cleanlab's own functions; a test pins them to ``get_active_learning_scores`` itself.

One step is done here rather than by cleanlab: the temperature search (:func:`activelab_temperature`). cleanlab's
``find_best_temp_scaler`` builds each item's empirical label distribution with ``value_counts``, which, for the
float matrix any NaN forces, puts the counts of the classes present in the first slots instead of at their class
indices (an item voted 1, 1, 1 of K = 3 counts as class 0). Every unanimous item of another class then looks like
a model mistake, the search picks the flattest temperature, the model's probabilities are nearly uniform, and
every new item scores about 1/K, so "relabel" could never win. The search here uses the same grid and criterion
with correctly indexed distributions; with an integer matrix (every annotator labelled every item) cleanlab
indexes correctly and both agree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

# A doubtful labelled item is worth reopening when its ActiveLab score is below this quantile of the scores of the
# new items the queue serves next (the median: more informative than the typical next new item).
NEW_ITEM_QUANTILE = 0.5
# cleanlab's temperature grid: a coarse pass, then a finer one around the best coarse value.
COARSE_TEMPERATURES = (0.1, 0.2, 0.5, 0.8, 1.0, 2.0, 3.0, 5.0, 8.0)
FINE_STEPS = 4


def vote_counts(*, item_index: np.ndarray, labels: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    """(n_items, n_classes) counts from one row per vote: ``item_index`` in [0, n_items), ``labels`` in
    [0, n_classes); votes with a label < 0 (unsure, unusable, unknown label) are not counted."""
    item_index = np.asarray(item_index, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    flat = np.bincount(item_index[keep] * n_classes + labels[keep], minlength=n_items * n_classes)
    return flat.reshape(n_items, n_classes)


def votes_matrix(
    *,
    item_index: np.ndarray,
    annotator_index: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
) -> np.ndarray:
    """(n_items, n_annotators) float matrix of class indices, NaN where an annotator gave no usable label."""
    matrix = np.full((n_items, n_annotators), np.nan)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    matrix[np.asarray(item_index)[keep], np.asarray(annotator_index)[keep]] = labels[keep]
    return matrix


@dataclass(frozen=True)
class ActiveLabScale:
    """What ActiveLab learns from the labelled items and applies to every unlabelled one (see the module doc)."""

    temperature: float
    model_weight: float
    annotator_weight: float  # the mean annotator weight
    n_classes: int


@dataclass(frozen=True)
class ActiveLab:
    scores: np.ndarray  # (n,) one per labelled row, NaN where it has no vote or no finite probabilities
    scale: ActiveLabScale | None  # None when no row could be scored


def _clean(proba: np.ndarray) -> np.ndarray:
    return proba / proba.sum(axis=1, keepdims=True)


def _fine_temperatures(best: int) -> np.ndarray:
    """The finer grid around coarse value ``best``, as cleanlab builds it."""
    from cleanlab.internal.multiannotator_utils import _set_fine_search_range  # lazy: cleanlab is heavy

    return _set_fine_search_range(list(COARSE_TEMPERATURES), FINE_STEPS, best)


def activelab_temperature(*, votes: np.ndarray, pred_probs: np.ndarray) -> float:
    """The temperature that best fits the model's probabilities to the annotators' label distributions: the
    smallest mean soft cross-entropy over cleanlab's grid (see the module docstring for why not cleanlab's own).

    ``votes`` (n, m) class indices with NaN for no vote, every row with at least one vote; ``pred_probs`` (n, K)
    finite and normalised.
    """
    votes = np.asarray(votes, dtype=np.float64)
    proba = np.asarray(pred_probs, dtype=np.float64)
    n, n_classes = proba.shape
    voted = ~np.isnan(votes)
    counts = vote_counts(item_index=np.nonzero(voted)[0], labels=votes[voted], n_items=n, n_classes=n_classes)
    empirical = counts / voted.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_proba = np.log(proba)

    def cross_entropy(temperature: float) -> float:
        scaled = np.exp(log_proba / temperature)
        scaled /= scaled.sum(axis=1, keepdims=True)
        log_scaled = np.log(np.clip(scaled, 1e-30, None))  # cleanlab's SMALL_CONST
        return float(np.mean(-(empirical * log_scaled).sum(axis=1) / np.log(n_classes)))

    best = int(np.argmin([cross_entropy(t) for t in COARSE_TEMPERATURES]))
    fine = _fine_temperatures(best)
    return float(fine[int(np.argmin([cross_entropy(t) for t in fine]))])


def activelab_labelled(*, votes: np.ndarray, pred_probs: np.ndarray) -> ActiveLab:
    """ActiveLab scores in [0, 1] for items with votes (lower = another label is worth more), and the scale that
    puts unlabelled items on the same footing.

    ``votes`` is the (n, m) matrix from :func:`votes_matrix`, ``pred_probs`` (n, K) out-of-sample probabilities.
    Rows without any vote or with non-finite probabilities get NaN; annotators without a vote are dropped.
    """
    votes = np.asarray(votes, dtype=np.float64)
    proba = np.asarray(pred_probs, dtype=np.float64)
    result = np.full(len(votes), np.nan)
    rows = np.flatnonzero(~np.isnan(votes).all(axis=1) & np.isfinite(proba).all(axis=1))
    if not len(rows):
        return ActiveLab(scores=result, scale=None)
    matrix = votes[rows]
    matrix = matrix[:, ~np.isnan(matrix).all(axis=0)]
    probabilities = _clean(proba[rows])
    n_classes = probabilities.shape[1]
    # Heavy imports, only when scoring. The steps are those of cleanlab.multiannotator.get_active_learning_scores.
    from cleanlab.internal.multiannotator_utils import temp_scale_pred_probs
    from cleanlab.multiannotator import get_label_quality_multiannotator, get_majority_vote_label
    from cleanlab.rank import get_label_quality_scores

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # cleanlab warns about annotators with few labels; that is expected here
        if (np.sum(~np.isnan(matrix), axis=1) == 1).all():  # one vote per item: no annotator weights to learn
            temperature, model_weight = 1.0, 1.0
            annotator_weight = np.ones(matrix.shape[1])
            consensus = get_majority_vote_label(
                labels_multiannotator=matrix, pred_probs=probabilities, verbose=False
            )
            quality = np.asarray(get_label_quality_scores(consensus, probabilities), dtype=np.float64)
        else:
            temperature = activelab_temperature(votes=matrix, pred_probs=probabilities)
            info = get_label_quality_multiannotator(
                matrix,
                temp_scale_pred_probs(probabilities, temperature),
                return_annotator_stats=False,
                return_detailed_quality=False,
                return_weights=True,
            )
            quality = info["label_quality"]["consensus_quality_score"].to_numpy(dtype=np.float64)
            model_weight = float(info["model_weight"])
            annotator_weight = np.asarray(info["annotator_weight"], dtype=np.float64)
    mean_weight = float(np.mean(annotator_weight))
    voters_weight = (~np.isnan(matrix)).astype(np.float64) @ annotator_weight
    result[rows] = (quality * (voters_weight + model_weight) + mean_weight / n_classes) / (
        voters_weight + model_weight + mean_weight
    )
    scale = ActiveLabScale(
        temperature=temperature, model_weight=model_weight, annotator_weight=mean_weight, n_classes=n_classes
    )
    return ActiveLab(scores=result, scale=scale)


def activelab_scores(*, votes: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """The labelled items' ActiveLab scores alone (see :func:`activelab_labelled`)."""
    return activelab_labelled(votes=votes, pred_probs=pred_probs).scores


def activelab_unlabelled(*, pred_probs: np.ndarray, scale: ActiveLabScale) -> np.ndarray:
    """ActiveLab scores of items without votes, comparable with the labelled scores ``scale`` came with.

    Row by row, so the pool can be scored chunk by chunk. Rows with non-finite probabilities get NaN.
    Raises ValueError when the number of classes differs from the scale's.
    """
    proba = np.asarray(pred_probs, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != scale.n_classes:
        raise ValueError(f"pred_probs must be (n, {scale.n_classes})")
    result = np.full(len(proba), np.nan)
    rows = np.flatnonzero(np.isfinite(proba).all(axis=1))
    if not len(rows):
        return result
    # Heavy import, only when scoring.
    from cleanlab.internal.multiannotator_utils import temp_scale_pred_probs

    top = temp_scale_pred_probs(_clean(proba[rows]), scale.temperature).max(axis=1)
    result[rows] = (scale.model_weight * top + scale.annotator_weight / scale.n_classes) / (
        scale.model_weight + scale.annotator_weight
    )
    return result


def relabel_or_new(
    *,
    relabel_scores: np.ndarray,
    eligible: np.ndarray,
    new_scores: np.ndarray,
    quantile: float = NEW_ITEM_QUANTILE,
) -> np.ndarray:
    """Which labelled items one more annotation is worth more for than a first annotation of a new item.

    ``relabel_scores`` are the labelled items' ActiveLab scores, ``eligible`` whether each may get one more
    annotation at all, ``new_scores`` the ActiveLab scores (same scale) of the new items the queue would serve
    next. An eligible item wins when its score is below the ``quantile`` of the finite new scores (lower = more
    informative). Without any new score nothing wins: there is no new item to weigh against. NaN never wins.
    """
    relabel = np.asarray(relabel_scores, dtype=np.float64)
    new = np.asarray(new_scores, dtype=np.float64)
    new = new[np.isfinite(new)]
    if not len(new):
        return np.zeros(len(relabel), dtype=bool)
    bar = float(np.quantile(new, quantile))
    with np.errstate(invalid="ignore"):
        return np.asarray(eligible, dtype=bool) & np.isfinite(relabel) & (relabel < bar)
