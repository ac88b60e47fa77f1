"""Majority-vote reference labels: over all annotators of an item, and leave-one-out (everyone but the row's
own annotator) — the reference a human is judged against for HLP and annotator agreement.

Ties are never broken silently: a tied vote yields no reference (-1) and is flagged, because picking the
lowest class index would systematically favour annotators who chose low-index classes. ``np.argmax`` on a
tied row would return the lowest index; the ``tie`` flag is what excludes those rows from every accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.metrics.table import AnnotationTable

__all__ = ["Reference", "leave_one_out_majority", "majority_vote"]


@dataclass(frozen=True)
class Reference:
    """``label``: reference class or -1 (no votes, or a tie); ``tie``: True where votes exist but tie."""

    label: np.ndarray
    tie: np.ndarray


def _require_single_label(table: AnnotationTable) -> None:
    if table.multi_label:
        raise ValueError("majority references need a single-label table; use table.one_vs_rest(c) per label")


def majority_vote(*, table: AnnotationTable) -> Reference:
    """Per-item majority over all annotations, ``(n_items,)``.

    Raises:
        ValueError: for multi-label tables.
    """
    _require_single_label(table)
    votes = table.counts()
    top = votes.max(axis=1)
    n_top = (votes == top[:, None]).sum(axis=1)
    has_votes = top > 0
    tie = has_votes & (n_top > 1)
    label = np.where(has_votes & ~tie, votes.argmax(axis=1), -1)
    return Reference(label=label, tie=tie)


def leave_one_out_majority(*, table: AnnotationTable) -> Reference:
    """Per-annotation majority of the *other* annotators of the same item, ``(n_annotations,)``.

    Works from per-item top-two statistics instead of materialising one count vector per annotation, so memory
    stays O(n_items × n_classes). Removing one vote of class c from the item's counts:

    * c below the top count: the top classes are unchanged (unique → that class, several → tie);
    * c the unique top, next-best t2: c still wins if t2 < top − 1, ties with the runners-up if t2 = top − 1;
    * c one of exactly two top classes: the other one wins; one of three or more: tie.

    Raises:
        ValueError: for multi-label tables.
    """
    _require_single_label(table)
    votes = table.counts()
    top = votes.max(axis=1)
    is_top = votes == top[:, None]
    n_top = is_top.sum(axis=1)
    first_top = is_top.argmax(axis=1)
    is_top[np.arange(table.n_items), first_top] = False
    second_top = is_top.argmax(axis=1)  # meaningful only where n_top >= 2
    runner_up = np.where(votes == top[:, None], -1, votes).max(axis=1)

    item, own = table.item, table.label
    own_count, item_top, item_n_top = votes[item, own], top[item], n_top[item]
    has_others = table.annotations_per_item()[item] >= 2
    below_top = own_count < item_top
    unique_top_own = ~below_top & (item_n_top == 1)
    pair_top_own = ~below_top & (item_n_top == 2)

    label = np.full(item.size, -1, dtype=np.int64)
    tie = np.zeros(item.size, dtype=bool)
    winner_unchanged = below_top & (item_n_top == 1)
    label[winner_unchanged] = first_top[item[winner_unchanged]]
    tie |= below_top & (item_n_top > 1)
    own_still_wins = unique_top_own & (runner_up[item] < item_top - 1)
    label[own_still_wins] = own[own_still_wins]
    tie |= unique_top_own & (runner_up[item] == item_top - 1)
    other_of_two = np.where(own == first_top[item], second_top[item], first_top[item])
    label[pair_top_own] = other_of_two[pair_top_own]
    tie |= ~below_top & (item_n_top >= 3)
    tie &= has_others
    label[~has_others | tie] = -1
    return Reference(label=label, tie=tie)
