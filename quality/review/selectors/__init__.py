"""Reads for review: the queue of items needing a decision, one item with everything a reviewer needs, its
history, label examples and open guideline questions.

Every function runs a constant number of queries whatever the project size. Each sub-domain has its module;
this package exports their public names so callers import ``quality.review.selectors`` as before.
"""

from quality.review.selectors.consensus import (
    CONFIDENCE_MEANING,
    ConsensusEvidence,
    consensus_confidence_meaning,
    consensus_evidence,
)
from quality.review.selectors.counts import (
    IN_QUEUE_CHUNK,
    QUEUE_STATUS_WHY,
    review_queue_counts,
    review_queue_items,
    review_queue_status_counts,
    review_queue_total,
    review_queue_total_among,
)
from quality.review.selectors.decision_checks import (
    NOBODY_LEFT,
    NOBODY_LEFT_CODE,
    OVERRIDE_REASON,
    Refusal,
    items_needing_a_chosen_label,
    relabel_refusals,
)
from quality.review.selectors.guideline import (
    EXAMPLES_PER_LABEL,
    guideline_pair,
    guideline_versions,
    label_changes,
    label_examples_for,
    open_question_count,
    open_questions,
)
from quality.review.selectors.item import (
    NEAR_DUPLICATES_SHOWN,
    ItemReview,
    item_for_review,
    item_review,
)
from quality.review.selectors.queue import (
    EXTRA_REASONS,
    QUEUE_STATUSES,
    REASON_TEXT,
    REVIEW_REASONS,
    QueueFilters,
    item_reasons,
    project_review_reasons,
    queue_filters_clean,
    queue_neighbours,
    review_queue,
    review_queue_ids,
    review_queue_page,
    vote_summary,
)

__all__ = [
    "CONFIDENCE_MEANING",
    "ConsensusEvidence",
    "EXAMPLES_PER_LABEL",
    "EXTRA_REASONS",
    "IN_QUEUE_CHUNK",
    "ItemReview",
    "NEAR_DUPLICATES_SHOWN",
    "NOBODY_LEFT",
    "NOBODY_LEFT_CODE",
    "OVERRIDE_REASON",
    "QUEUE_STATUSES",
    "QUEUE_STATUS_WHY",
    "QueueFilters",
    "REASON_TEXT",
    "REVIEW_REASONS",
    "project_review_reasons",
    "Refusal",
    "consensus_confidence_meaning",
    "consensus_evidence",
    "guideline_pair",
    "guideline_versions",
    "item_for_review",
    "item_reasons",
    "item_review",
    "items_needing_a_chosen_label",
    "label_changes",
    "label_examples_for",
    "open_question_count",
    "open_questions",
    "queue_filters_clean",
    "queue_neighbours",
    "relabel_refusals",
    "review_queue",
    "review_queue_counts",
    "review_queue_ids",
    "review_queue_items",
    "review_queue_page",
    "review_queue_status_counts",
    "review_queue_total",
    "review_queue_total_among",
    "vote_summary",
]
