"""The items' side of scoring and adaptive overlap: annotation's item state machine applies these (set-based per
chunk); the names stay in this package so the training job reads as one boundary (and bench/al_scoring_job.py
times them)."""

from __future__ import annotations

import numpy as np

from annotation.services import item_state


def priorities_write(*, item_ids: np.ndarray, priority: np.ndarray) -> None:
    """Set ``Item.priority`` per item (cold start and the diverse batch)."""
    item_state.items_priority_set(item_ids=item_ids, priority=priority)


def targets_set_for_new(*, item_ids: np.ndarray, target: int) -> int:
    """Set the annotation target of items still ``new`` (never leased, so no annotator can be cut short)."""
    return item_state.items_target_set_for_new(item_ids=item_ids, target=target)


def items_reopen(
    *, item_ids: np.ndarray, seen_count: np.ndarray, target: np.ndarray, priority: np.ndarray
) -> int:
    """Raise targets and send labelled items back to the queue (``item_state.items_reopen``: a concurrent vote
    or review is never overridden)."""
    return item_state.items_reopen(item_ids=item_ids, seen_count=seen_count, target=target, priority=priority)


def items_route_to_review(*, item_ids: np.ndarray, seen_count: np.ndarray) -> int:
    """Move ``labelled`` items whose votes stay disputed with no annotator left to ask to ``needs_review``."""
    return item_state.items_route_to_review(item_ids=item_ids, seen_count=seen_count)
