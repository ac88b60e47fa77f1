"""Stratified, stable split assignment (pure: no Django).

Targets per label come from the largest-remainder method, so small classes are split as evenly as the ratios
allow (30 items at 0.6/0.2/0.2 → 18/6/6, never 21/2/7). Items that already have a split keep it; new items of a
label fill that label's per-split deficit against its targets, so every split stays stratified as a dataset
grows. Which new item goes where is decided by a seeded hash of its id, independent of the other items present.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

SPLIT_NAMES: tuple[str, ...] = ("train", "dev", "test")


def largest_remainder(total: int, weights: Sequence[Fraction | float | int]) -> list[int]:
    """Apportion ``total`` by ``weights`` (any non-negative numbers): floors, then the largest remainders.

    Ties go to the earlier position. Returns zeros when all weights are zero.
    """
    exact = [Fraction(w) if not isinstance(w, float) else Fraction(repr(w)) for w in weights]
    weight_sum = sum(exact, Fraction(0))
    if total <= 0 or weight_sum == 0:
        return [0] * len(exact)
    quotas = [total * w / weight_sum for w in exact]
    counts = [int(q) for q in quotas]  # Fraction → int truncates toward zero; quotas are non-negative
    short = total - sum(counts)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for index in order[:short]:
        counts[index] += 1
    return counts


def stable_rank(item_id: int, seed: int) -> bytes:
    """A seeded pseudo-random sort key of one item; the same for an item in every version."""
    return hashlib.blake2b(f"{seed}:{item_id}".encode(), digest_size=8).digest()


def assign_splits(
    *,
    new_items: Mapping[str, Iterable[int]],
    existing_counts: Mapping[str, Mapping[str, int]],
    ratios: Mapping[str, float],
    seed: int,
) -> dict[int, str]:
    """Assign each new item (grouped by stratum, e.g. its label) to a split.

    ``existing_counts[stratum][split]`` counts items of that stratum that already hold a split and keep it.
    Returns ``{item_id: split}`` for the new items only. Per stratum the target is the largest-remainder
    apportionment of all its items (existing + new); new items go to the splits below target, in proportion
    to each split's deficit (again by largest remainder).
    """
    names = [name for name in SPLIT_NAMES if name in ratios] + sorted(set(ratios) - set(SPLIT_NAMES))
    weights = [ratios[name] for name in names]
    assignment: dict[int, str] = {}
    for stratum in sorted(new_items):
        ids = sorted(new_items[stratum], key=lambda item_id: (stable_rank(item_id, seed), item_id))
        if not ids:
            continue
        existing = existing_counts.get(stratum, {})
        have = [int(existing.get(name, 0)) for name in names]
        targets = largest_remainder(sum(have) + len(ids), weights)
        deficits = [max(0, target - current) for target, current in zip(targets, have, strict=True)]
        if sum(deficits) == len(ids):
            take = deficits
        else:
            # Earlier splits are over target (items keep their split), so the deficits exceed the newcomers.
            take = largest_remainder(len(ids), deficits)
        start = 0
        for name, count in zip(names, take, strict=True):
            for item_id in ids[start : start + count]:
                assignment[item_id] = name
            start += count
    return assignment
