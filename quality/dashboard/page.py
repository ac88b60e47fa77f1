"""The dashboard page's context: every panel's table turned into chart geometry (``quality.dashboard.svg``)."""

from __future__ import annotations

from activelearning.charts import learning_curve_chart
from annotation.models.item import ItemStatus
from annotation.templatetags.status_words import status_words
from kinds.registry import kind_for
from quality.dashboard import svg, tables
from quality.dashboard.figures import Table
from quality.dashboard.kind_panels import KindPanel
from quality.dashboard.svg import Series


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _short_day(iso: str) -> str:
    """ "2026-11-03" → "Nov 3" for axis labels (the CSV keeps ISO dates)."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{months[int(iso[5:7]) - 1]} {int(iso[8:10])}"


def _bars(table: Table, label: str, value: str) -> dict:
    links = table.column("link") if "link" in table.columns else [""] * len(table.rows)
    return svg.bar_chart(bars=list(zip(table.column(label), table.column(value), links, strict=True)))


# What a progress point links to, per series (tables.table_progress builds the links).
PROGRESS_LINK_NOTES = {
    "imported": "the items imported then",
    ItemStatus.ACCEPTED: "the items accepted then (and still accepted)",
    ItemStatus.DISCARDED: "the items discarded then (and still discarded)",
}


def _progress_series(progress: Table) -> list[Series]:
    return [
        Series(
            name,
            progress.column(name),
            hrefs=progress.column(f"link_{name}"),
            link_note=PROGRESS_LINK_NOTES.get(name, f"the items whose status is {status_words(name)} now"),
            title=status_words(name),
        )
        for name in tables.PROGRESS_SERIES
    ]


def _status_bars(table: Table) -> dict:
    """The status chart: bars keyed by status code (links, data attributes), labelled in the pages' words."""
    chart = _bars(table, "status", "items")
    for bar in chart["bars"]:
        bar["title"] = status_words(bar["label"])
    return chart


def _progress(src: tables.DashboardSource) -> dict:
    status = tables.table_status(src)
    progress = tables.table_progress(src)
    activity = tables.table_activity(src)
    annotators = tables.table_annotators(src)
    return {
        "status": status,
        "status_chart": _status_bars(status),
        "total": src.counts.get("total", 0),
        "progress": progress,
        "progress_chart": svg.line_chart(
            x_labels=[_short_day(d) for d in progress.column("day")],
            series=_progress_series(progress),
        )
        if progress.rows
        else None,
        "snapshots_from": next(
            (
                d
                for d, f in zip(progress.column("day"), progress.column("counts_from"), strict=True)
                if f == "snapshot"
            ),
            None,
        ),
        "activity": activity,
        "activity_chart": svg.column_chart(
            columns=[
                (_short_day(d), n)
                for d, n in zip(activity.column("day"), activity.column("annotations"), strict=True)
            ],
            hrefs=activity.column("link"),
        )
        if activity.rows
        else None,
        "annotators": annotators,
        "annotator_rows": [
            {
                "name": r[0],
                "n": r[1],
                "recent": r[2],
                "lead": "—" if r[3] is None else f"{r[3]:.1f} s",
                "agreement": _pct(r[4]),
            }
            for r in annotators.rows
        ],
        "agreement_name": f"{unit} vs consensus"
        if (unit := kind_for(src.project).annotator_agreement)
        else "",
        "bucket": src.bucket,
        "series_at": src.activity["computed_at"],
    }


def _labels(src: tables.DashboardSource) -> dict:
    labels = tables.table_labels(src)
    by_annotator = tables.table_labels_by_annotator(src)
    confusion = tables.table_confusion(src)
    k = len(src.labels)
    return {
        "labels": labels,
        "labels_chart": _bars(labels, "label", "consensus_items") if labels.rows else None,
        "imbalance": tables.label_imbalance(src),
        "by_annotator": by_annotator,
        "by_annotator_chart": svg.heatmap(
            row_labels=by_annotator.column("annotator"),
            col_labels=src.labels,
            values=[[round(100 * (v or 0), 1) for v in row[1:]] for row in by_annotator.rows],
        )
        if by_annotator.rows
        else None,
        "confusion": confusion,
        "confusion_chart": svg.heatmap(
            row_labels=confusion.column("consensus"),
            col_labels=src.labels,
            values=[row[1 : 1 + k] for row in confusion.rows],
            row_hrefs=confusion.column("link"),
            cell_hrefs=tables.confusion_cell_urls(src, confusion),
        )
        if confusion.rows
        else None,
    }


def _interval_series(
    table: Table, name: str, value: str, low: str | None, high: str | None, link_note: str = ""
) -> Series:
    return Series(
        name,
        table.column(value),
        table.column(low) if low else None,
        table.column(high) if high else None,
        hrefs=table.column("link") if link_note else None,
        link_note=link_note,
    )


RUN_LINK_NOTE = (
    "the items this run scored (for runs older than the latest few, the items annotated by that day)"
)


