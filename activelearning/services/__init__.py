"""Active-learning writes: feature cache, training and scoring jobs, adaptive overlap, job triggers."""

from activelearning.services.jobs import (
    TRAIN_TASK,
    item_labelled_process,
    model_train_start,
    model_train_trigger,
)
from activelearning.services.targets import item_overlap_update
from activelearning.services.training import model_train_run, strategy_check

__all__ = [
    "TRAIN_TASK",
    "item_labelled_process",
    "item_overlap_update",
    "model_train_run",
    "model_train_start",
    "model_train_trigger",
    "strategy_check",
]
