"""Split arithmetic (pure module, no database)."""

from collections import Counter

import pytest

from datasets.splits import assign_splits, largest_remainder


def test_largest_remainder_splits_30_items_at_60_20_20_as_18_6_6():
    assert largest_remainder(30, [0.6, 0.2, 0.2]) == [18, 6, 6]


def test_largest_remainder_splits_30_items_at_80_10_10_as_24_3_3():
    assert largest_remainder(30, [0.8, 0.1, 0.1]) == [24, 3, 3]


def test_largest_remainder_gives_leftovers_to_largest_fractions_then_earlier_splits():
    # 7 × (0.5, 0.25, 0.25) = 3.5, 1.75, 1.75 → floors 3, 1, 1; two left: .75 and .75 beat .5 → 3, 2, 2
    assert largest_remainder(7, [0.5, 0.25, 0.25]) == [3, 2, 2]
    # 1 item: quotas .8/.1/.1 → the largest remainder (train) gets it
    assert largest_remainder(1, [0.8, 0.1, 0.1]) == [1, 0, 0]
    # equal remainders: the earlier split wins the tie
    assert largest_remainder(2, [1, 1, 1]) == [1, 1, 0]


def test_largest_remainder_handles_float_ratios_that_do_not_multiply_exactly():
    # 0.29 * 100 is 28.999999999999996 in floating point; exact arithmetic gives 29
    assert largest_remainder(100, [0.29, 0.71]) == [29, 71]
    assert largest_remainder(0, [0.8, 0.2]) == [0, 0]


def test_stratified_100_items_with_30_percent_positives_gives_18_6_6_positives():
    # Given 30 positives and 70 negatives, none split yet
    new = {"pos": range(30), "neg": range(100, 170)}
    # When assigned at 0.6/0.2/0.2
    assigned = assign_splits(
        new_items=new, existing_counts={}, ratios={"train": 0.6, "dev": 0.2, "test": 0.2}, seed=7
    )
    # Then every stratum is split by largest remainder: pos 18/6/6, neg 42/14/14
    pos = Counter(assigned[i] for i in range(30))
    neg = Counter(assigned[i] for i in range(100, 170))
    assert pos == {"train": 18, "dev": 6, "test": 6}
    assert neg == {"train": 42, "dev": 14, "test": 14}


def test_new_items_fill_the_per_label_deficit_of_each_split():
    # Given a label with 10 items already split 8/1/1 at 0.6/0.2/0.2 (train over target)
    existing = {"pos": {"train": 8, "dev": 1, "test": 1}}
    # When 10 more arrive: targets for 20 are 12/4/4 → deficits 4/3/3, exactly the 10 newcomers
    assigned = assign_splits(
        new_items={"pos": range(10)},
        existing_counts=existing,
        ratios={"train": 0.6, "dev": 0.2, "test": 0.2},
        seed=1,
    )
    assert Counter(assigned.values()) == {"train": 4, "dev": 3, "test": 3}


def test_overfilled_splits_get_no_newcomers_and_the_rest_share_by_deficit():
    # Given 10 items all in train (targets for 14 at .6/.2/.2 are 8/3/3 → deficits 0/3/3 = 6 > 4 newcomers)
    existing = {"pos": {"train": 10}}
    assigned = assign_splits(
        new_items={"pos": range(4)},
        existing_counts=existing,
        ratios={"train": 0.6, "dev": 0.2, "test": 0.2},
        seed=1,
    )
    # Then the 4 newcomers go to dev and test 2/2 (largest remainder of 4 by 3:3)
    assert Counter(assigned.values()) == {"dev": 2, "test": 2}


def test_assignment_of_an_item_does_not_depend_on_the_other_newcomers_order():
    ratios = {"train": 0.5, "dev": 0.25, "test": 0.25}
    forward = assign_splits(new_items={"a": list(range(40))}, existing_counts={}, ratios=ratios, seed=3)
    backward = assign_splits(
        new_items={"a": list(reversed(range(40)))}, existing_counts={}, ratios=ratios, seed=3
    )
    assert forward == backward
    other_seed = assign_splits(new_items={"a": list(range(40))}, existing_counts={}, ratios=ratios, seed=4)
    assert other_seed != forward
    assert Counter(other_seed.values()) == Counter(forward.values()) == {"train": 20, "dev": 10, "test": 10}


@pytest.mark.parametrize("ratios", [{"train": 1.0}, {"train": 0.9, "test": 0.1}])
def test_only_the_splits_named_in_the_ratios_are_used(ratios):
    assigned = assign_splits(new_items={"a": range(10)}, existing_counts={}, ratios=ratios, seed=0)
    assert set(assigned.values()) <= set(ratios)
    assert len(assigned) == 10


def test_ten_items_each_its_own_label_split_8_1_1_at_the_default_ratios():
    # Given 10 items whose labels all differ (a span project: every item's span set is its own stratum)
    new_items = {f"label-{n}": [n] for n in range(10)}
    # When split at 0.8/0.1/0.1: 10 × 0.8 = 8, 10 × 0.1 = 1, 10 × 0.1 = 1
    assigned = assign_splits(
        new_items=new_items, existing_counts={}, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=0
    )
    # Then dev and test are not left empty
    assert Counter(assigned.values()) == {"train": 8, "dev": 1, "test": 1}


def test_small_labels_fill_the_dataset_targets_around_items_that_keep_their_split():
    # Given 10 one-item labels already split 8/1/1 and 10 new one-item labels (targets for 20: 16/2/2)
    existing = {f"old-{n}": {"train" if n < 8 else ("dev" if n == 8 else "test"): 1} for n in range(10)}
    new_items = {f"new-{n}": [100 + n] for n in range(10)}
    assigned = assign_splits(
        new_items=new_items, existing_counts=existing, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=5
    )
    # Then only the newcomers are assigned, and they bring each split to its target: 8/1/1 more
    assert set(assigned) == set(range(100, 110))
    assert Counter(assigned.values()) == {"train": 8, "dev": 1, "test": 1}
