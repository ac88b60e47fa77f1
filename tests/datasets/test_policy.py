"""Policy validation (pure): every bad input names its field."""

import pytest

from core.errors import ValidationFailed
from datasets.policy import DEFAULT_SPLITS, policy_from_params


def test_defaults_when_nothing_is_given():
    policy = policy_from_params({})
    assert policy.min_confidence == 0.0
    assert policy.splits == DEFAULT_SPLITS
    assert policy.exclude_label_issues is True and policy.accepted_only is False and policy.seed == 0


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"splits": {"train": 0.7, "dev": 0.1, "test": 0.1}}, "splits", "sum to 1"),
        ({"splits": {"train": 1.2, "test": -0.2}}, "splits", "between 0 and 1"),
        ({"splits": {"train": 0.8, "val": 0.2}}, "splits", "Unknown split 'val'"),
        ({"splits": {"train": "lots"}}, "splits", "must be a number"),
        ({"splits": {}}, "splits", "must be an object"),
        ({"min_confidence": -0.1}, "min_confidence", "between 0 and 1"),
        ({"min_confidence": 1.5}, "min_confidence", "between 0 and 1"),
        ({"min_confidence": "high"}, "min_confidence", "must be a number"),
        ({"seed": -1}, "seed", "integer"),
        ({"accepted_only": "yes"}, "accepted_only", "true or false"),
    ],
)
def test_bad_policy_input_is_rejected_with_the_field(params, field, fragment):
    with pytest.raises(ValidationFailed) as caught:
        policy_from_params(params)
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_ratios_summing_to_one_within_rounding_are_accepted_and_kept_in_split_order():
    policy = policy_from_params(
        {"splits": {"test": 0.1, "train": 0.7, "dev": 0.2}, "min_confidence": 0.75, "seed": 9}
    )
    assert list(policy.splits) == ["train", "dev", "test"]
    assert policy.min_confidence == 0.75 and policy.seed == 9
