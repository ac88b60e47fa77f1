"""Import batches and data problems: flags, the review queue and open issues, issue kinds, discards."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from annotation.models.item import ItemStatus
from kinds.registry import kind_for
from quality.dashboard import figures
from quality.dashboard.figures import Table
from quality.dashboard.tables.source import OPEN_ISSUE_STATUSES, REASON_TEXT, DashboardSource
from quality.metrics.reason_codes import (  # not label_issues: that one loads cleanlab
    REASON_CODES,
)


def table_batches(src: DashboardSource) -> Table:
    table = Table(
        "batches",
        "Import batches (newest first)",
        [
            "batch",
            "created_at",
            "source",
            "items",
            "duplicates",
            "errors",
            "flagged",
            "drift_alerts",
            "profile",
            "drift",
            "link",
        ],
    )
    for b in src.batches:
        summary = b["profile_summary"] or {}
        flagged = sum((summary.get("flags") or {}).values()) if summary else None
        drift = b["drift"] or []
        table.rows.append(
            [
                b["number"],
                timezone.localtime(b["created_at"]).strftime("%Y-%m-%d %H:%M"),
                b["source"],
                b["n_created"],
                b["n_duplicates"],
                b["n_errors"],
                flagged,
                len(drift),
                figures.profile_line(summary),
                " | ".join(str(f.get("sentence", "")) for f in drift if isinstance(f, dict)),
                src.items_url(batch=b["number"]),
            ]
        )
    return table


def table_flags(src: DashboardSource) -> Table:
    table = Table("flags", "Flagged items by flag", ["flag", "items", "link"])
    for flag, n in src.flags.items():
        table.rows.append([flag, n, src.items_url(flag=flag)])
    return table


REVIEW_QUEUE_NOW = "items in the review queue now"
OPEN_ISSUES_NOW = "open label issues now"


def table_problems(src: DashboardSource) -> Table:
    """Label-issue rows are empty (None) before the first quality run: the per-item checks that run on each
    k-th annotation flag items too, but a project-wide figure is only shown once a run has measured it."""
    table = Table("problems", "Data problems", ["problem", "items", "link"])
    near = (src.duplicates or {}).get("near") or {}
    issues = src.issues  # read also before a run: a constant query count
    if not src.has_quality_run:
        issues = {}
    table.rows += [
        ["exact duplicates", near.get("exact_duplicates"), src.items_url(flag="duplicate")],
        ["items in near-duplicate groups", near.get("items_in_groups"), src.items_url(flag="near_duplicate")],
        [
            "near duplicates with conflicting labels",
            issues.get("kind_near_duplicate_conflict"),
            src.items_url(issue_kind="near_duplicate_conflict"),
        ],
        [OPEN_ISSUES_NOW, issues.get("open"), src.items_url(has_issue="true", status=OPEN_ISSUE_STATUSES)],
        [REVIEW_QUEUE_NOW, src.review_queue, reverse("review-queue", kwargs={"pid": src.project.pk})],
        ["discarded", src.counts.get(ItemStatus.DISCARDED, 0), src.items_url(status=ItemStatus.DISCARDED)],
    ]
    return table


def table_issue_kinds(src: DashboardSource) -> Table:
    table = Table("issue_kinds", "Items by review reason", ["reason", "items", "link"])
    if not src.has_quality_run:
        return table
    # The shared reasons, then the project's kind's own (spans: missed entity…; boxes: missing box…).
    own = kind_for(src.project).reason_words
    for kind in dict.fromkeys([*REASON_CODES, *own]):
        words = REASON_TEXT.get(kind) or own.get(kind, kind)
        table.rows.append([words, src.issues.get(f"kind_{kind}") or 0, src.items_url(issue_kind=kind)])
    return table


def table_discard_reasons(src: DashboardSource) -> Table:
    table = Table("discard_reasons", "Discarded items by reason", ["reason", "items", "link"])
    for row in src.discards:
        # Every discard made through review has a reason; a blank one (imported history) can only link to all
        # discarded items.
        link = (
            src.items_url(discard_reason=row["reason"])
            if row["reason"]
            else src.items_url(status=ItemStatus.DISCARDED)
        )
        table.rows.append([row["reason"] or "(no reason)", row["n"], link])
    return table
