"""The Active learning panel: the latest model's learning curve and the stability of its predictions."""

from __future__ import annotations

from django.utils import timezone

from quality.dashboard.figures import Table
from quality.dashboard.tables.source import DashboardSource


def table_learning_curve(src: DashboardSource) -> Table:
    table = Table("learning_curve", "Learning curve of the latest model", ["kind", "n_labels", "accuracy"])
    if src.models:
        latest = src.models[-1]
        for point in latest["learning_curve"] or []:
            table.rows.append(["measured", point.get("n"), point.get("accuracy")])
        for point in (latest["projection"] or {}).get("points", []):
            table.rows.append(["projected", point.get("n"), point.get("accuracy")])
    return table


def table_stability(src: DashboardSource) -> Table:
    table = Table(
        "stability",
        "Model versions and prediction stability",
        ["version", "created_at", "strategy", "n_train", "cv_accuracy", "changed_share", "kappa_vs_previous"],
    )
    for m in src.models:
        stability = m["stability"] or {}
        table.rows.append(
            [
                m["version"],
                timezone.localtime(m["created_at"]).strftime("%Y-%m-%d %H:%M"),
                m["strategy"],
                m["n_train"],
                m["cv_accuracy"],
                stability.get("changed_share"),
                stability.get("kappa_vs_previous"),
            ]
        )
    return table
