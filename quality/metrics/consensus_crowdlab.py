"""CROWDLAB consensus and ActiveLab scores: thin wrappers over ``cleanlab.multiannotator``.

cleanlab wants a wide items × annotators float matrix with NaN gaps and refuses all-NaN rows or columns, so
only annotated items and annotators who labelled something are passed in; results are scattered back to the
table's full index spaces.
"""

from __future__ import annotations

import warnings

import numpy as np
from cleanlab.multiannotator import get_active_learning_scores, get_label_quality_multiannotator

from quality.metrics.consensus_result import ConsensusResult, require_pred_probs, require_single_label
from quality.metrics.table import AnnotationTable

__all__ = ["active_learning_scores", "crowdlab"]


def _wide_labels(table: AnnotationTable, items: np.ndarray, annotators: np.ndarray) -> np.ndarray:
    """Float ``(len(items), len(annotators))`` labels with NaN gaps, for rows whose item and annotator are kept."""
    item_pos = np.full(table.n_items, -1, dtype=np.int64)
    item_pos[items] = np.arange(items.size)
    annotator_pos = np.full(table.n_annotators, -1, dtype=np.int64)
    annotator_pos[annotators] = np.arange(annotators.size)
    rows, cols = item_pos[table.item], annotator_pos[table.annotator]
    keep = (rows >= 0) & (cols >= 0)
    wide = np.full((items.size, annotators.size), np.nan)
    wide[rows[keep], cols[keep]] = table.label[keep]
    return wide


def crowdlab(
    *, table: AnnotationTable, pred_probs: np.ndarray, calibrate_probs: bool = False
) -> ConsensusResult:
    """CROWDLAB consensus (cleanlab ``get_label_quality_multiannotator``, ``consensus_method="best_quality"``).

    Args:
        table: single-label annotations.
        pred_probs: ``(n_items, n_classes)`` out-of-sample model probabilities (rows for unannotated items are
            ignored). In-sample probabilities make the model look better than it is and over-weight it.
        calibrate_probs: let cleanlab temperature-scale ``pred_probs`` to the annotators' labels first.

    Returns:
        :class:`ConsensusResult` with ``confidence`` = cleanlab's consensus quality score, ``annotator_quality``
        = cleanlab's annotator quality (NaN for annotators without annotations), label ``-1`` and confidence
        NaN for unannotated items, ``is_tie`` and ``posteriors`` ``None`` (cleanlab does not expose them).

    Raises:
        ValueError: on a multi-label table, malformed ``pred_probs``, or when no item has two or more
            annotations (cleanlab's multi-annotator model cannot be fitted then; use
            :func:`quality.metrics.label_issues.find_label_issues` on single labels instead).
    """
    require_single_label(table)
    probs = require_pred_probs(pred_probs, n_rows=table.n_items, n_classes=table.n_classes)
    per_item = table.annotations_per_item()
    if not (per_item >= 2).any():
        raise ValueError("CROWDLAB needs at least one item with two or more annotations")
    items = np.flatnonzero(per_item > 0)
    annotators = np.flatnonzero(np.bincount(table.annotator, minlength=table.n_annotators) > 0)
    with warnings.catch_warnings():
        # cleanlab warns about classes missing from the consensus; the caller sees that in the labels anyway.
        warnings.simplefilter("ignore")
        info = get_label_quality_multiannotator(
            _wide_labels(table, items, annotators),
            probs[items],
            consensus_method="best_quality",
            quality_method="crowdlab",
            calibrate_probs=calibrate_probs,
            return_detailed_quality=False,
            return_annotator_stats=True,
            verbose=False,
        )
    quality_frame = info["label_quality"]
    label = np.full(table.n_items, -1, dtype=np.int64)
    label[items] = quality_frame["consensus_label"].to_numpy(dtype=np.int64)
    confidence = np.full(table.n_items, np.nan)
    confidence[items] = quality_frame["consensus_quality_score"].to_numpy(dtype=np.float64)
    # annotator_stats comes sorted by quality with a positional index into the wide matrix's columns.
    stats = info["annotator_stats"].sort_index()
    annotator_quality = np.full(table.n_annotators, np.nan)
    annotator_quality[annotators] = stats["annotator_quality"].to_numpy(dtype=np.float64)
    return ConsensusResult(
        label=label,
        confidence=confidence,
        is_tie=None,
        posteriors=None,
        annotator_quality=annotator_quality,
        method="crowdlab",
    )


def active_learning_scores(*, table: AnnotationTable, pred_probs: np.ndarray) -> np.ndarray:
    """ActiveLab scores (cleanlab ``get_active_learning_scores``) for labelled and unlabelled items together.

    Lower means more worth another label. Scores of labelled and unlabelled items are on one scale, so one
    ranking serves both "annotate something new" and "ask for one more opinion".

    Args:
        table: single-label annotations; items without a row are the unlabelled pool.
        pred_probs: ``(n_items, n_classes)`` model probabilities, out-of-sample for labelled items.

    Returns:
        float ``(n_items,)`` in [0, 1].

    Raises:
        ValueError: on a multi-label table, malformed ``pred_probs``, or a table with no items.
    """
    require_single_label(table)
    probs = require_pred_probs(pred_probs, n_rows=table.n_items, n_classes=table.n_classes)
    if table.n_items == 0:
        raise ValueError("active_learning_scores needs at least one item")
    per_item = table.annotations_per_item()
    labelled = np.flatnonzero(per_item > 0)
    unlabelled = np.flatnonzero(per_item == 0)
    annotators = np.flatnonzero(np.bincount(table.annotator, minlength=table.n_annotators) > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores_labelled, scores_unlabelled = get_active_learning_scores(
            labels_multiannotator=_wide_labels(table, labelled, annotators) if labelled.size else None,
            pred_probs=probs[labelled] if labelled.size else None,
            pred_probs_unlabeled=probs[unlabelled] if unlabelled.size else None,
        )
    scores = np.empty(table.n_items)
    scores[labelled] = np.asarray(scores_labelled, dtype=np.float64)
    scores[unlabelled] = np.asarray(scores_unlabelled, dtype=np.float64)
    return scores