def _measured(table: Table, *columns: str) -> bool:
    """Whether any row has any of ``columns``: a kind may store none of them (boxes have no α or κ), and a chart
    of nothing but gaps would read as "none yet"."""
    return any(v is not None for c in columns for v in table.column(c))


def _agreement(src: tables.DashboardSource) -> dict:
    over_time = tables.table_agreement_over_time(src)
    by_version = tables.table_agreement_by_version(src)
    by_label = tables.table_agreement_by_label(src)
    latest = src.reports[-1] if src.reports else None
    unit = kind_for(src.project).agreement_unit
    return {
        "latest": latest,
        "alpha": _num(latest["krippendorff_alpha"]) if latest else "—",
        "kappa": _num(latest["fleiss_kappa"]) if latest else "—",
        "has_alpha": latest is not None
        and (latest["krippendorff_alpha"], latest["fleiss_kappa"]) != (None, None),
        # what α and κ are computed on when it is not the items (spans: tokens)
        "unit_note": f"on {unit}" if unit and unit != "items" else "",
        "over_time": over_time,
        "over_time_chart": svg.line_chart(
            x_labels=[_short_day(c[:10]) for c in over_time.column("created_at")],
            y_range=(0.0, 1.0),
            series=[
                _interval_series(
                    over_time,
                    "Krippendorff's α",
                    "krippendorff_alpha",
                    "alpha_ci_low",
                    "alpha_ci_high",
                    RUN_LINK_NOTE,
                ),
                _interval_series(
                    over_time, "Fleiss' κ", "fleiss_kappa", "kappa_ci_low", "kappa_ci_high", RUN_LINK_NOTE
                ),
            ],
        )
        if _measured(over_time, "krippendorff_alpha", "fleiss_kappa")
        else None,
        "by_version": by_version,
        "by_version_chart": svg.interval_chart(
            rows=[
                (f"v{v}", link)
                for v, link in zip(
                    by_version.column("guideline_version"), by_version.column("link"), strict=True
                )
            ],
            series=[
                _interval_series(
                    by_version, "Krippendorff's α", "krippendorff_alpha", "alpha_ci_low", "alpha_ci_high"
                ),
                _interval_series(by_version, "Fleiss' κ", "fleiss_kappa", "kappa_ci_low", "kappa_ci_high"),
                _interval_series(by_version, "HLP", "hlp", "hlp_ci_low", "hlp_ci_high"),
            ],
            percent=False,
        )
        if _measured(by_version, "krippendorff_alpha", "fleiss_kappa", "hlp")
        else None,
        "by_label": by_label,
        "by_label_chart": svg.interval_chart(
            rows=list(zip(by_label.column("label"), by_label.column("link"), strict=True)),
            series=[
                _interval_series(
                    by_label, "Krippendorff's α", "krippendorff_alpha", "alpha_ci_low", "alpha_ci_high"
                ),
                _interval_series(by_label, "Fleiss' κ", "fleiss_kappa", "kappa_ci_low", "kappa_ci_high"),
            ],
            percent=False,
        )
        if _measured(by_label, "krippendorff_alpha", "fleiss_kappa")
        else None,
    }


def _hlp_chart(table: Table, key: str) -> dict | None:
    if not _measured(table, "hlp", "model_accuracy"):
        return None
    return svg.interval_chart(
        rows=list(zip(table.column(key), table.column("link"), strict=True)),
        series=[
            _interval_series(table, "HLP", "hlp", "hlp_ci_low", "hlp_ci_high"),
            _interval_series(table, "model", "model_accuracy", "model_ci_low", "model_ci_high"),
        ],
    )


def _hlp(src: tables.DashboardSource) -> dict:
    by_label = tables.table_hlp_by_label(src)
    by_tag = tables.table_hlp_by_tag(src)
    errors = tables.table_error_analysis(src)
    return {
        "by_label": by_label,
        "by_label_chart": _hlp_chart(by_label, "label"),
        "by_tag": by_tag,
        "by_tag_chart": _hlp_chart(by_tag, "tag"),
        # The model is the base model's stored predictions, named as the quality page names it.
        "model": next(
            (r["model"] for r in (src.report.accuracy_by_reference if src.report else []) if r.get("model")),
            "",
        ),
        "errors": errors,
        "error_rows": [
            {
                "tag": r[0],
                "n": r[1],
                "share": _pct(r[2]),
                "errors": _pct(r[3]),
                "model": _pct(r[4]),
                "hlp": _pct(r[5]),
                "gap": _num(r[6], 1),
                "gain": _num(r[7], 2),
                "reading": r[8],
                "href": r[9],
            }
            for r in errors.rows
        ],
    }


