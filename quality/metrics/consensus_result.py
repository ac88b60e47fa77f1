"""The result every consensus method returns, and the input checks the methods share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.table import AnnotationTable

__all__ = ["ConsensusResult", "require_single_label", "require_pred_probs"]


@dataclass(frozen=True)
class ConsensusResult:
    """One consensus label per item, whichever method produced it.

    Attributes:
        label: int64 ``(n_items,)``; ``-1`` for items with no annotation (and, for model-based methods, no
            consensus was attempted for them).
        confidence: float ``(n_items,)`` in [0, 1]; NaN where ``label`` is ``-1``. Majority vote: share of votes
            for the winner. Dawid–Skene: maximum posterior. CROWDLAB: cleanlab's consensus quality score.
        is_tie: bool ``(n_items,)`` for majority vote (the winner was picked by the tie-break), else ``None``.
        posteriors: float ``(n_items, n_classes)`` rows summing to 1 when the method has them, else ``None``.
        annotator_quality: float ``(n_annotators,)``; NaN for annotators with no annotation in the table.
        method: ``"majority_vote"``, ``"dawid_skene"`` or ``"crowdlab"``.
    """

    label: np.ndarray
    confidence: np.ndarray
    is_tie: np.ndarray | None
    posteriors: np.ndarray | None
    annotator_quality: np.ndarray
    method: str


def require_single_label(table: AnnotationTable) -> None:
    """Refuse tables the consensus methods cannot handle.

    Raises:
        ValueError: for a multi-label table (run consensus per class on ``table.one_vs_rest(c)``), or a table
            with fewer than two classes.
    """
    if not isinstance(table, AnnotationTable):
        raise ValueError(f"table must be an AnnotationTable, got {type(table).__name__}")
    if table.multi_label:
        raise ValueError("consensus needs a single-label table; use table.one_vs_rest(c) per class")
    if table.n_classes < 2:
        raise ValueError("consensus needs at least two classes")


def require_pred_probs(
    pred_probs: object, *, n_rows: int, n_classes: int, name: str = "pred_probs"
) -> np.ndarray:
    """Return ``pred_probs`` as a float64 array after checking it is a probability matrix.

    Raises:
        ValueError: on a shape other than ``(n_rows, n_classes)``, non-finite or negative entries, or rows that
            do not sum to 1 (within 1e-3).
    """
    probs = np.asarray(pred_probs, dtype=np.float64)
    if probs.shape != (n_rows, n_classes):
        raise ValueError(f"{name} must have shape ({n_rows}, {n_classes}), got {probs.shape}")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    if n_rows and not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(f"every row of {name} must sum to 1")
    return probs
