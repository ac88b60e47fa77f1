"""The Labels panel: consensus labels, labels per annotator and the confusion between annotators."""

from __future__ import annotations

from quality.dashboard import figures
from quality.dashboard.figures import Table
from quality.dashboard.tables.source import DashboardSource


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
