"""Each dashboard panel's numbers as ``Table``s, with the link behind every row.

``DashboardSource`` (``source``) runs each selector at most once per request; each panel's module turns its
results into tables with the pure helpers of ``quality.dashboard.figures``. ``TABLES`` maps the ``?csv=`` names
to them.
"""

from __future__ import annotations

from collections.abc import Callable

from quality.dashboard.figures import Table
from quality.dashboard.tables.accuracy import (
    table_error_analysis,
    table_hlp_by_label,
    table_hlp_by_tag,
)
from quality.dashboard.tables.agreement import (
    table_agreement_by_label,
    table_agreement_by_version,
    table_agreement_over_time,
)
from quality.dashboard.tables.ingress import (
    OPEN_ISSUES_NOW,
    table_batches,
    table_discard_reasons,
    table_flags,
    table_issue_kinds,
    table_problems,
)
from quality.dashboard.tables.labels import (
    confusion_cell_urls,
    label_imbalance,
    table_confusion,
    table_labels,
    table_labels_by_annotator,
)
from quality.dashboard.tables.learning import table_learning_curve, table_stability
from quality.dashboard.tables.progress import (
    PROGRESS_SERIES,
    table_activity,
    table_annotators,
    table_progress,
    table_status,
)
from quality.dashboard.tables.source import DashboardSource

__all__ = [
    "DashboardSource",
    "TABLES",
    "OPEN_ISSUES_NOW",
    "PROGRESS_SERIES",
    "confusion_cell_urls",
    "label_imbalance",
    "table_activity",
    "table_agreement_by_label",
    "table_agreement_by_version",
    "table_agreement_over_time",
    "table_annotators",
    "table_batches",
    "table_confusion",
    "table_discard_reasons",
    "table_error_analysis",
    "table_flags",
    "table_hlp_by_label",
    "table_hlp_by_tag",
    "table_issue_kinds",
    "table_labels",
    "table_labels_by_annotator",
    "table_learning_curve",
    "table_problems",
    "table_progress",
    "table_stability",
    "table_status",
]

TABLES: dict[str, Callable[[DashboardSource], Table]] = {
    "status": table_status,
    "progress": table_progress,
    "activity": table_activity,
    "annotators": table_annotators,
    "labels": table_labels,
    "labels_by_annotator": table_labels_by_annotator,
    "confusion": table_confusion,
    "agreement_over_time": table_agreement_over_time,
    "agreement_by_version": table_agreement_by_version,
    "agreement_by_label": table_agreement_by_label,
    "hlp_by_label": table_hlp_by_label,
    "hlp_by_tag": table_hlp_by_tag,
    "error_analysis": table_error_analysis,
    "learning_curve": table_learning_curve,
    "stability": table_stability,
    "batches": table_batches,
    "flags": table_flags,
    "problems": table_problems,
    "issue_kinds": table_issue_kinds,
    "discard_reasons": table_discard_reasons,
}
