"""Spans for active learning: no classes to count votes by, but a token model to train (the built-in token model,
``activelearning.tokenmodel``), fed by :mod:`kinds.spans.token_encoding`.

Light (no numpy): ``kinds.registry`` names it by path and the label hook loads it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpanTargets:
    cold_start_reason: str | None = None
    # Adaptive overlap and ActiveLab count votes for one class per item; a span answer is no such vote.
    counts_votes: bool = False
    #: dotted path of the module that turns texts and stored span answers into tokens and IO codes
    token_encoding: str = "kinds.spans.token_encoding"

    def class_code(self, value: object, index: dict[str, int]) -> int:
        return -1


SPAN_TARGETS = SpanTargets()


def targets(*, multi_label: bool) -> SpanTargets:
    return SPAN_TARGETS
