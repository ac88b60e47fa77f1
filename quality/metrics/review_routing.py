"""Which items of a structured kind (spans, boxes) a quality run routes to review, and the reasons that say why.

With about ten spans or five boxes per item some annotator differs somewhere on nearly every item, so the
kinds' disagreement reasons (``boundary_disagreement``, ``missing_box``, …) stay on the item to show where the
annotators differ and never route it by themselves: a project would otherwise have every item wait for a review
before it could be frozen. As for classes, an item is routed when its consensus is in doubt:

- ``low_consensus_confidence``: the item's consensus confidence (NaN: no consensus, never low) is below the
  project's ``review_confidence_threshold``;
- ``gold_mismatch``: its consensus differs from its gold answer;
- ``unsure_or_unusable``: an annotator marked it unsure or unusable;
- ``profile_flag``: profiling flagged it at import, routed only when the project routes flagged items.

Of these, the first two say the consensus itself may be wrong, and make the item a label issue
(``is_label_issue``, which a dataset version leaves out by default even when it takes items awaiting review); an
unsure mark or a profile flag asks for a look without calling the consensus wrong, as for classes.
"""

from __future__ import annotations

import numpy as np

ROUTING_REASONS = ("gold_mismatch", "low_consensus_confidence", "unsure_or_unusable", "profile_flag")


def routing_reasons(
    *,
    confidence: np.ndarray,
    threshold: float,
    gold_mismatch: np.ndarray | None = None,
    unsure_count: np.ndarray | None = None,
    unusable_count: np.ndarray | None = None,
    profile_flag: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per item, whether each of :data:`ROUTING_REASONS` applies (bool arrays shaped like ``confidence``);
    a missing signal applies nowhere."""
    confidence = np.asarray(confidence, dtype=np.float64)
    none = np.zeros(confidence.shape, dtype=bool)
    marked = np.zeros(confidence.shape, dtype=np.int64)
    for counts in (unsure_count, unusable_count):
        if counts is not None:
            marked = marked + np.asarray(counts, dtype=np.int64)
    return {
        "gold_mismatch": none if gold_mismatch is None else np.asarray(gold_mismatch, dtype=bool),
        "low_consensus_confidence": np.nan_to_num(confidence, nan=np.inf) < threshold,
        "unsure_or_unusable": marked > 0,
        "profile_flag": none if profile_flag is None else np.asarray(profile_flag, dtype=bool),
    }


def routed(reasons: dict[str, np.ndarray], *, route_profile_flags: bool) -> np.ndarray:
    """Items to route to review: any routing reason, a profile flag only when ``route_profile_flags``."""
    route = reasons["gold_mismatch"] | reasons["low_consensus_confidence"] | reasons["unsure_or_unusable"]
    if route_profile_flags:
        route = route | reasons["profile_flag"]
    return route


def label_issue(reasons: dict[str, np.ndarray]) -> np.ndarray:
    """Items whose consensus may be wrong: a gold mismatch or a confidence under the threshold."""
    return reasons["gold_mismatch"] | reasons["low_consensus_confidence"]
