"""Out-of-sample metrics of the base model's probabilities: accuracy, and recall, precision and support per
label, for single-label (class indices) or multi-label ((n, K) 0/1) targets. numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelMetrics:
    """Out-of-sample metrics. Single-label: ``cv_accuracy`` is accuracy and per-label arrays are recall,
    precision and support per class. Multi-label: ``cv_accuracy`` is the mean per-label (Hamming)
    accuracy, ``per_label_accuracy`` the binary accuracy per label and recall/precision are per label."""

    cv_accuracy: float
    per_label_accuracy: np.ndarray
    per_label_recall: np.ndarray
    per_label_precision: np.ndarray
    per_label_support: np.ndarray
    n_train: int
    n_folds: int


def metrics_from_proba(*, proba: np.ndarray, y: np.ndarray, n_folds: int) -> ModelMetrics:
    """Metrics of out-of-sample probabilities against labels (single- or multi-label, as in ``fit``)."""
    y = np.asarray(y)
    if y.ndim == 2:
        predicted = proba >= 0.5
        truth = y.astype(bool)
        per_label_accuracy = (predicted == truth).mean(axis=0)
        true_positive = (predicted & truth).sum(axis=0)
        support = truth.sum(axis=0)
        predicted_count = predicted.sum(axis=0)
        cv_accuracy = float(per_label_accuracy.mean())
    else:
        n_classes = proba.shape[1]
        predicted = proba.argmax(axis=1)
        confusion = np.bincount(y * n_classes + predicted, minlength=n_classes**2).reshape(
            n_classes, n_classes
        )
        true_positive = np.diag(confusion)
        support = confusion.sum(axis=1)
        predicted_count = confusion.sum(axis=0)
        per_label_accuracy = true_positive / np.maximum(support, 1)
        cv_accuracy = float(true_positive.sum() / max(len(y), 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, true_positive / support, np.nan)
        precision = np.where(predicted_count > 0, true_positive / predicted_count, np.nan)
    return ModelMetrics(
        cv_accuracy=cv_accuracy,
        per_label_accuracy=per_label_accuracy,
        per_label_recall=recall,
        per_label_precision=precision,
        per_label_support=support,
        n_train=len(y),
        n_folds=n_folds,
    )
