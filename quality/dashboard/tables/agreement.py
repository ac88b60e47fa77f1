"""The Agreement panel: agreement over time, per model version and per label."""

from __future__ import annotations

from django.utils import timezone

from quality.dashboard import figures
from quality.dashboard.figures import DaySpan, Table
from quality.dashboard.tables.source import DashboardSource
from quality.services.runs import KEEP_ITEM_ROWS_FOR_REPORTS


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
