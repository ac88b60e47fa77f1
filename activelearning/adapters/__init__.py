"""The one boundary between the ORM and the active-learning arrays.

Reads stream rows in id-ordered keyset chunks and turn them into numpy arrays; this app's own rows go back in
chunked bulk statements. What the items carry (predicted label, priority, target, status) is handed as arrays to
``annotation.services.item_state``, which owns them. No math here: that lives in the pure modules.

The services call every adapter through this package (``adapters.votes_load``), so one name per adapter is what
``bench/al_scoring_job.py`` wraps to time reads and writes; the sub-modules hold them by sub-domain.
"""

from activelearning.adapters.feature_cache import (
    feature_space_current,
    feature_space_extractor,
    feature_space_store,
    features_for_items,
    features_forget,
    features_store,
    item_count,
    item_inputs,
    items_missing_features,
)
from activelearning.adapters.items import (
    items_reopen,
    items_route_to_review,
    priorities_write,
    targets_set_for_new,
)
from activelearning.adapters.pool import (
    PoolChunk,
    TrainingSet,
    held_out_chunks,
    pool_chunks,
    pool_ids,
    training_set_load,
)
from activelearning.adapters.predictions import (
    SCORE_COLUMNS,
    PredictionRows,
    predictions_write,
    previous_predictions,
    relabel_scores_write,
)
from activelearning.adapters.scan import CHUNK, OVERLAP_STATUSES, TRAINABLE_STATUSES
from activelearning.adapters.votes import Votes, item_votes, votes_load

__all__ = [
    "CHUNK",
    "OVERLAP_STATUSES",
    "SCORE_COLUMNS",
    "TRAINABLE_STATUSES",
    "PoolChunk",
    "PredictionRows",
    "TrainingSet",
    "Votes",
    "feature_space_current",
    "feature_space_extractor",
    "feature_space_store",
    "features_for_items",
    "features_forget",
    "features_store",
    "held_out_chunks",
    "item_count",
    "item_inputs",
    "item_votes",
    "items_missing_features",
    "items_reopen",
    "items_route_to_review",
    "pool_chunks",
    "pool_ids",
    "predictions_write",
    "previous_predictions",
    "priorities_write",
    "relabel_scores_write",
    "targets_set_for_new",
    "training_set_load",
    "votes_load",
]
