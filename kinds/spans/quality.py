"""Placeholder quality part of the spans kind, only so the per-item update runs on a span project: no answer is
a vote yet, so an item gets no consensus. The span quality engine replaces this module."""

from collections.abc import Callable

from kinds.classification.quality import SingleLabel


class SpansPending(SingleLabel):
    model_free_reason = "span projects have no model-based checks yet"

    def gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        return -1

    def annotation_coder(self, index: dict[str, int]) -> Callable[[object, bool], int]:
        return lambda labels, unusable: -1

    def vote_coder(self, index: dict[str, int]) -> Callable[[list, bool], int]:
        return lambda labels, unusable: -1

    def item_gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        return -1


SPANS_PENDING = SpansPending()


def encoding(*, multi_label: bool) -> SpansPending:
    return SPANS_PENDING
