"""Suspected label errors, each with the reasons it was flagged and a severity that orders the review queue.

Reasons are stored as a bitmask (int64 per item); bit ``i`` is ``REASON_CODES[i]``:

==========================  =========================================================================  ======
code                        flagged when                                                               weight
==========================  =========================================================================  ======
``model_disagrees``         the model's top class (argmax of ``pred_probs``, lowest class on a tie)     0.9
                            differs from the consensus label
``low_consensus_confidence`` consensus confidence < ``confidence_threshold``                           0.7
``annotators_split``        ≥ 2 votes and the winner holds at most ``split_share`` of them             0.6
``gold_mismatch``           a gold label exists and the consensus differs                              1.0
``near_duplicate_conflict`` a near-duplicate group's members carry different consensus labels          0.8
``profile_flag``            the caller's profiling flagged the item (corrupt, silent, empty…)           0.4
``unsure_or_unusable``      at least one annotator marked the item unsure or unusable                  0.5
``model_overrides_annotators`` the consensus method's top label has fewer votes than the most-voted  0.8
                            label (set by the quality engine, see ``consensus_votes``)
==========================  =========================================================================  ======

Reasons say why an item is worth a look; only some of them say the label is probably wrong. ``is_label_issue``
is set for exactly two: cleanlab ``find_label_issues`` (``prune_by_noise_rate``) on out-of-sample ``pred_probs``
flags the consensus label — a subset of ``model_disagrees``, since cleanlab never flags a label the model ranks
first — or the consensus differs from a gold label. A split vote, low confidence, a profile flag or a
near-duplicate conflict routes an item to review without calling its label wrong.

Severity (noisy-OR, in [0, 1]): ``1 − Π_r (1 − weight_r · strength_r)`` over the item's reasons, where strength
is 1 − label quality (model), 1 − confidence (low confidence), 1 − winner's vote share (split), 1 for gold and
profile flags, for duplicates 1 minus the share of the rest of the group agreeing with the item (the odd one out
ranks first), and the share of annotators who marked unsure/unusable. More and stronger reasons always raise
severity; unflagged items have severity 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
from cleanlab.rank import get_label_quality_scores

from quality.metrics.consensus_oos import cross_val_pred_probs
from quality.metrics.consensus_result import require_pred_probs
from quality.metrics.reason_codes import REASON_CODES

__all__ = [
    "REASON_CODES",
    "REASON_WEIGHTS",
    "LabelIssues",
    "decode_reasons",
    "find_label_issues",
    "find_label_issues_from_features",
]

# The last weight is ``model_overrides_annotators``, which the quality engine sets after the consensus (it is
# about how the consensus was chosen, not about the label against other evidence).
REASON_WEIGHTS = np.array([0.9, 0.7, 0.6, 1.0, 0.8, 0.4, 0.5, 0.8])


@dataclass(frozen=True)
class LabelIssues:
    """Per-item issue flags.

    Attributes:
        needs_review: bool ``(n_items,)``, any reason present.
        is_label_issue: bool ``(n_items,)``, the label is probably wrong: cleanlab's pruning flags it on the
            model's probabilities, or it differs from the gold label (module docstring).
        severity: float ``(n_items,)`` in [0, 1] (formula in the module docstring); 0 without a reason.
        label_quality: float ``(n_items,)`` cleanlab self-confidence of the consensus label, i.e. the model's
            probability for it (below 0.5 wherever cleanlab's pruning flags it, since the model then ranks
            another label higher); NaN without a model or without a consensus label.
        reasons: int64 ``(n_items,)`` bitmask over :data:`REASON_CODES`; decode with :func:`decode_reasons`.
        model_label: int64 ``(n_items,)`` the model's top class, the one ``model_disagrees`` compares with the
            consensus; ``-1`` where the item was not model-checked (no probabilities or no consensus).
    """

    needs_review: np.ndarray
    is_label_issue: np.ndarray
    severity: np.ndarray
    label_quality: np.ndarray
    reasons: np.ndarray
    model_label: np.ndarray

    def review_order(self) -> np.ndarray:
        """Indices of the items with a reason, most severe first; equal severity keeps item order."""
        issues = np.flatnonzero(self.needs_review)
        return issues[np.argsort(-self.severity[issues], kind="stable")]


def decode_reasons(reasons: np.ndarray) -> list[tuple[str, ...]]:
    """Reason codes of each item, in :data:`REASON_CODES` order."""
    reasons = np.asarray(reasons, dtype=np.int64)
    bits = (reasons[:, None] >> np.arange(len(REASON_CODES))) & 1
    return [tuple(code for code, on in zip(REASON_CODES, row, strict=True) if on) for row in bits.tolist()]


def _optional(name: str, values: np.ndarray | None, n: int, dtype: type) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if dtype is bool and array.dtype != np.bool_:
        raise ValueError(f"{name} must be boolean")
    if dtype is int and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers")
    if dtype is float:
        array = array.astype(np.float64)
    return array


def _model_check(
    label: np.ndarray, pred_probs: np.ndarray, filter_by: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(disagreement strength, cleanlab-pruned, label quality, model's top class) on the items that have a
    consensus label; the other items get 0, False, NaN and -1."""
    n, k = pred_probs.shape
    quality = np.full(n, np.nan)
    strength = np.zeros(n)
    pruned = np.zeros(n, dtype=bool)
    top = np.full(n, -1, dtype=np.int64)
    has = np.flatnonzero(label >= 0)
    if has.size == 0:
        return strength, pruned, quality, top
    quality[has] = get_label_quality_scores(label[has], pred_probs[has])
    top[has] = pred_probs[has].argmax(axis=1)
    disagrees = has[top[has] != label[has]]
    # A disagreeing item whose label the model still finds nearly as likely would get strength ~0; the floor
    # keeps it visible in the queue.
    strength[disagrees] = np.maximum(1.0 - quality[disagrees], 0.05)
    # cleanlab's confident-joint estimate needs each class to appear; below that it has nothing to compare.
    if np.unique(label[has]).size == k:
        flagged = cleanlab_find_label_issues(label[has], pred_probs[has], filter_by=filter_by, n_jobs=1)
        # cleanlab drops issues whose label ties the model's top class within float noise; keeping only
        # disagreeing items makes "label issue" imply "model disagrees" exactly.
        pruned[has[flagged]] = True
        pruned &= strength > 0
    return strength, pruned, quality, top