def _active_learning(src: tables.DashboardSource) -> dict:
    curve = tables.table_learning_curve(src)
    stability = tables.table_stability(src)
    latest = src.models[-1] if src.models else None
    measured = [{"n": r[1], "accuracy": r[2]} for r in curve.rows if r[0] == "measured"]
    projected = [{"n": r[1], "accuracy": r[2]} for r in curve.rows if r[0] == "projected"]
    return {
        "latest": latest,
        "strategy": latest["strategy"] if latest else src.project.sampling_strategy,
        "accuracy": _pct(latest["cv_accuracy"]) if latest else "—",
        "curve": curve,
        "curve_chart": learning_curve_chart(curve=measured, projection=projected) if measured else None,
        "stability": stability,
        "stability_chart": svg.line_chart(
            x_labels=[f"v{v}" for v in stability.column("version")],
            y_range=(0.0, 1.0),
            percent=True,
            series=[
                Series("predictions changed", stability.column("changed_share")),
                Series("cross-validated accuracy", stability.column("cv_accuracy")),
            ],
        )
        if stability.rows
        else None,
    }


def _ingress(src: tables.DashboardSource) -> dict:
    batches = tables.table_batches(src)
    flags = tables.table_flags(src)
    return {
        "batches": batches,
        "batch_rows": [
            {
                "number": r[0],
                "created": r[1],
                "source": r[2],
                "items": r[3],
                "duplicates": r[4],
                "errors": r[5],
                "flagged": "—" if r[6] is None else r[6],
                "profile": r[8],
                "drift": [s for s in r[9].split(" | ") if s],
                "href": r[10],
            }
            for r in batches.rows
        ],
        "drift_alerts": sum(r[7] for r in batches.rows),
        "flags": flags,
        "flags_chart": _bars(flags, "flag", "items") if flags.rows else None,
    }


# Rows of the problems table that a quality run measures (the others come from imports and item statuses).
_RUN_PROBLEMS = frozenset({"near duplicates with conflicting labels", tables.OPEN_ISSUES_NOW})


def _tile_value(src: tables.DashboardSource, name: str, value):
    if value is not None:
        return value
    return "no quality run yet" if name in _RUN_PROBLEMS and not src.has_quality_run else "—"


def _problems(src: tables.DashboardSource) -> dict:
    problems = tables.table_problems(src)
    kinds = tables.table_issue_kinds(src)
    reasons = tables.table_discard_reasons(src)
    return {
        "problems": problems,
        "tiles": [{"name": r[0], "value": _tile_value(src, r[0], r[1]), "href": r[2]} for r in problems.rows],
        "has_quality_run": src.has_quality_run,
        "scan_at": (src.duplicates or {}).get("created_at"),
        "kinds": kinds,
        "kinds_chart": _bars(kinds, "reason", "items"),
        "reasons": reasons,
        "reasons_chart": _bars(reasons, "reason", "items") if reasons.rows else None,
    }


def _kind_panel(panel: KindPanel) -> dict:
    table = panel.table
    names = table.column(table.columns[0])
    links = table.column("link") if "link" in table.columns else [""] * len(table.rows)
    return {
        "name": panel.name,
        "title": table.title,
        "note": panel.note,
        "empty": panel.empty,
        "figures": [
            {
                "column": f.column,
                "name": f.name,
                "counts": f.counts,
                "chart": svg.bar_chart(
                    bars=list(zip(names, table.column(f.column), links, strict=True)),
                    # narrower than the class charts: drawn at a phone's width, the text keeps a readable size
                    width=380,
                    label_width=140,
                    scale=1.0 if f.fraction else None,
                    digits=3 if f.fraction else None,
                )
                if table.rows
                else None,
            }
            for f in panel.figures
        ],
    }


def svg_ready(value):
    """Numbers in chart geometry as compact strings ("48", "12.5"), so the template engine does not localise
    thousands of coordinates one by one (that was a third of the page's render time)."""
    if isinstance(value, dict):
        return {k: v if k in _KEEP_NUMERIC else svg_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [svg_ready(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.1f}".rstrip("0").rstrip(".") if abs(value) < 1e9 else str(value)


# Fields a template still formats as numbers (floatformat, widthratio, display text).
_KEEP_NUMERIC = frozenset({"low", "high", "share", "value"})


def dashboard_context(src: tables.DashboardSource) -> dict:
    report = src.report
    context = {
        "project": src.project,
        "report": report,
        "review_queue": src.review_queue,
        # When set, the counts, label-issue and discard figures and the activity series are a large project's
        # stored dashboard snapshot of that time, not live.
        "stored_at": src.stored.taken_at if src.stored else None,
        "progress": _progress(src),
        "labels": _labels(src),
        "agreement": _agreement(src),
        "hlp": _hlp(src),
        "al": _active_learning(src),
        "ingress": _ingress(src),
        "problems": _problems(src),
        # a kind's own panels (spans, boxes) stand in for the class-label ones
        "kind_panels": [_kind_panel(panel) for panel in src.kind_panels],
        "kind_panels_at": src.kind_panels_at,
    }
    for section in context.values():
        if isinstance(section, dict):
            for key, value in section.items():
                if key.endswith("_chart") and value is not None:
                    section[key] = svg_ready(value)
    for panel in context["kind_panels"]:
        for figure in panel["figures"]:
            if figure["chart"] is not None:
                figure["chart"] = svg_ready(figure["chart"])
    return context
