"""The Progress panel: items by status, over time, annotation activity and the annotators."""

from __future__ import annotations

from datetime import date

from annotation.models.item import ItemStatus
from quality.dashboard import figures, selectors
from quality.dashboard.figures import Table
from quality.dashboard.tables.source import DashboardSource, _by_bucket
from quality.models import ReviewAction


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
        statuses: list[int | None]
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