def _duplicate_strength(label: np.ndarray, group: np.ndarray) -> np.ndarray:
    """1 − share of the item's other group members that share its label, where the group disagrees."""
    strength = np.zeros(label.size)
    member = np.flatnonzero((group >= 0) & (label >= 0))
    if member.size == 0:
        return strength
    n_labels = int(label[member].max()) + 1
    pair = group[member] * n_labels + label[member]
    pair_ids, pair_inverse, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
    group_size = np.bincount(group[member])[group[member]]
    distinct = np.bincount(pair_ids // n_labels)[group[member]]
    same = pair_count[pair_inverse] - 1
    conflict = distinct > 1
    strength[member[conflict]] = 1.0 - same[conflict] / (group_size[conflict] - 1)
    return strength


def find_label_issues(
    *,
    consensus_label: np.ndarray,
    pred_probs: np.ndarray | None = None,
    consensus_confidence: np.ndarray | None = None,
    vote_counts: np.ndarray | None = None,
    gold_label: np.ndarray | None = None,
    duplicate_group: np.ndarray | None = None,
    profile_flag: np.ndarray | None = None,
    unsure_count: np.ndarray | None = None,
    unusable_count: np.ndarray | None = None,
    model_label: np.ndarray | None = None,
    label_quality: np.ndarray | None = None,
    confidence_threshold: float = 0.5,
    split_share: float = 0.5,
    filter_by: str = "prune_by_noise_rate",
) -> LabelIssues:
    """Flag items whose consensus label is suspect; every signal is optional except the labels.

    Args:
        consensus_label: int ``(n_items,)``, ``-1`` for items without a consensus (never model-checked).
        pred_probs: out-of-sample ``(n_items, n_classes)`` probabilities; enables ``model_disagrees`` and the
            model half of ``is_label_issue``. Rows of NaN mark items without model probabilities (they are not
            model-checked).
        consensus_confidence: float ``(n_items,)`` (NaN ignored); enables ``low_consensus_confidence``.
        vote_counts: int ``(n_items, n_classes)`` (``AnnotationTable.counts()``); enables ``annotators_split``
            and scales ``unsure_or_unusable`` by the number of annotators.
        gold_label: int ``(n_items,)`` with ``-1`` where there is no gold label.
        duplicate_group: int ``(n_items,)`` near-duplicate group id, ``-1`` for none.
        profile_flag: bool ``(n_items,)``.
        unsure_count, unusable_count: int ``(n_items,)`` annotations marked unsure / unusable.
        model_label: int ``(n_items,)``, ``-1`` for none: a model's top class kept from an earlier check, for
            callers without probabilities (the per-item update); ``model_disagrees`` then compares it with the
            consensus, and ``is_label_issue`` stays False (cleanlab needs the whole project's probabilities).
            Ignored when ``pred_probs`` is given.
        label_quality: float ``(n_items,)`` with NaN for unknown: the strength of such a disagreement is
            1 − this (0.5 when unknown). Only used with ``model_label``.
        confidence_threshold: ``low_consensus_confidence`` below this.
        split_share: ``annotators_split`` when the winner's vote share is at most this.
        filter_by: cleanlab ``find_label_issues`` filter (``prune_by_noise_rate`` won the benchmark).

    Raises:
        ValueError: on any array of the wrong shape or dtype, labels out of range, or malformed ``pred_probs``.
    """
    label = np.asarray(consensus_label)
    if label.ndim != 1 or not np.issubdtype(label.dtype, np.integer) or (label.size and label.min() < -1):
        raise ValueError("consensus_label must be a 1-D integer array with -1 for 'no consensus'")
    n = label.size
    given_model_label, given_quality = model_label, label_quality
    strength = np.zeros((len(REASON_CODES), n))
    label_quality = np.full(n, np.nan)
    pruned = np.zeros(n, dtype=bool)
    if pred_probs is not None:
        raw = np.asarray(pred_probs, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[0] != n:
            raise ValueError(f"pred_probs must have shape ({n}, n_classes), got {raw.shape}")
        # An all-NaN row is an item without model probabilities: it is not model-checked (label quality NaN).
        modelled = ~np.isnan(raw).all(axis=1)
        probs: np.ndarray = np.full(raw.shape, 1.0 / max(raw.shape[1], 1))
        probs[modelled] = require_pred_probs(
            raw[modelled], n_rows=int(modelled.sum()), n_classes=raw.shape[1]
        )
        if label.size and label.max() >= probs.shape[1]:
            raise ValueError("consensus_label has a class beyond pred_probs' columns")
        strength[0], pruned, label_quality, model_label = _model_check(
            np.where(modelled, label, -1), probs, filter_by
        )
    else:
        model_label = np.full(n, -1, dtype=np.int64)
        given = _optional("model_label", given_model_label, n, int)
        if given is not None:
            known = _optional("label_quality", given_quality, n, float)
            model_label = np.where((given >= 0) & (label >= 0), given, -1).astype(np.int64)
            disagrees = (model_label >= 0) & (model_label != label)
            weakness = np.full(n, 0.5) if known is None else np.where(np.isnan(known), 0.5, 1.0 - known)
            strength[0] = np.where(disagrees, np.maximum(weakness, 0.05), 0.0)
            if known is not None:
                label_quality = known
    confidence = _optional("consensus_confidence", consensus_confidence, n, float)
    if confidence is not None:
        low = (label >= 0) & (np.nan_to_num(confidence, nan=np.inf) < confidence_threshold)
        strength[1] = np.where(low, np.maximum(1.0 - confidence, 0.05), 0.0)
    n_votes = None
    if vote_counts is not None:
        counts = np.asarray(vote_counts)
        if counts.ndim != 2 or counts.shape[0] != n or (counts < 0).any():
            raise ValueError(f"vote_counts must be a non-negative ({n}, n_classes) array")
        n_votes = counts.sum(axis=1)
        share = counts.max(axis=1) / np.maximum(n_votes, 1)
        strength[2] = np.where((n_votes >= 2) & (share <= split_share), 1.0 - share, 0.0)
    gold = _optional("gold_label", gold_label, n, int)
    if gold is not None:
        strength[3] = (gold >= 0) & (label >= 0) & (gold != label)
    group = _optional("duplicate_group", duplicate_group, n, int)
    if group is not None:
        strength[4] = _duplicate_strength(label, group)
    profile = _optional("profile_flag", profile_flag, n, bool)
    if profile is not None:
        strength[5] = profile
    unsure = _optional("unsure_count", unsure_count, n, int)
    unusable = _optional("unusable_count", unusable_count, n, int)
    if unsure is not None or unusable is not None:
        marked = (0 if unsure is None else unsure) + (0 if unusable is None else unusable)
        if np.any(marked < 0):
            raise ValueError("unsure_count and unusable_count must be non-negative")
        denominator = np.maximum(marked, 1) if n_votes is None else np.maximum(n_votes, marked)
        strength[6] = np.where(marked > 0, np.minimum(marked / np.maximum(denominator, 1), 1.0), 0.0)

    flagged = strength > 0
    reasons = (flagged.astype(np.int64) << np.arange(len(REASON_CODES))[:, None]).sum(axis=0)
    severity = 1.0 - np.prod(1.0 - REASON_WEIGHTS[:, None] * strength, axis=0)
    is_label_issue = pruned | (strength[REASON_CODES.index("gold_mismatch")] > 0)
    return LabelIssues(
        needs_review=reasons > 0,
        is_label_issue=is_label_issue,
        severity=severity,
        label_quality=label_quality,
        reasons=reasons,
        model_label=model_label,
    )


def find_label_issues_from_features(
    *,
    features: np.ndarray,
    consensus_label: np.ndarray,
    n_classes: int,
    seed: int = 0,
    n_folds: int = 5,
    **signals: object,
) -> tuple[LabelIssues, np.ndarray]:
    """The benchmarked recipe: 5-fold LR + kNN probabilities (:func:`cross_val_pred_probs`), then
    :func:`find_label_issues` with cleanlab's default ``prune_by_noise_rate``.

    Items with label ``-1`` are not trained on. ``signals`` are passed on to :func:`find_label_issues`.
    Deterministic for a fixed ``seed``.

    Returns:
        The issues and the out-of-sample probabilities used.

    Raises:
        ValueError: see :func:`cross_val_pred_probs` and :func:`find_label_issues`.
    """
    probs = cross_val_pred_probs(
        features=features, labels=np.asarray(consensus_label), n_classes=n_classes, n_folds=n_folds, seed=seed
    )
    return find_label_issues(consensus_label=consensus_label, pred_probs=probs, **signals), probs  # type: ignore[arg-type]
