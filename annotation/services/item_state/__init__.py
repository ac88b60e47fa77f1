"""The item state machine's one writer: every change other apps make to items, their votes and the label set
goes through here, as arrays or dataclasses (never another app's querysets), set-based per batch, and bumps
``Item.updated_at`` on every row it changes (a quality run's ``updated_at <= snapshot_at`` guard relies on it).

- ``consensus``: consensus set (label, confidence, suggestion, reasons, routing to review);
- ``review``: review applied (status, final label, counts, target, priority) and votes superseded;
- ``scheduling``: priority set, target set, reopen, route to review;
- ``predictions``: the base model's prediction copied onto the items, and a model's label-issue check;
- ``labels``: label add, rename and merge with the items' labels moved by the mapping.
"""

from annotation.services.item_state.consensus import ConsensusRows, item_consensus_set, items_consensus_set
from annotation.services.item_state.labels import (
    LabelsReplaced,
    clean_label_value,
    items_labels_remap,
    label_colour_set,
    label_schema_add,
    label_schema_merge,
    label_schema_rename,
    labels_retire,
)
from annotation.services.item_state.predictions import (
    ItemModelChecks,
    ItemPredictions,
    items_model_check_set,
    items_prediction_set,
)
from annotation.services.item_state.review import (
    STATUS_AFTER_REVIEW,
    ReviewApplied,
    annotations_supersede,
    items_review_applied,
)
from annotation.services.item_state.scheduling import (
    OVERLAP_STATUSES,
    item_reopen,
    items_priority_set,
    items_reopen,
    items_route_to_review,
    items_target_set_for_new,
)

__all__ = [
    "OVERLAP_STATUSES",
    "STATUS_AFTER_REVIEW",
    "ConsensusRows",
    "ItemModelChecks",
    "ItemPredictions",
    "LabelsReplaced",
    "ReviewApplied",
    "annotations_supersede",
    "clean_label_value",
    "item_consensus_set",
    "item_reopen",
    "items_consensus_set",
    "items_labels_remap",
    "items_model_check_set",
    "items_prediction_set",
    "items_priority_set",
    "items_reopen",
    "items_review_applied",
    "items_route_to_review",
    "items_target_set_for_new",
    "label_colour_set",
    "label_schema_add",
    "label_schema_merge",
    "label_schema_rename",
    "labels_retire",
]
