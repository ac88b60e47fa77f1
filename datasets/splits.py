"""Stratified, stable split assignment (pure: no Django).

Targets per label come from the largest-remainder method, so small classes are split as evenly as the ratios
allow (30 items at 0.6/0.2/0.2 → 18/6/6, never 21/2/7). Items that already have a split keep it; new items of a
label fill the whole-number part of that label's per-split deficit, so every split stays stratified as a dataset
grows; the few items left over per label are pooled and fill the dataset-wide targets, so tiny labels (a span
project's every item is its own label set) still give dev and test their share. Which new item goes where is
decided by a seeded hash of its id.
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
    Returns ``{item_id: split}`` for the new items only. Per stratum, new items first fill the whole-number
    part of each split's share (the floor of its quota, minus what the stratum already holds there). The
    items left over (fewer than the number of splits per stratum) are pooled across strata and go, in hash
    order, to the splits below their largest-remainder target for the whole dataset, so ten one-item strata
    at 0.8/0.1/0.1 split 8/1/1 rather than all landing in train.
    """
    names = [name for name in SPLIT_NAMES if name in ratios] + sorted(set(ratios) - set(SPLIT_NAMES))
    weights = [Fraction(repr(w)) if isinstance(w, float) else Fraction(w) for w in (ratios[n] for n in names)]
    weight_sum = sum(weights, Fraction(0))
    assignment: dict[int, str] = {}
    held = [0] * len(names)  # items per split over all strata: kept ones plus those assigned here
    pool: list[int] = []
    total = 0
    for stratum in sorted(set(new_items) | set(existing_counts)):
        ids = sorted(new_items.get(stratum, ()), key=lambda item_id: (stable_rank(item_id, seed), item_id))
        existing = existing_counts.get(stratum, {})
        have = [int(existing.get(name, 0)) for name in names]
        size = sum(have) + len(ids)
        total += size
        for index, count in enumerate(have):
            held[index] += count
        if not ids or weight_sum == 0:
            continue
        floors = [int(size * w / weight_sum) for w in weights]
        deficits = [max(0, floor - current) for floor, current in zip(floors, have, strict=True)]
        if sum(deficits) > len(ids):
            # Earlier splits are over target (items keep their split), so the deficits exceed the newcomers.
            take = largest_remainder(len(ids), deficits)
        else:
            take = deficits
        start = 0
        for index, count in enumerate(take):
            for item_id in ids[start : start + count]:
                assignment[item_id] = names[index]
            held[index] += count
            start += count
        pool.extend(ids[start:])
    if not pool:
        return assignment
    pool.sort(key=lambda item_id: (stable_rank(item_id, seed), item_id))
    targets = largest_remainder(total, weights)
    deficits = [max(0, target - current) for target, current in zip(targets, held, strict=True)]
    take = deficits if sum(deficits) == len(pool) else largest_remainder(len(pool), deficits)
    start = 0
    for name, count in zip(names, take, strict=True):
        for item_id in pool[start : start + count]:
            assignment[item_id] = name
        start += count
    return assignment
