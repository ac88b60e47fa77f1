"""Writes of the quality app: quality runs (job creation and work) and the per-item consensus update."""

from quality.services.items import item_consensus_update
from quality.services.runs import quality_results_store, quality_run, quality_run_create
from quality.services.snapshots import (
    dashboard_snapshots_take,
    project_dashboard_snapshot_take,
    project_status_snapshot_take,
    status_snapshots_take,
)

__all__ = [
    "dashboard_snapshots_take",
    "item_consensus_update",
    "project_dashboard_snapshot_take",
    "project_status_snapshot_take",
    "quality_results_store",
    "quality_run",
    "quality_run_create",
    "status_snapshots_take",
]
