"""The one boundary between the ORM and the quality metrics.

``project_data_load`` streams a project's live annotations and the side information of their items into numpy
arrays (a constant number of queries, whatever the project size); ``item_results_write`` stores per-item results
with bulk statements (COPY on PostgreSQL, chunked ``bulk_create`` elsewhere) and ``items_denormalise`` hands them
to the item state machine, which owns the items; ``items_votes_load`` reads items' votes for the per-item update.
No math here: that lives in ``quality.metrics``.
"""

from quality.adapters.answers import ProjectAnswers, project_answers_load
from quality.adapters.item_results import ItemResults, item_results_write, items_denormalise
from quality.adapters.item_votes import ItemVotes, item_votes_load, items_votes_load
from quality.adapters.project_data import (
    ProjectData,
    item_features_load,
    project_data_for_table,
    project_data_load,
)

__all__ = [
    "ItemResults",
    "ItemVotes",
    "ProjectAnswers",
    "ProjectData",
    "item_features_load",
    "item_results_write",
    "item_votes_load",
    "items_denormalise",
    "items_votes_load",
    "project_answers_load",
    "project_data_for_table",
    "project_data_load",
]
