"""Classification for active learning: a stored answer as the class index its votes are counted under and its
base model trains on. A multi-label answer is a class only when it holds exactly one; the base model trains on
single-label projects only, so multi-label ones follow the cold-start order.

Light (no Django, no numpy): ``kinds.registry`` names it by path and the training job and the label hook load it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassTargets:
    #: why the base model does not train on the project's answers; None: it trains
    cold_start_reason: str | None
    #: adaptive overlap and ActiveLab count the votes by ``class_code``
    counts_votes: bool = True

    def class_code(self, value: object, index: dict[str, int]) -> int:
        """A stored value (a string, or a one-element list) as a class index; -1 when it names no one class.

        ``index`` is ``annotation.selectors.label_schema_for(...).index``: a vote for a label merged or renamed
        away counts for the label that replaced it, as in the quality engine and the dashboard."""
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        return index.get(value, -1) if isinstance(value, str) else -1


SINGLE_LABEL = ClassTargets(cold_start_reason=None)
MULTI_LABEL = ClassTargets(
    cold_start_reason="Multi-label projects are ordered by the cold-start rule only; the base model is trained "
    "for single-label projects."
)


def targets(*, multi_label: bool) -> ClassTargets:
    return MULTI_LABEL if multi_label else SINGLE_LABEL
