"""Each dashboard panel's numbers as ``Table``s, with the link behind every row.

``DashboardSource`` runs each selector at most once per request (lazily, so a CSV download of one chart only
reads what that chart needs); the ``table_*`` functions turn its results into tables with the pure helpers of
``quality.dashboard.figures``. ``TABLES`` maps the ``?csv=`` names to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from annotation.models import Project
from annotation.models.item import ItemStatus
from annotation.selectors import label_classes
from quality.dashboard import figures, selectors
from quality.dashboard.figures import DaySpan, Table
from quality.metrics.reason_codes import (  # not label_issues: that one loads cleanlab
    REASON_CODES,
    REASON_WORDS,
)
from quality.models import ReviewAction
from quality.review import selectors as review_selectors
from quality.services.runs import KEEP_ITEM_ROWS_FOR_REPORTS

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
        return selectors.report_history(project=self.project)

    @cached_property
    def report(self):
        return selectors.report_latest(project=self.project)

    @cached_property
    def annotators(self) -> list[dict]:
        return selectors.annotator_rows(project=self.project)

    @cached_property
    def models(self) -> list[dict]:
        return selectors.model_history(project=self.project)

    @cached_property
    def batches(self) -> list[dict]:
        return selectors.batches(project=self.project)

    @cached_property
    def flags(self) -> dict[str, int]:
        return figures.flag_totals(
            selectors.batch_flag_counts(project=self.project),
            selectors.unsummarised_item_flags(project=self.project),
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
        return selectors.duplicate_scan_latest(project=self.project)

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


# --- Progress -----------------------------------------------------------------------------------------------


def table_status(src: DashboardSource) -> Table:
    table = Table("status", "Items by status now", ["status", "items", "link"])
    for status in ItemStatus:
        table.rows.append([status.value, src.counts.get(status.value, 0), src.items_url(status=status.value)])
    return table


OPEN_STATUS_VALUES = [s for s in ItemStatus.values if s not in (ItemStatus.ACCEPTED, ItemStatus.DISCARDED)]
PROGRESS_SERIES = ["imported", *ItemStatus.values]


def _snapshot_per_bucket(src: DashboardSource) -> dict[date, dict[str, int]]:
    """Each bucket's counts by status: its last stored daily snapshot, and the live counts for the current one."""
    out: dict[date, tuple[date, dict[str, int]]] = {}
    for day, counts in src.snapshots.items():
        key = selectors.week_start(day) if src.bucket == "week" else day
        if key not in out or out[key][0] < day:
            out[key] = (day, counts)
    per_bucket = {key: counts for key, (_, counts) in out.items()}
    per_bucket[src.last_bucket()] = src.counts
    return per_bucket


def table_progress(src: DashboardSource) -> Table:
    """Items over time, one row per bucket: ``imported`` (cumulative, from batch dates) and the items in each
    status. Where a daily snapshot exists (``counts_from`` "snapshot"; for the current bucket "live", or "stored" on
    a large project: its dashboard snapshot's counts, minutes old) every status is its count; before the
    snapshots began (``counts_from`` "dates") only what dates tell: accepted and
    discarded as the items whose current decision, accept or discard, was taken by then; the other statuses are
    unknown (empty). ``link_<series>`` per point: the items imported, or accepted or discarded, in that bucket;
    for the other statuses, the current bucket's items in that status (past members are not recorded)."""
    decisions = src.activity["decisions"]
    derived = figures.daily_table(
        name="progress",
        title="",
        first=src.first_bucket(),
        last=src.last_bucket(),
        cumulative=True,
        step=src.step,
        series={
            "imported": src.imported,
            "accepted": _by_bucket(
                decisions, lambda r: r["is_current"] and r["action"] == ReviewAction.ACCEPT
            ),
            "discarded": _by_bucket(
                decisions, lambda r: r["is_current"] and r["action"] == ReviewAction.DISCARD
            ),
        },
    )
    table = Table(
        "progress",
        "Items by status over time (imported: cumulative)",
        ["day", *PROGRESS_SERIES, "counts_from", *(f"link_{name}" for name in PROGRESS_SERIES)],
    )
    snapshots = _snapshot_per_bucket(src)  # read also when there are no rows: a constant query count
    current = src.last_bucket()
    for day_text, imported, accepted, discarded in derived.rows:
        day = date.fromisoformat(day_text)
        span = str(src.span(day))
        if day in snapshots:
            statuses = [snapshots[day].get(status, 0) for status in ItemStatus.values]
        else:
            dated = {ItemStatus.ACCEPTED.value: accepted, ItemStatus.DISCARDED.value: discarded}
            statuses = [dated.get(status) for status in ItemStatus.values]
        links = [src.items_url(imported=span)]
        for status in ItemStatus.values:
            if status in OPEN_STATUS_VALUES:
                links.append(src.items_url(status=status) if day == current else "")
            else:
                links.append(src.items_url(status=status, decided=span))
        source = (
            "dates"
            if day not in snapshots
            else "snapshot"
            if day != current
            else "stored"
            if src.stored
            else "live"
        )
        table.rows.append([day_text, imported, *statuses, source, *links])
    return table


