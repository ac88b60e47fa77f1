"""The manager's quality page, the "Run quality check" form, and the project-page panel."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render

from activelearning.selectors import model_version_latest
from annotation.models import Project, Role
from annotation.selectors import label_classes
from core.errors import ApplicationError
from core.pages import project_page
from kinds.registry import ReportFigure, TaskKind, kind_for
from quality import selectors, services
from quality.dashboard.figures import MIN_N_FOR_SHARE, share_text
from quality.kind_statistics import figure_reading, interval_text, kind_statistics_context
from quality.models import QualityReport
from quality.review import selectors as review_selectors
from quality.services.explain import agreement_band, fmt, pct

MAX_PAIRS_SHOWN = 20


def _with_ci(value, low, high, as_percent: bool = False, digits: int = 2) -> str:
    def show(number):
        return pct(number) if as_percent else fmt(number, digits)

    text = show(value)
    if value is not None and low is not None and high is not None:
        text += f" [{show(low)}, {show(high)}]"
    return text


def _row_ci(row: dict, key: str, as_percent: bool = False) -> str:
    interval = row.get(f"{key}_ci") or [None, None]
    return _with_ci(row.get(key), interval[0], interval[1], as_percent)


def _with_n(share, n) -> str:
    """An annotator's agreement with the judgements it counts: "100.0% · n = 2" (n unknown on older reports)."""
    return pct(share) if n is None else f"{pct(share)} · n = {n:,}"


def _others_text(a, structured: bool, kind_figures: dict) -> str:
    """An annotator's agreement with the others; for a span or box project without a kept pair, why it is
    empty (pair figures need ``cohen_min_overlap`` shared items)."""
    if structured and a.agreement_with_others is None:
        minimum = kind_figures.get("cohen_min_overlap") or 5
        return f"— (shares {minimum} items with no other annotator yet)"
    return _with_n(a.agreement_with_others, a.n_agreement_with_others)


def _items(n) -> str:
    return "" if n is None else f" · on {n:,} item{'s' if n != 1 else ''}"


def _model_vs_reference(report: QualityReport) -> list[dict]:
    """One headline row per reference, HLP beside the model on the same judgements, the model named."""
    rows = [r for r in report.accuracy_by_reference if r.get("model_accuracy") is not None]
    if not rows and report.model_accuracy is not None:
        # A report stored before the reference was recorded: say so rather than imply one.
        return [
            {
                "name": "Model accuracy",
                "key": "model",
                "text": pct(report.model_accuracy),
                "reading": "reference not recorded by this older run; run the quality check again",
            }
        ]
    return [
        {
            "name": f"HLP and model vs {r['reference']}",
            "key": f"model-{r['reference']}",
            "text": f"HLP {pct(r['hlp'])} · {r['model'] or 'model'} {pct(r['model_accuracy'])}",
            "reading": f"both on the same {r['n_judgements']:,} judgement{'s' if r['n_judgements'] != 1 else ''} on {r['n_items']:,} "
            f"item{'s' if r['n_items'] != 1 else ''} with a model prediction",
        }
        for r in rows
    ]


def _figure_text(figure: ReportFigure, value) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if figure.count else fmt(value, 3)


def _kind_headline(kind: TaskKind, figures: dict) -> list[dict]:
    """The kind's own headline rows, named for what they count."""
    return [
        {
            "name": figure.name,
            "key": figure.key,
            "text": _figure_text(figure, figures.get(figure.key)),
            "reading": figure_reading(figure, figures),
        }
        for figure in kind.report_figures
        if figure.key in figures
    ]


def _shared_agreement(report: QualityReport, unit: str | None) -> list[dict]:
    """α, κ and percent agreement, named for what they are computed on; none when the kind computes none."""
    if unit is None:
        return []
    on = "" if unit == "items" else f" (on {unit})"
    return [
        {
            "name": f"Krippendorff's α{on}",
            "key": "alpha",
            "text": _with_ci(
                report.krippendorff_alpha,
                report.krippendorff_alpha_ci_low,
                report.krippendorff_alpha_ci_high,
                digits=3,
            ),
            "reading": agreement_band(report.krippendorff_alpha),
        },
        {
            "name": f"Fleiss' κ{on}",
            "key": "fleiss",
            "text": _with_ci(
                report.fleiss_kappa, report.fleiss_kappa_ci_low, report.fleiss_kappa_ci_high, digits=3
            ),
            "reading": agreement_band(report.fleiss_kappa),
        },
        {
            "name": f"Mean pairwise Cohen's κ{on}",
            "key": "cohen",
            "text": _with_ci(
                report.mean_pairwise_cohen_kappa,
                report.mean_pairwise_cohen_kappa_ci_low,
                report.mean_pairwise_cohen_kappa_ci_high,
                digits=3,
            ),
            "reading": agreement_band(report.mean_pairwise_cohen_kappa),
        },
        {
            "name": f"Percent agreement{on}",
            "key": "percent",
            "text": _with_ci(
                report.percent_agreement,
                report.percent_agreement_ci_low,
                report.percent_agreement_ci_high,
                True,
            ),
            "reading": "pairs of annotators giving the same label"
            + ("" if unit == "items" else f" to a {unit[:-1] if unit.endswith('s') else unit}"),
        },
    ]


