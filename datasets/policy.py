"""The selection policy of a freeze: which items enter a dataset version and how they are split.

Business validation lives here (one place for the API, the HTML form and the management commands); it raises
``ValidationFailed`` with the offending field so every caller reports a field-level 4xx.
"""

import math
from dataclasses import asdict, dataclass, field

from core.errors import ValidationFailed
from datasets.splits import SPLIT_NAMES

DEFAULT_SPLITS = {"train": 0.8, "dev": 0.1, "test": 0.1}
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class FreezePolicy:
    """``accepted_only``: only items a reviewer accepted. Otherwise also labelled items whose consensus
    confidence is at least ``min_confidence``. Discarded items never enter; open label issues and items
    with status ``needs_review`` (no reviewer decision yet) are left out unless asked for; gold items are kept unless ``exclude_gold``."""

    min_confidence: float = 0.0
    accepted_only: bool = False
    exclude_label_issues: bool = True
    include_needs_review: bool = False
    exclude_gold: bool = False
    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _flag(params: dict, name: str, default: bool) -> bool:
    value = params.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false.", field=name)
    return value


def _ratios(raw: object) -> dict[str, float]:
    if raw is None:
        return dict(DEFAULT_SPLITS)
    if not isinstance(raw, dict) or not raw:
        raise ValidationFailed(
            'splits must be an object like {"train": 0.8, "dev": 0.1, "test": 0.1}.', field="splits"
        )
    ratios: dict[str, float] = {}
    for name, value in raw.items():
        if name not in SPLIT_NAMES:
            raise ValidationFailed(
                f"Unknown split {name!r}; the splits are {', '.join(SPLIT_NAMES)}.", field="splits"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationFailed(f"The ratio of {name!r} must be a number.", field="splits")
        if value < 0 or value > 1:
            raise ValidationFailed(
                f"The ratio of {name!r} must be between 0 and 1 (got {value}).", field="splits"
            )
        ratios[name] = float(value)
    total = sum(ratios.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValidationFailed(f"Split ratios must sum to 1 (they sum to {total:g}).", field="splits")
    return {name: ratios[name] for name in SPLIT_NAMES if name in ratios}


def policy_from_params(params: dict) -> FreezePolicy:
    """Build a policy from request/job parameters (missing keys take the defaults). Raises ValidationFailed."""
    if not isinstance(params, dict):
        raise ValidationFailed("The policy must be a JSON object.", field="non_field_errors")
    confidence = params.get("min_confidence")
    if confidence is None:
        confidence = 0.0
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
    ):
        raise ValidationFailed("min_confidence must be a number between 0 and 1.", field="min_confidence")
    if confidence < 0 or confidence > 1:
        raise ValidationFailed(
            f"min_confidence must be between 0 and 1 (got {confidence}).", field="min_confidence"
        )
    seed = params.get("seed")
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValidationFailed(f"seed must be an integer from 0 to {MAX_SEED}.", field="seed")
    return FreezePolicy(
        min_confidence=float(confidence),
        accepted_only=_flag(params, "accepted_only", False),
        exclude_label_issues=_flag(params, "exclude_label_issues", True),
        include_needs_review=_flag(params, "include_needs_review", False),
        exclude_gold=_flag(params, "exclude_gold", False),
        splits=_ratios(params.get("splits")),
        seed=seed,
    )


_POLICY_LABELS = {
    "accepted_only": "Only items a reviewer accepted",
    "min_confidence": "Minimum consensus confidence",
    "exclude_label_issues": "Leave out open label issues",
    "include_needs_review": "Include items with status needs review",
    "exclude_gold": "Leave out gold items",
    "splits": "Splits",
    "seed": "Split seed",
}


def _percent(ratio: float) -> str:
    return f"{round(ratio * 100, 1):g} %"


def _policy_value_words(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        # PostgreSQL's jsonb stores keys sorted (dev, test, train): the splits read in their own order.
        order = {name: index for index, name in enumerate(SPLIT_NAMES)}
        value = dict(sorted(value.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0])))
        return " · ".join(
            f"{name} {_percent(ratio) if isinstance(ratio, int | float) and not isinstance(ratio, bool) else ratio}"
            for name, ratio in value.items()
        )
    if value is None:
        return "—"
    return str(value)


def policy_rows(policy: dict) -> list[tuple[str, str]]:
    """A stored policy as (what, value) rows in words for a page: "train 80 % · dev 10 % · test 10 %", "yes"/"no".

    Known settings come first in the form's order; keys stored by older versions follow under their own name,
    so nothing stored is hidden.
    """
    rows = [
        (label, _policy_value_words(policy[key])) for key, label in _POLICY_LABELS.items() if key in policy
    ]
    confidence = policy.get("min_confidence")
    if isinstance(confidence, int | float) and not isinstance(confidence, bool):
        words = "none" if confidence == 0 else f"{confidence:g}"
        rows = [
            (label, words if label == _POLICY_LABELS["min_confidence"] else value) for label, value in rows
        ]
    rows += [
        (key.replace("_", " "), _policy_value_words(value))
        for key, value in policy.items()
        if key not in _POLICY_LABELS
    ]
    return rows
