"""What the dashboard tables read: ``DashboardSource`` runs each selector at most once per request (lazily, so a
CSV download of one chart only reads what that chart needs), plus the small helpers every panel shares."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from annotation.models import Project
from annotation.models.item import ItemStatus
from annotation.selectors import label_classes
from quality.dashboard import figures, selectors, stored_results
from quality.dashboard.figures import DaySpan
from quality.dashboard.kind_panels import KindPanel, kind_panels
from quality.metrics.reason_codes import (  # not label_issues: that one loads cleanlab
    REASON_WORDS,
)
from quality.review import selectors as review_selectors

# An issue is open until a reviewer accepts or discards the item.
OPEN_ISSUE_STATUSES = ",".join(
    s for s in ItemStatus.values if s not in (ItemStatus.ACCEPTED, ItemStatus.DISCARDED)
)
REASON_TEXT = REASON_WORDS


class DashboardSource:
    """The selectors' results for one project, each read on first use. A large project's item-wide aggregates
    come from its stored dashboard snapshot while that is recent (``stored``), else live."""

    def __init__(self, project: Project):
        self.project = project
        self.today = timezone.now().date()
        self.bucket = selectors.bucket_for(project=project, today=self.today)

    @cached_property
    def _items_base(self) -> str:
        # Reversed once: a page builds a few hundred of these links.
        return reverse("dashboard-items", kwargs={"pid": self.project.pk})

    def items_url(self, **filters) -> str:
        base = self._items_base
        query = {k: v for k, v in filters.items() if v not in (None, "")}
        return f"{base}?{urlencode(query)}" if query else base

    @cached_property
    def stored(self) -> selectors.StoredFigures | None:
        """The recent stored dashboard snapshot of a project whose latest status snapshot counts ``LARGE_COUNT``
        items or more (looked up only then, so a small project's page has no extra query); None otherwise."""
        latest = self.snapshots[max(self.snapshots)] if self.snapshots else {}
        if sum(latest.values()) < selectors.LARGE_COUNT:
            return None
        return selectors.stored_figures(project=self.project, bucket=self.bucket)

    @cached_property
    def counts(self) -> dict[str, int]:
        return self.stored.counts if self.stored else selectors.status_counts(project=self.project)

    @cached_property
    def labels(self) -> list[str]:
        return label_classes(project=self.project)

    @cached_property
    def imported(self) -> dict[date, int]:
        return selectors.items_imported_per_bucket(project=self.project, bucket=self.bucket)

    @cached_property
    def snapshots(self) -> dict[date, dict[str, int]]:
        return selectors.status_snapshots(project=self.project)

    @cached_property
    def activity(self) -> dict:
        if self.stored and self.stored.activity is not None:
            return self.stored.activity
        return selectors.activity_series(project=self.project, bucket=self.bucket)

    @cached_property
    def reports(self) -> list[dict]:
        return stored_results.report_history(project=self.project)

    @cached_property
    def report(self):
        return stored_results.report_latest(project=self.project)

    @cached_property
    def _kind_panels(self) -> tuple[list[KindPanel], datetime | None]:
        return kind_panels(self)

    @property
    def kind_panels(self) -> list[KindPanel]:
        """The project's kind's own panels (spans, boxes) in place of the class-label ones; ``[]`` for classes."""
        return self._kind_panels[0]

    @property
    def kind_panels_at(self) -> datetime | None:
        """When a large project's kind panels were computed; None: now."""
        return self._kind_panels[1]

    @cached_property
    def annotators(self) -> list[dict]:
        return stored_results.annotator_rows(project=self.project)

    @cached_property
    def models(self) -> list[dict]:
        return stored_results.model_history(project=self.project)

    @cached_property
    def batches(self) -> list[dict]:
        return stored_results.batches(project=self.project)

    @cached_property
    def flags(self) -> dict[str, int]:
        return figures.flag_totals(
            stored_results.batch_flag_counts(project=self.project),
            stored_results.unsummarised_item_flags(project=self.project),
        )

    @cached_property
    def issues(self) -> dict[str, int]:
        return self.stored.issues if self.stored else selectors.issue_counts(project=self.project)

    @cached_property
    def review_queue(self) -> int:
        """Items in the review queue: stored with the snapshot (``counts["review_queue"]``) when the page reads
        one, else live, from the selector the queue page and its API count with."""
        if self.stored and "review_queue" in self.stored.counts:
            return self.stored.counts["review_queue"]
        return review_selectors.review_queue_total(project=self.project)

    @cached_property
    def has_quality_run(self) -> bool:
        return self.report is not None

    @cached_property
    def discards(self) -> list[dict]:
        return self.stored.discards if self.stored else selectors.discard_reasons(project=self.project)

    @cached_property
    def duplicates(self) -> dict | None:
        return stored_results.duplicate_scan_latest(project=self.project)

    def first_bucket(self) -> date | None:
        days = [
            *self.imported,
            *(r["bucket"] for r in self.activity["annotations"]),
            *(r["bucket"] for r in self.activity["decisions"]),
        ]
        return min(days) if days else None

    def last_bucket(self) -> date:
        return selectors.week_start(self.today) if self.bucket == "week" else self.today

    @property
    def step(self) -> int:
        """Days between table rows."""
        return 7 if self.bucket == "week" else 1

    def span(self, bucket_start: date) -> DaySpan:
        """The days of the bucket starting on ``bucket_start``."""
        return DaySpan(bucket_start, bucket_start + timedelta(days=self.step - 1))


def _by_bucket(rows, predicate=lambda row: True) -> dict[date, int]:
    out: dict[date, int] = {}
    for row in rows:
        if predicate(row):
            out[row["bucket"]] = out.get(row["bucket"], 0) + row["n"]
    return out