def _headline(report: QualityReport, kind: TaskKind) -> list[dict]:
    all_items = {r["reference"]: r.get("hlp_all_n_items") for r in report.accuracy_by_reference}
    kind_figures = report.kind_figures or {}
    # A structured kind's run leaves HLP out until it computes one: no row then, rather than "n/a" read as
    # "one annotator vs the majority of the others".
    hlp_rows = [
        {
            "name": "HLP vs consensus",
            "key": "hlp",
            "value": report.hlp,
            "text": _with_ci(report.hlp, report.hlp_ci_low, report.hlp_ci_high, True),
            "reading": "one annotator vs the majority of the others" + _items(all_items.get("consensus")),
        },
        {
            "name": "HLP vs gold",
            "key": "hlp-gold",
            "value": report.hlp_gold,
            "text": _with_ci(report.hlp_gold, report.hlp_gold_ci_low, report.hlp_gold_ci_high, True),
            "reading": "annotators on gold items" + _items(all_items.get("gold")),
        },
    ]
    return [
        *(_kind_headline(kind, kind_figures) if kind_figures else []),
        *_shared_agreement(report, kind.agreement_unit if kind_figures else "items"),
        # A structured kind's HLP (its F1 HLP, in the shared fields) is in its own HLP section, with what it counts.
        *(row for row in hlp_rows if not kind_figures),
        *_model_vs_reference(report),
    ]


def _report_context(report: QualityReport, project: Project) -> dict:
    label_values = label_classes(project=project)
    kind = kind_for(project)
    structured = bool(report.kind_figures)
    label_figures = kind.label_figures if structured else ()
    per_label = [
        {
            "label": value,
            "n_consensus": row.get("n_consensus"),
            "kind_cells": [_figure_text(figure, row.get(figure.key)) for figure in label_figures],
            "alpha": _row_ci(row, "krippendorff_alpha"),
            "kappa": _row_ci(row, "fleiss_kappa"),
            "agreement": _row_ci(row, "percent_agreement", True),
            "hlp": interval_text(row.get("hlp"), [row.get("hlp_ci_low"), row.get("hlp_ci_high")])
            if structured
            else share_text(row.get("hlp"), row.get("hlp_n_items")),
            "model": share_text(row.get("model_accuracy"), row.get("model_accuracy_n_items")),
        }
        for value, row in report.per_label.items()
    ]
    per_tag = [
        {
            "tag": tag,
            "n_items": row.get("n_items"),
            "n_scored": row.get("hlp_n_items"),
            "hlp": share_text(row.get("hlp"), row.get("hlp_n_items")),
            "model": share_text(row.get("model_accuracy"), row.get("model_accuracy_n_items")),
            "hlp_gold": share_text(row.get("hlp_gold"), row.get("hlp_gold_n_items")),
        }
        for tag, row in sorted(report.per_tag.items())
    ]
    per_version = [
        {
            "version": version,
            "n_annotations": row.get("n_annotations"),
            "alpha": fmt(row.get("krippendorff_alpha")),
            "agreement": pct(row.get("percent_agreement")),
            "hlp": share_text(row.get("hlp"), row.get("hlp_n_items")),
        }
        for version, row in sorted(report.per_guideline_version.items(), key=lambda pair: int(pair[0]))
    ]
    if len(per_version) == 1 and report.hlp is not None:
        # The only version's HLP is the headline's figure on the same judgements: shown with the headline's
        # interval, never a second one computed another way.
        n_items = report.per_guideline_version[per_version[0]["version"]].get("hlp_n_items")
        per_version[0]["hlp"] = _with_ci(report.hlp, report.hlp_ci_low, report.hlp_ci_high, True) + (
            "" if n_items is None else f" · n = {n_items:,}"
        )
    annotators = list(selectors.annotator_quality_list(report=report))
    names = {a.user_id: a.user.username for a in annotators}
    missing = {p[key] for p in report.pairwise for key in ("user_a", "user_b")} - set(names)
    if missing:
        names.update(get_user_model().objects.filter(pk__in=missing).values_list("pk", "username"))
    annotator_rows = [
        {
            "username": a.user.username,
            "n": a.n_annotations,
            "consensus": _with_n(a.agreement_with_consensus, a.n_agreement_with_consensus),
            "others": _others_text(a, structured, report.kind_figures or {}),
            "kappa": fmt(a.kappa_vs_others),
            "gold": f"{pct(a.gold_accuracy)} (n={a.n_gold})" if a.n_gold else "—",
            "score": fmt(a.quality_score),
            "lead": "—" if a.median_lead_time_s is None else f"{a.median_lead_time_s:.1f} s",
            "confusion": list(zip(label_values, a.confusion, strict=False)) if a.confusion else [],
        }
        for a in annotators
    ]
    pairs = sorted(
        (p for p in report.pairwise if p.get("kappa") is not None),
        key=lambda p: (p["kappa"], -p["n_overlap"]),
    )[:MAX_PAIRS_SHOWN]
    pair_rows = [
        {
            "a": names.get(p["user_a"], p["user_a"]),
            "b": names.get(p["user_b"], p["user_b"]),
            "n": p["n_overlap"],
            "kappa": fmt(p["kappa"]),
        }
        for p in pairs
    ]
    errors = [
        {
            "tag": row["tag"],
            "share_of_data": pct(row.get("share_of_data")),
            "share_of_errors": pct(row.get("share_of_errors")),
            "model": share_text(row.get("model_accuracy"), row.get("n_items")),
            "hlp": share_text(row.get("hlp"), row.get("n_items")),
            **(
                {"gap": fmt(row.get("gap"), 1), "gain": fmt(row.get("potential_gain"), 2)}
                if row.get("n_items", 0) >= MIN_N_FOR_SHARE
                else {"gap": "—", "gain": "—"}
            ),
        }
        for row in report.error_analysis
    ]
    newer_model = _newer_model_text(report, project) if structured else ""
    return {
        "report": report,
        "summary": f"{report.n_items:,} items · {report.n_annotations:,} annotations · {report.n_annotators:,} annotators",
        "headline": _headline(report, kind),
        "label_columns": [figure.name for figure in label_figures],
        # what the shared α/κ columns are computed on: "" as usual, "tokens", or None (left out)
        "agreement_unit": (kind.agreement_unit if structured else "items"),
        # what an annotator's "vs consensus / others / gold" measures, when not the share of equal answers
        "annotator_measure": kind.annotator_agreement if structured else "",
        "per_label": per_label,
        "per_tag": per_tag,
        "per_version": per_version,
        "annotators": annotator_rows,
        "label_values": label_values,
        "pairs": pair_rows,
        "errors": errors,
        "kind_statistics": kind_statistics_context(
            kind, report.kind_figures, report.per_label, newer_model=newer_model
        )
        if structured
        else None,
        "newer_model": newer_model,
    }