def table_activity(src: DashboardSource) -> Table:
    """Annotations and decisions per bucket; ``link``: the items annotated in that bucket."""
    series = {
        "annotations": _by_bucket(src.activity["annotations"]),
        "decisions": _by_bucket(src.activity["decisions"]),
    }
    table = figures.daily_table(
        name="activity",
        title=f"Annotations and review decisions per {src.bucket}",
        series=series,
        first=src.first_bucket(),
        last=src.last_bucket(),
        step=src.step,
    )
    table.columns.append("link")
    for row in table.rows:
        row.append(src.items_url(annotated=str(src.span(date.fromisoformat(row[0])))))
    return table


def table_annotators(src: DashboardSource) -> Table:
    """Annotations (every row written, now) per annotator beside the latest quality run's figures, which are
    ``GET /api/projects/{pid}/annotators/``'s: that run counted only the live annotations of items not discarded
    at the time, hence its own ``run_annotations`` column. Annotators of either source are listed."""
    table = Table(
        "annotators",
        "Annotators",
        [
            "annotator",
            "annotations",
            "recent_annotations",
            "median_lead_time_s",
            "agreement_with_consensus",
            "run_annotations",
            "quality_score",
        ],
    )
    recent_from = src.last_bucket().toordinal() - (7 if src.bucket == "day" else 28)
    totals: dict[int, list] = {}
    for row in src.activity["annotations"]:
        entry = totals.setdefault(row["annotator_id"], [row["username"], 0, 0])
        entry[1] += row["n"]
        if row["bucket"].toordinal() > recent_from:
            entry[2] += row["n"]
    stored = {row["user_id"]: row for row in src.annotators}
    for user_id, row in stored.items():
        totals.setdefault(user_id, [row["username"], 0, 0])
    for user_id, (username, n, recent) in sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[1][0])):
        quality = stored.get(user_id, {})
        table.rows.append(
            [
                username,
                n,
                recent,
                quality.get("median_lead_time_s"),
                quality.get("agreement_with_consensus"),
                quality.get("n_annotations"),
                quality.get("quality_score"),
            ]
        )
    return table


# --- Labels -------------------------------------------------------------------------------------------------


def _consensus_counts(src: DashboardSource) -> dict[str, int]:
    per_label = src.report.per_label if src.report else {}
    return {label: int((per_label.get(label) or {}).get("n_consensus") or 0) for label in src.labels}


def table_labels(src: DashboardSource) -> Table:
    table = Table("labels", "Consensus labels", ["label", "consensus_items", "share", "link"])
    counts = _consensus_counts(src) if src.report else {}
    total = sum(counts.values())
    for label in src.labels if src.report else []:
        table.rows.append(
            [label, counts[label], counts[label] / total if total else None, src.items_url(label=label)]
        )
    return table


def label_imbalance(src: DashboardSource) -> figures.Imbalance:
    return figures.imbalance(_consensus_counts(src)) if src.report else figures.imbalance({})


