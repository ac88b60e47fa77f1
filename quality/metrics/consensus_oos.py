"""Out-of-sample class probabilities from item feature vectors, for CROWDLAB and label-issue detection.

The default model is the mean of two deliberately simple, noise-tolerant classifiers on standardised features:
a strongly regularised logistic regression (C=0.1, smooth and calibrated-ish) and a distance-weighted 10-nearest
neighbours (local, so a mislabelled item does not pull the global decision boundary). On ``load_digits`` with
10–20 % confusable-class noise this mix finds label errors markedly better than either model alone or an MLP
(see ``bench/results/label_issues.md``). Deep models belong on the Django side: any callable with the
signature of :func:`cross_val_pred_probs` can replace it.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["cross_val_pred_probs"]


def _fit_predict(features: np.ndarray, labels: np.ndarray, query: np.ndarray, n_classes: int) -> np.ndarray:
    """Ensemble probabilities for ``query`` rows after fitting on ``features``/``labels``."""
    out = np.zeros((query.shape[0], n_classes))
    classes = np.unique(labels)
    if classes.size == 1:
        # A fold that saw only one class can say nothing else; sklearn refuses to fit it anyway.
        out[:, classes[0]] = 1.0
        return out
    models = (
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        make_pipeline(
            StandardScaler(), KNeighborsClassifier(n_neighbors=min(10, labels.size), weights="distance")
        ),
    )
    for model in models:
        model.fit(features, labels)
        # Classes absent from this training fold keep probability 0 rather than shifting the columns.
        out[:, model.classes_] += model.predict_proba(query) / len(models)
    return out


def cross_val_pred_probs(
    *, features: np.ndarray, labels: np.ndarray, n_classes: int, n_folds: int = 5, seed: int = 0
) -> np.ndarray:
    """K-fold out-of-sample probabilities for labelled items, fold-ensemble probabilities for the rest.

    Args:
        features: float ``(n_items, n_features)``.
        labels: int ``(n_items,)`` in ``0..n_classes-1``, or ``-1`` for items without a label (they are never
            trained on; their probabilities average the fold models).
        n_classes: number of classes (columns of the output).
        n_folds: folds (≥ 2). Folds are stratified when every present class has at least ``n_folds`` items.
        seed: shuffling seed; the result is a deterministic function of the inputs and ``seed``.

    Returns:
        float ``(n_items, n_classes)``, rows summing to 1.

    Raises:
        ValueError: on mismatched shapes, labels out of range, ``n_folds`` < 2, or fewer labelled items than
            ``n_folds``.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or labels.ndim != 1 or features.shape[0] != labels.shape[0]:
        raise ValueError("features must be (n_items, n_features) and labels (n_items,)")
    if not np.issubdtype(labels.dtype, np.integer) or (labels < -1).any() or (labels >= n_classes).any():
        raise ValueError(f"labels must be integers in [-1, {n_classes - 1}]")
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    labelled = np.flatnonzero(labels >= 0)
    if labelled.size < n_folds:
        raise ValueError(f"need at least {n_folds} labelled items, got {labelled.size}")
    y = labels[labelled]
    stratify = np.bincount(y)[np.unique(y)].min() >= n_folds
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=n_folds, shuffle=True, random_state=seed)
    unlabelled = np.flatnonzero(labels < 0)
    probs = np.zeros((labels.size, n_classes))
    for train, test in splitter.split(labelled, y):
        query = np.concatenate([labelled[test], unlabelled])
        fold_probs = _fit_predict(features[labelled[train]], y[train], features[query], n_classes)
        probs[labelled[test]] = fold_probs[: test.size]
        probs[unlabelled] += fold_probs[test.size :] / n_folds
    return probs