def _newer_model_text(report: QualityReport, project: Project) -> str:
    """The token model trained after this run, in words ("" when none is): the run's model figures and its
    model check predate it, so the page says it exists instead of "no model yet"."""
    version = model_version_latest(project=project)
    if version is None or version.created_at <= report.created_at:
        return ""
    f1 = (version.figures or {}).get("model_f1")
    if not f1:
        return ""
    value = f1.get("span_f1")
    figure = "n/a" if value is None or value != value else f"{value:.2f}"
    return (
        f"token model v{version.version} trained after this run (span F1 {figure} against "
        f"{f1.get('against', 'consensus')}, out of sample); run a quality check to compare"
    )


@project_page(role=Role.REVIEWER)
def quality_page(request, project, membership):
    report = selectors.quality_report_latest(project=project)
    job = selectors.quality_job_latest(project=project)
    context = {"project": project, "job": job, "running": job is not None and not job.is_terminal}
    if report is not None:
        context.update(_report_context(report, project))
        context["review_queue"] = review_selectors.review_queue_total(project=project)
    return render(request, "quality/report.html", context)


@project_page(role=Role.REVIEWER, methods=["POST"])
def quality_run_start(request, project, membership):
    try:
        job = services.quality_run_create(project=project, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Quality check started (job {job.pk}).")
    return redirect("quality-page", pid=project.pk)


def quality_panel_context(*, project: Project, user, role: str) -> dict:
    """Headline numbers for the project page: two queries."""
    report = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .only(
            "id",
            "created_at",
            "krippendorff_alpha",
            "krippendorff_alpha_ci_low",
            "krippendorff_alpha_ci_high",
            "hlp",
            "hlp_ci_low",
            "hlp_ci_high",
            "n_issues",
            "n_routed_to_review",
            "consensus_method",
            "n_items",
        )
        .first()
    )
    job = selectors.quality_job_latest(project=project)
    context: dict[str, object] = {"project": project, "report": report, "job": job}
    if report is not None:
        context["alpha"] = _with_ci(
            report.krippendorff_alpha, report.krippendorff_alpha_ci_low, report.krippendorff_alpha_ci_high
        )
        context["alpha_reading"] = agreement_band(report.krippendorff_alpha)
        measure = kind_for(project).annotator_agreement
        context["hlp"] = (
            f"{interval_text(report.hlp, [report.hlp_ci_low, report.hlp_ci_high])} ({measure} vs consensus)"
            if measure and report.hlp is not None
            else _with_ci(report.hlp, report.hlp_ci_low, report.hlp_ci_high, True)
        )
    return context