def _usable_confusions(src: DashboardSource) -> list[dict]:
    k = len(src.labels)
    return [
        row
        for row in src.annotators
        if row["confusion"] and len(row["confusion"]) == k and all(len(r) == k for r in row["confusion"])
    ]


def table_labels_by_annotator(src: DashboardSource) -> Table:
    table = Table(
        "labels_by_annotator",
        "Each annotator's labels (share of their labels on items with consensus)",
        ["annotator", *src.labels],
    )
    for row in _usable_confusions(src):
        table.rows.append([row["username"], *figures.shares(figures.column_sums(row["confusion"]))])
    return table


def confusion_cell_urls(src: DashboardSource, table: Table) -> list[list[str]]:
    """Per cell of ``table_confusion``: the items with that consensus (or final) label on which some annotator's
    live annotation gives the column's label. A cell counts annotations in the latest run, the list items now,
    so an item two annotators labelled alike is one row for two in the cell."""
    return [
        [src.items_url(label=consensus, annotator_label=given) for given in src.labels]
        for consensus in table.column("consensus")
    ]


def table_confusion(src: DashboardSource) -> Table:
    table = Table(
        "confusion",
        "Annotators vs consensus (rows: consensus, columns: annotator's label)",
        ["consensus", *src.labels, "link"],
    )
    rows = _usable_confusions(src)
    if rows:
        total = figures.confusion_total((row["confusion"] for row in rows), len(src.labels))
        for label, counts in zip(src.labels, total, strict=True):
            table.rows.append([label, *counts, src.items_url(label=label)])
    return table


# --- Agreement ----------------------------------------------------------------------------------------------


def table_agreement_over_time(src: DashboardSource) -> Table:
    """One row per quality run; ``link``: the items the run scored while its item rows are kept (the latest
    ``KEEP_ITEM_ROWS_FOR_REPORTS`` runs), for older runs the items annotated up to the run's day."""
    table = Table(
        "agreement_over_time",
        "Agreement per quality run",
        [
            "report",
            "created_at",
            "krippendorff_alpha",
            "alpha_ci_low",
            "alpha_ci_high",
            "fleiss_kappa",
            "kappa_ci_low",
            "kappa_ci_high",
            "mean_pairwise_cohen_kappa",
            "n_annotations",
            "link",
        ],
    )
    kept_from = len(src.reports) - KEEP_ITEM_ROWS_FOR_REPORTS
    for i, r in enumerate(src.reports):
        created = timezone.localtime(r["created_at"])
        link = (
            src.items_url(quality_run=r["id"])
            if i >= kept_from
            else src.items_url(annotated=str(DaySpan(None, created.date())))
        )
        table.rows.append(
            [
                r["id"],
                created.strftime("%Y-%m-%d %H:%M"),
                r["krippendorff_alpha"],
                r["krippendorff_alpha_ci_low"],
                r["krippendorff_alpha_ci_high"],
                r["fleiss_kappa"],
                r["fleiss_kappa_ci_low"],
                r["fleiss_kappa_ci_high"],
                r["mean_pairwise_cohen_kappa"],
                r["n_annotations"],
                link,
            ]
        )
    return table


def table_agreement_by_version(src: DashboardSource) -> Table:
    table = Table(
        "agreement_by_version",
        "Agreement per guideline version (latest run)",
        [
            "guideline_version",
            "n_annotations",
            "krippendorff_alpha",
            "alpha_ci_low",
            "alpha_ci_high",
            "fleiss_kappa",
            "kappa_ci_low",
            "kappa_ci_high",
            "percent_agreement",
            "hlp",
            "hlp_ci_low",
            "hlp_ci_high",
            "link",
        ],
    )
    per_version = src.report.per_guideline_version if src.report else {}
    for version, row in sorted(per_version.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0):
        low, high = figures.interval(row, "hlp")
        alpha_low, alpha_high = figures.interval(row, "krippendorff_alpha")
        kappa_low, kappa_high = figures.interval(row, "fleiss_kappa")
        link = src.items_url(guideline_version=version) if str(version).isdigit() else ""
        table.rows.append(
            [
                version,
                row.get("n_annotations"),
                row.get("krippendorff_alpha"),
                alpha_low,
                alpha_high,
                row.get("fleiss_kappa"),
                kappa_low,
                kappa_high,
                row.get("percent_agreement"),
                row.get("hlp"),
                low,
                high,
                link,
            ]
        )
    return table


