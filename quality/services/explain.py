"""Plain-language sentences for a quality report, from its already JSON-ready numbers."""

from __future__ import annotations

from quality.dashboard.figures import MIN_N_FOR_SHARE


def agreement_band(value: float | None) -> str:
    """Landis & Koch's bands for κ/α, the ones annotation teams usually quote."""
    if value is None:
        return "undefined (too little overlap between annotators)"
    if value < 0:
        return "worse than chance"
    if value < 0.2:
        return "slight agreement"
    if value < 0.4:
        return "fair agreement"
    if value < 0.6:
        return "moderate agreement"
    if value < 0.8:
        return "substantial agreement"
    return "almost perfect agreement"


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_ci(interval) -> str:
    if not interval or interval[0] is None or interval[1] is None:
        return ""
    return f" [{interval[0]:.2f}, {interval[1]:.2f}]"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def pct_ci(interval) -> str:
    if not interval or interval[0] is None or interval[1] is None:
        return ""
    return f" [{100 * interval[0]:.1f}%, {100 * interval[1]:.1f}%]"


def _names(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def model_sentence(row: dict) -> str:
    """One ``accuracy_by_reference`` row as a sentence: reference, model, judgements, items and HLP on them."""
    items = row["n_items"]
    return (
        f"Against the {row['reference']}, the {row.get('model') or 'model'} is right on "
        f"{pct(row['model_accuracy'])} of {row['n_judgements']:,} judgement{'s' if row['n_judgements'] != 1 else ''} on {items:,} item{'s' if items != 1 else ''}; "
        f"human-level performance on the same judgements is {pct(row['hlp'])}."
    )


def explanations_for(
    *,
    scalars: dict,
    method_note: str,
    n_boot: int,
    per_label: dict,
    per_version: dict,
    hlp_lines: list[str],
    error_rows: list[dict],
    n_route: int,
    model_checked: bool,
    hlp_absent_note: str | None = None,
    accuracy_rows: list[dict] | None = None,
    kind_figures: dict | None = None,
) -> list[str]:
    """The report's sentences. ``n_route`` is the stored "routed to review" figure and ``accuracy_rows`` the
    stored ``QualityReport.accuracy_by_reference`` (model named): the sentences repeat those figures, so they are
    written once the figures are stored rather than from the engine's raw counts. ``hlp_absent_note`` is the
    task kind's sentence for a run without HLP (``RunOutcome.hlp_absent_note``); ``kind_figures`` the kind's own
    figures, when it has any."""
    alpha = scalars.get("krippendorff_alpha")
    shared = ("krippendorff_alpha", "fleiss_kappa", "mean_pairwise_cohen_kappa", "percent_agreement")
    # A kind with its own figures that computes none of the shared ones (boxes): saying α is "undefined (too
    # little overlap)" would be false; its own sentence (``hlp_absent_note``) says what it measured.
    skip_shared = bool(kind_figures) and all(scalars.get(name) is None for name in shared)
    lines = (
        []
        if skip_shared
        else [
            f"α = {fmt(alpha)}{fmt_ci(scalars.get('krippendorff_alpha_ci'))}: {agreement_band(alpha)} "
            f"over {scalars['n_annotations']:,} annotations on {scalars['n_items']:,} items.",
            f"Fleiss' κ = {fmt(scalars.get('fleiss_kappa'))}{fmt_ci(scalars.get('fleiss_kappa_ci'))}, mean pairwise "
            f"Cohen's κ = {fmt(scalars.get('mean_pairwise_cohen_kappa'))}"
            f"{fmt_ci(scalars.get('mean_pairwise_cohen_kappa_ci'))}; annotators gave the same label on "
            f"{pct(scalars.get('percent_agreement'))} of pairs.",
        ]
    )
    if scalars.get("hlp") is not None and not kind_figures:
        rated = [
            (row["hlp"], value)
            for value, row in per_label.items()
            if row.get("hlp") is not None and row.get("hlp_n")
        ]
        rated.sort()
        weak = [value for hlp, value in rated if hlp < scalars["hlp"]][:2]
        sentence = (
            f"Human-level performance (one annotator vs the others' majority) is {pct(scalars['hlp'])}"
            f"{pct_ci(scalars.get('hlp_ci'))}"
        )
        if weak:
            sentence += (
                f"; labels {_names(weak)} pull it down."
                if len(weak) > 1
                else f"; label {weak[0]} pulls it down."
            )
        else:
            sentence += "."
        lines.append(sentence)
    elif hlp_absent_note:
        lines.append(hlp_absent_note)
    if kind_figures and scalars.get("hlp") is not None:
        # The shared hlp of a span or box run is the kind's F1 HLP (``kind_figures.hlp_f1``), named as such.
        lines.append(
            f"HLP (mean F1 of each answer against the other annotators' consensus) is {fmt(scalars['hlp'])}"
            f"{fmt_ci(scalars.get('hlp_ci'))}."
        )
    # The model's figures come from ``accuracy_rows``, which name the model; HLP's own summary does not.
    lines.extend(line for line in hlp_lines if line.startswith("HLP vs gold"))
    lowest = sorted(
        (row["krippendorff_alpha"], value)
        for value, row in per_label.items()
        if row.get("krippendorff_alpha") is not None
    )
    if lowest and len(per_label) > 2:
        value_alpha, value = lowest[0]
        lines.append(f"The least consistent label is {value} (α = {value_alpha:.2f} one-vs-rest).")
    versions = [(int(v), row) for v, row in per_version.items() if row.get("hlp") is not None]
    if len(versions) >= 2:
        (first_v, first), (last_v, last) = versions[0], versions[-1]
        direction = (
            "rose" if last["hlp"] > first["hlp"] else "fell" if last["hlp"] < first["hlp"] else "stayed"
        )
        lines.append(
            f"Agreement with the others {direction} from {pct(first['hlp'])} under guideline v{first_v} "
            f"to {pct(last['hlp'])} under v{last_v}."
        )
    # Rows are sorted by potential gain; a tag under the pages' minimum item count has no figure shown for it.
    enough = [row for row in error_rows if row.get("n_items", 0) >= MIN_N_FOR_SHARE]
    if enough and enough[0].get("potential_gain"):
        top = enough[0]
        lines.append(
            f"Most to gain: tag {top['tag']} ({top['n_items']:,} scored items, {pct(top['share_of_data'])} of the "
            f"scored data; model {pct(top['model_accuracy'])} vs humans {pct(top['hlp'])} against the consensus), "
            f"up to {top['potential_gain']:.1f} accuracy points overall."
        )
    lines.extend(model_sentence(row) for row in accuracy_rows or () if row.get("model_accuracy") is not None)
    issues = scalars.get("n_issues", 0)
    lines.append(
        f"{issues:,} items ({pct(issues / max(scalars['n_items'], 1))}) look like possible label errors; "
        f"this run marked {n_route:,} items for review (the review queue page counts those still undecided now)."
        + (
            ""
            if model_checked
            else " The model check did not run (no labelled item has model probabilities yet)."
        )
    )
    lines.append(f"Consensus: {method_note}")
    if n_boot:
        lines.append(f"Intervals are 95% item-bootstrap intervals from {n_boot} resamples.")
    return lines
