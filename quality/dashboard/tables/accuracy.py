"""Human-level performance against the model, per label and per tag, and the error analysis."""

from __future__ import annotations

from quality.dashboard import figures
from quality.dashboard.figures import Table
from quality.dashboard.tables.source import DashboardSource


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