def table_agreement_by_label(src: DashboardSource) -> Table:
    table = Table(
        "agreement_by_label",
        "Agreement per label (latest run)",
        [
            "label",
            "krippendorff_alpha",
            "alpha_ci_low",
            "alpha_ci_high",
            "fleiss_kappa",
            "kappa_ci_low",
            "kappa_ci_high",
            "link",
        ],
    )
    per_label = src.report.per_label if src.report else {}
    for label in src.labels:
        row = per_label.get(label)
        if row is None:
            continue
        a_low, a_high = figures.interval(row, "krippendorff_alpha")
        k_low, k_high = figures.interval(row, "fleiss_kappa")
        table.rows.append(
            [
                label,
                row.get("krippendorff_alpha"),
                a_low,
                a_high,
                row.get("fleiss_kappa"),
                k_low,
                k_high,
                src.items_url(label=label),
            ]
        )
    return table


def _hlp_vs_model_row(key: str, row: dict) -> list:
    n = row.get("hlp_n_items")
    low, high = figures.share_interval(row.get("hlp"), n)
    m_low, m_high = figures.share_interval(row.get("model_accuracy"), row.get("model_accuracy_n_items") or n)
    return [key, row.get("hlp"), low, high, row.get("model_accuracy"), m_low, m_high, n]


HLP_COLUMNS = ["hlp", "hlp_ci_low", "hlp_ci_high", "model_accuracy", "model_ci_low", "model_ci_high", "n"]


def table_hlp_by_label(src: DashboardSource) -> Table:
    table = Table(
        "hlp_by_label",
        "HLP vs model per label, both against the consensus (latest run)",
        ["label", *HLP_COLUMNS, "link"],
    )
    per_label = src.report.per_label if src.report else {}
    for label in src.labels:
        if label in per_label:
            table.rows.append([*_hlp_vs_model_row(label, per_label[label]), src.items_url(label=label)])
    return table


def table_hlp_by_tag(src: DashboardSource) -> Table:
    table = Table(
        "hlp_by_tag",
        "HLP vs model per tag, both against the consensus (latest run)",
        ["tag", *HLP_COLUMNS, "link"],
    )
    per_tag = src.report.per_tag if src.report else {}
    for tag in sorted(per_tag):
        table.rows.append([*_hlp_vs_model_row(tag, per_tag[tag]), src.items_url(tag=tag)])
    return table


def table_error_analysis(src: DashboardSource) -> Table:
    table = Table(
        "error_analysis",
        "Error analysis by tag, by potential gain",
        [
            "tag",
            "n_items",
            "share_of_data",
            "share_of_errors",
            "model_accuracy",
            "hlp",
            "gap_points",
            "potential_gain_points",
            "reading",
            "link",
        ],
    )
    rows = list(src.report.error_analysis) if src.report else []
    rows.sort(
        key=lambda r: (r.get("potential_gain") is None, -(r.get("potential_gain") or 0.0), str(r.get("tag")))
    )
    for r in rows:
        table.rows.append(
            [
                r.get("tag"),
                r.get("n_items"),
                r.get("share_of_data"),
                r.get("share_of_errors"),
                r.get("model_accuracy"),
                r.get("hlp"),
                r.get("gap"),
                r.get("potential_gain"),
                figures.error_reading(r),
                src.items_url(tag=r.get("tag")),
            ]
        )
    return table


# --- Active learning ----------------------------------------------------------------------------------------


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


# --- Ingress and data problems ------------------------------------------------------------------------------


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
    for kind in REASON_CODES:
        table.rows.append(
            [REASON_TEXT.get(kind, kind), src.issues.get(f"kind_{kind}") or 0, src.items_url(issue_kind=kind)]
        )
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
