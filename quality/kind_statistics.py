"""The quality page's section of a structured kind's (spans, boxes) intervals, HLP and error analysis by tag, in
words, read from the report's ``kind_figures`` — the same numbers the report API serves."""

from __future__ import annotations

from kinds.registry import TaskKind

#: Names of interval-carrying figures a kind does not list among its headline figures.
EXTRA_NAMES = {"token_krippendorff_alpha": "Krippendorff's α (on tokens)"}
EXTRA_READINGS = {
    "token_krippendorff_alpha": "nominal α on the tokens' labels (O for a token outside every span)",
}


class _Blank(dict):
    def __missing__(self, key):
        return "?"


def figure_reading(figure, figures: dict) -> str:
    """What a kind's figure counts; its ``empty_reading`` (why it is empty) when the figure is missing or a
    count is 0."""
    value = figures.get(figure.key)
    empty = value is None or (figure.count and value == 0)
    text = figure.empty_reading if empty and figure.empty_reading else figure.reading
    return text.format_map(_Blank(figures))


def interval_text(value, interval) -> str:
    """ "0.82 (0.79–0.85)"; the bare figure without an interval, "—" without a figure."""
    if value is None:
        return "—"
    if not interval or interval[0] is None or interval[1] is None:
        return f"{value:.2f}"
    return f"{value:.2f} ({interval[0]:.2f}–{interval[1]:.2f})"


def _share(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _judgements(row: dict | None) -> str:
    if not row:
        return "—"
    items = row.get("n_items") or 0
    judgements = row.get("n_judgements") or 0
    return f"{judgements:,} judgement{'s' if judgements != 1 else ''} on {items:,} item{'s' if items != 1 else ''}"


def _label_intervals(kind: TaskKind, per_label: dict) -> tuple[list[str], list[dict]]:
    """The per-label figures that carry an interval (column names) and one row of "v (lo–hi)" per label."""
    names = {figure.key: figure.name for figure in kind.label_figures}
    keys: list[str] = []
    for row in per_label.values():
        for key in row:
            base = key[: -len("_ci")] if key.endswith("_ci") else None
            if base and base in row and base not in keys:
                keys.append(base)
    rows = [
        {"label": label, "cells": [interval_text(row.get(key), row.get(f"{key}_ci")) for key in keys]}
        for label, row in per_label.items()
    ]
    return [names.get(key) or EXTRA_NAMES.get(key, key.replace("_", " ")) for key in keys], rows


def kind_statistics_context(
    kind: TaskKind, figures: dict, per_label: dict | None = None, newer_model: str = ""
) -> dict | None:
    """Rows of the intervals, HLP, HLP slices and error-analysis tables; None when the report has no kind HLP
    (a class project, or a structured run stored before these figures existed). ``newer_model`` names a model
    trained after the run, said in place of "no model yet"."""
    hlp = figures.get("hlp_f1")
    if not isinstance(hlp, dict):
        return None
    n_boot = figures.get("n_boot") or 0
    names = {figure.key: figure for figure in kind.report_figures}
    intervals = []
    for key, interval in figures.items():
        base = key[: -len("_ci")] if key.endswith("_ci") else None
        if base is None or base not in figures:
            continue
        figure = names.get(base)
        reading = figure_reading(figure, figures) if figure else EXTRA_READINGS.get(base, "")
        resampled = "" if figures.get(base) is None else f"; 95% interval from {n_boot} item resamples"
        intervals.append(
            {
                "key": base,
                "name": figure.name if figure else EXTRA_NAMES.get(base, base.replace("_", " ")),
                "text": interval_text(figures.get(base), interval),
                "reading": f"{reading}{resampled}".lstrip("; "),
            }
        )
    if "box_krippendorff_alpha" in figures:
        intervals.append(
            {
                "key": "box_krippendorff_alpha",
                "name": "Krippendorff's α (1 − IoU)",
                "text": interval_text(figures.get("box_krippendorff_alpha"), None),
                "reading": f"on {figures.get('box_alpha_n_units') or 0:,} matched box clusters of items with two or "
                f"more answers ({figures.get('box_alpha_n_values') or 0:,} values); a missing box is at distance 1; "
                "no interval: this α is computed once, not on the item resamples",
            }
        )
    consensus, gold = hlp.get("consensus") or {}, hlp.get("gold")
    model_f1 = hlp.get("model_f1")
    hlp_rows = [
        {
            "key": "consensus",
            "name": "HLP vs consensus (F1)",
            "text": interval_text(consensus.get("f1"), consensus.get("ci")),
            "reading": f"each answer against the other annotators' majority; {_judgements(consensus)}",
        },
        {
            "key": "gold",
            "name": "HLP vs gold (F1)",
            "text": "—" if gold is None else interval_text(gold.get("f1"), gold.get("ci")),
            "reading": "no gold item" if gold is None else f"answers on gold items; {_judgements(gold)}",
        },
        {
            "key": "model",
            "name": "Model F1",
            "text": (newer_model or hlp.get("model_note") or "no model yet")
            if model_f1 is None
            else f"{model_f1:.2f}",
            "reading": (
                f"exact-span F1 of the token model v{hlp.get('model_version')}, out of sample, against "
                f"{hlp.get('model_against') or 'consensus'}"
            )
            if model_f1 is not None
            else "",
        },
    ]
    slices = []
    for kind_name, field, title in (
        ("label", "per_label", "label"),
        ("tag", "per_tag", "tag"),
        ("version", "per_guideline_version", "guideline v"),
    ):
        gold_rows = (gold or {}).get(field) or {}
        for name, row in (consensus.get(field) or {}).items():
            other = gold_rows.get(name)
            slices.append(
                {
                    "key": f"{kind_name}:{name}",
                    "name": f"{title}{name}" if kind_name == "version" else f"{title} {name}",
                    "consensus": interval_text(row.get("f1"), row.get("ci")),
                    "gold": "—" if other is None else interval_text(other.get("f1"), other.get("ci")),
                    "n": _judgements(row),
                }
            )
    errors = [
        {
            "tag": row["tag"],
            "n_items": row.get("n_items"),
            "share_of_data": _share(row.get("share_of_data")),
            "f1": interval_text(row.get("f1"), row.get("f1_ci")),
            "hlp": interval_text(row.get("hlp"), row.get("hlp_ci")),
            "model": "—" if row.get("model_f1") is None else f"{row['model_f1']:.2f}",
            "routed": f"{_share(row.get('share_routed'))} ({row.get('n_routed') or 0:,})",
        }
        for row in figures.get("tag_error_analysis") or []
    ]
    figure_name = names.get(figures.get("tag_error_analysis_figure") or "")
    label_columns, label_rows = _label_intervals(kind, per_label or {})
    return {
        "label_columns": label_columns,
        "label_rows": label_rows,
        "intervals": intervals,
        "hlp": hlp_rows,
        "hlp_meaning": hlp.get("meaning", ""),
        "slices": slices,
        "errors": errors,
        "error_figure": figure_name.name if figure_name else "F1",
    }
