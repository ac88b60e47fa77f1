"""Queue priority bands: how strategy scores become ``Item.priority`` (the queue serves higher first).

Bands, highest first; within a band the value is a score in [0, 1):
- 3 ``EXTRA``: open items that already have annotations and were given more than the project's k (adaptive
  overlap), labelled items reopened because ActiveLab rates one more annotation of them above a first annotation
  of the next new items, and items a reviewer sent back for relabelling — finishing them settles a doubtful
  label, and they must not be starved. The band is kept: re-scoring leaves an open item that is in it there
  until it is labelled again (a reviewer's request has no annotations left to tell it apart by);
- 2 ``STARTED``: open items with some but not all of their k annotations — a consensus label sooner;
- 1 ``BATCH``: the diverse batch picked from the top of the pool (or the cold-start batch before a model);
- 0 ``POOL``: every other unlabelled item, by its normalised strategy score.
Gold items are not scored: the queue draws them at the project's gold rate, whatever their priority.
"""

from __future__ import annotations

import numpy as np

BAND_POOL = 0
BAND_BATCH = 1
BAND_STARTED = 2
BAND_EXTRA = 3
BAND_NAMES = {BAND_POOL: "pool", BAND_BATCH: "batch", BAND_STARTED: "started", BAND_EXTRA: "extra"}
TOP = 1.0 - 1e-6  # a band's values stay strictly below the next band
# A reviewer's relabel request: the top of the EXTRA band until the next re-score places it by score.
RELABEL_REQUESTED = BAND_EXTRA + TOP


def score_range(*, strategy: str, n_classes: int) -> float:
    """The largest value a strategy's score can take for K classes (scores start at 0)."""
    if strategy in ("entropy", "bald"):
        return float(np.log(max(n_classes, 2)))
    if strategy == "least_confidence":
        return 1.0 - 1.0 / max(n_classes, 2)
    return 1.0  # margin, random


def normalised(*, scores: np.ndarray, strategy: str, n_classes: int) -> np.ndarray:
    """Scores mapped monotonically into [0, TOP]; NaN (features could not be read) becomes 0."""
    values = np.asarray(scores, dtype=np.float64) / score_range(strategy=strategy, n_classes=n_classes)
    return np.clip(np.nan_to_num(values, nan=0.0), 0.0, TOP)


def bands(
    *, annotation_count: np.ndarray, target: np.ndarray, k: int, current: np.ndarray | None = None
) -> np.ndarray:
    """Band per open item from its annotation count and target (POOL for items without annotations); with
    ``current`` (the items' present priorities) an item already in EXTRA stays there."""
    count = np.asarray(annotation_count)
    started = count > 0
    extra = started & (np.asarray(target) > k)
    if current is not None:
        extra = extra | (np.asarray(current, dtype=np.float64) >= BAND_EXTRA)
    return np.where(extra, BAND_EXTRA, np.where(started, BAND_STARTED, BAND_POOL)).astype(np.int64)


def priorities(*, band: np.ndarray, within: np.ndarray) -> np.ndarray:
    """``band + within`` with ``within`` clipped to [0, TOP] (NaN counts as 0)."""
    return np.asarray(band, dtype=np.float64) + np.clip(
        np.nan_to_num(np.asarray(within, dtype=np.float64)), 0.0, TOP
    )


def rank_within(n: int) -> np.ndarray:
    """Within-band values for a ranked list of n items, first = highest: (n − r) / (n + 1)."""
    return (n - np.arange(n)) / (n + 1.0)
