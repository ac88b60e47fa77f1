"""Writes of review: decisions on items, label-schema changes and label examples."""

from quality.review.services.decisions import review_bulk_decide, review_decide
from quality.review.services.labels import (
    label_add,
    label_example_add,
    label_example_remove,
    label_merge,
    label_rename,
)

__all__ = [
    "label_add",
    "label_example_add",
    "label_example_remove",
    "label_merge",
    "label_rename",
    "review_bulk_decide",
    "review_decide",
]
