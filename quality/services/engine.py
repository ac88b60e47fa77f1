"""Orchestration of the pure metrics for one quality run: arrays in (``ProjectData``), JSON-ready results out.

No database access here; ``quality.services.runs`` loads through the adapter and stores what this returns. The
kind's encoding does the kind's steps (``quality.services.kind_steps``), the model-based choices are
``quality.services.quality_model``'s, the report's tables ``quality.services.report_tables``'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from quality.adapters import ItemResults, ProjectData
from quality.metrics.consensus_votes import gold_settled_confidence
from quality.metrics.error_analysis import error_analysis
from quality.metrics.label_issues import (
    REASON_CODES,
    REASON_WEIGHTS,
    LabelIssues,
    decode_reasons,
)
from quality.metrics.table import AnnotationTable
from quality.services.kind_steps import Consensus, StructuredRun, encoding_for
from quality.services.quality_model import (
    CHECK_MODEL_BASE,
    CHECK_MODEL_QUALITY,
    QUALITY_MODEL_TEXT,
    base_model_probs,
    choose_method,
    quality_model_for,
)
from quality.services.report_tables import (
    accuracy_rows,
    annotator_rows,
    clean,
    per_label_rows,
    per_tag_rows,
    per_version_rows,
)

# Item bootstrap: full 200 resamples up to 150k annotations, then proportionally fewer (never below 30; 30 at
# 1M annotations) so a run over 1M annotations stays within a minute on two cores (the agreement bootstrap
# dominates: ~25 s for 200 resamples of 1M annotations). Intervals at that size are narrow anyway.
MAX_BOOT = 200
MIN_BOOT = 30
FULL_BOOT_UP_TO = 150_000


def bootstrap_resamples(n_annotations: int) -> int:
    return int(max(MIN_BOOT, min(MAX_BOOT, MAX_BOOT * FULL_BOOT_UP_TO // max(n_annotations, 1))))


@dataclass
class RunOutcome:
    method: str
    method_note: str
    n_boot: int
    scalars: dict
    per_label: dict
    per_tag: dict
    per_guideline_version: dict
    pairwise: list
    error_analysis: list
    consensus_params: dict
    items: ItemResults
    annotators: list[dict] = field(default_factory=list)
    #: whose probabilities the model check used: ``CHECK_MODEL_QUALITY``, ``CHECK_MODEL_BASE`` or "" (none)
    check_model: str = ""
    #: HLP and the base model's accuracy per reference, each pair on the same judgements (see ``accuracy_rows``)
    accuracy_by_reference: list[dict] = field(default_factory=list)
    #: HLP's own summary lines, from which the report's sentences quote HLP vs gold
    hlp_lines: list[str] = field(default_factory=list)
    #: the kind's sentence for a report without HLP (None: it has no such sentence)
    hlp_absent_note: str | None = None
    #: figures only the project's kind has (``QualityReport.kind_figures``), e.g. span F1
    kind_figures: dict = field(default_factory=dict)


def _mark_overrides(
    issues: LabelIssues, route: np.ndarray, consensus: Consensus
) -> tuple[LabelIssues, np.ndarray]:
    """Add ``model_overrides_annotators`` where the method's top label is not the annotators' most-voted one,
    and route those items to review: the reviewer decides between the votes and the method."""
    if consensus.overrides is None or not consensus.overrides.any():
        return issues, route
    overrides = consensus.overrides
    code = REASON_CODES.index("model_overrides_annotators")
    # Strength: how little the method believes the stored (voted) consensus; a floor keeps a confident
    # minority win visible.
    strength = np.where(overrides, np.maximum(1.0 - np.nan_to_num(consensus.confidence, nan=1.0), 0.05), 0.0)
    severity = 1.0 - (1.0 - issues.severity) * (1.0 - REASON_WEIGHTS[code] * strength)
    issues = replace(issues, reasons=issues.reasons | (overrides.astype(np.int64) << code), severity=severity)
    return issues, route | overrides


def _reason_lists(reasons: np.ndarray) -> list[list[str]]:
    """Decode the reason bitmasks once per distinct mask (a handful), not once per item."""
    masks, inverse = np.unique(reasons, return_inverse=True)
    decoded = [list(codes) for codes in decode_reasons(masks)]
    return [decoded[i] for i in inverse.ravel().tolist()]


def run_quality(
    *,
    data: ProjectData,
    requested_method: str,
    review_threshold: float,
    route_profile_flags: bool,
    n_boot: int | None = None,
    progress: Callable[[float, str], None] = lambda fraction, message: None,
) -> RunOutcome:
    """Every statistic of a quality run.

    Raises:
        ValueError: when the project has no usable annotation (nothing to measure).
    """
    table: AnnotationTable = data.table
    if table.n_annotations == 0:
        raise ValueError("The project has no labelled annotations yet; there is nothing to measure.")
    n_boot = bootstrap_resamples(table.n_annotations) if n_boot is None else n_boot
    quality_model = quality_model_for(data)
    method, note = choose_method(requested=requested_method, data=data, quality_model=quality_model)
    encoding = encoding_for(data)

    progress(0.25, "consensus")
    consensus = encoding.consensus(data, method, quality_model)

    progress(0.35, "label issues")
    check_model = CHECK_MODEL_QUALITY
    if consensus.model_probs is not None:
        probs = consensus.model_probs
    elif quality_model is not None and (consensus.label[quality_model.covered] >= 0).any():
        # The benchmarked label-issue recipe: the quality model cross-validated on this run's consensus.
        probs = quality_model.masked(quality_model.fit(consensus.label))
        note = note or f"{method.replace('_', ' ')}, as the project asks."
        note = f"{note} Label issues are checked with {QUALITY_MODEL_TEXT}."
    else:
        probs = base_model_probs(data, consensus.label)
        check_model = CHECK_MODEL_BASE if probs is not None else ""
    gold_known = (data.gold >= 0).any()
    if gold_known:
        # Settled before the flags are computed, so no reason (low confidence, an override's strength) rests on a
        # posterior the gold label has already decided.
        consensus.confidence = gold_settled_confidence(
            label=consensus.label, confidence=consensus.confidence, gold=data.gold
        )
    issues = encoding.label_issues(
        table=table,
        consensus_label=consensus.label,
        pred_probs=probs,
        consensus_confidence=consensus.confidence,
        gold_label=data.gold if gold_known else None,
        duplicate_group=data.duplicate_group if (data.duplicate_group >= 0).any() else None,
        profile_flag=data.profile_flag,
        unsure_count=data.unsure_count,
        unusable_count=data.unusable_count,
        confidence_threshold=review_threshold,
    )
    route = issues.needs_review.copy()
    if not route_profile_flags:
        profile_bit = 1 << REASON_CODES.index("profile_flag")
        route &= issues.reasons != profile_bit
    issues, route = _mark_overrides(issues, route, consensus)

    progress(0.45, "agreement")
    agreement = encoding.agreement(table, n_boot)

    progress(0.65, "human-level performance")
    hlp = encoding.hlp(data, gold_known=gold_known, n_boot=n_boot)

    progress(0.8, "annotators")
    annotators = annotator_rows(data, consensus, agreement)
    per_version = per_version_rows(data, hlp, n_boot=n_boot)
    errors: list = []
    model_accuracy = None
    if hlp is not None:
        # Model accuracy against gold counts only gold items that also have a prediction (HLP skips pred = -1);
        # when no gold item has one yet, the consensus is the reference rather than reporting nothing.
        gold_scored = hlp.gold is not None and hlp.gold.model is not None and hlp.gold.model.overall.n > 0
        reference = hlp.gold if gold_scored else hlp.consensus
        if reference.model is not None:
            model_accuracy = reference.model.overall.value
        # The error analysis (and its "most to gain" sentence) reads the judgements the per-tag table shows, HLP
        # and model against the consensus: gold items alone are a handful per tag, and a headline measured on
        # them beside a table measured on every item contradicted it.
        if data.tags and hlp.consensus.model is not None:
            errors = [asdict(row) for row in error_analysis(hlp=hlp.consensus)]

    overall = agreement.overall
    ci = overall.ci
    scalars = {
        "n_items": int(table.n_items),
        "n_annotations": int(table.n_annotations),
        "n_annotators": int(table.n_annotators),
        "krippendorff_alpha": overall.krippendorff_alpha,
        "krippendorff_alpha_ci": ci.get("krippendorff_alpha"),
        "fleiss_kappa": overall.fleiss_kappa,
        "fleiss_kappa_ci": ci.get("fleiss_kappa"),
        "mean_pairwise_cohen_kappa": overall.cohen_kappa_mean,
        "mean_pairwise_cohen_kappa_ci": ci.get("cohen_kappa_mean"),
        "weighted_pairwise_cohen_kappa": overall.cohen_kappa_weighted,
        "percent_agreement": overall.percent_agreement,
        "percent_agreement_ci": ci.get("percent_agreement"),
        "hlp": None if hlp is None else hlp.consensus.human.overall.value,
        "hlp_ci": None
        if hlp is None
        else (hlp.consensus.human.overall.ci_low, hlp.consensus.human.overall.ci_high),
        "hlp_gold": None if hlp is None or hlp.gold is None else hlp.gold.human.overall.value,
        "hlp_gold_ci": None
        if hlp is None or hlp.gold is None
        else (hlp.gold.human.overall.ci_low, hlp.gold.human.overall.ci_high),
        "model_accuracy": model_accuracy,
        "n_issues": int(issues.is_label_issue.sum()),
    }
    per_label = per_label_rows(data, agreement, hlp, consensus.label)
    pairwise = [
        {
            "user_a": int(data.user_ids[row["annotator_a"]]),
            "user_b": int(data.user_ids[row["annotator_b"]]),
            "n_overlap": row["n_overlap"],
            "observed_agreement": row["observed_agreement"],
            "kappa": row["kappa"],
        }
        for row in agreement.pairwise.as_rows()
    ]
    items = ItemResults(
        item_ids=data.item_ids,
        consensus=encoding.decode(data.label_values, consensus.label),
        confidence=consensus.confidence,
        is_tie=consensus.is_tie,
        label_quality=issues.label_quality,
        is_issue=issues.is_label_issue,
        reasons=_reason_lists(issues.reasons),
        severity=issues.severity,
        route=route,
        model_label=encoding.decode(data.label_values, issues.model_label),
        suggestion=None
        if consensus.suggestion is None
        else encoding.decode(data.label_values, consensus.suggestion),
    )
    scalars = clean(scalars)
    progress(0.9, "storing results")
    # The report's sentences (quality.services.explain) are written when the run stores: they repeat figures
    # only known then, the items the review queue took and the name of the model.
    return RunOutcome(
        method=method,
        method_note=note or f"{method.replace('_', ' ')}, as the project asks.",
        n_boot=n_boot,
        scalars=scalars,
        per_label=clean(per_label),
        per_tag=clean(per_tag_rows(data, hlp)),
        per_guideline_version=clean(per_version),
        pairwise=clean(pairwise),
        error_analysis=clean(errors),
        consensus_params=consensus.params,
        items=items,
        annotators=annotators,
        check_model=check_model if probs is not None else "",
        accuracy_by_reference=clean(accuracy_rows(hlp)),
        hlp_lines=[] if hlp is None else list(hlp.summary),
        hlp_absent_note=encoding.hlp_absent_note,
    )


def _shared_hlp(hlp: dict, scalars: dict, per_label: dict) -> None:
    """Serve the kind's F1 HLP through the shared ``hlp``/``hlp_gold`` fields and the per-label ``hlp`` the
    overview, the dashboard and the quality page's tables read: a one-class answer's F1 is its accuracy, so the
    figures mean the same as the class HLP, and one value is shown everywhere."""
    consensus, gold = hlp.get("consensus") or {}, hlp.get("gold") or {}
    for name, source in (("hlp", consensus), ("hlp_gold", gold)):
        scalars[name] = source.get("f1")
        scalars[f"{name}_ci"] = source.get("ci") if source.get("f1") is not None else None
    for label, row in per_label.items():
        slice_ = (consensus.get("per_label") or {}).get(label)
        if slice_ is not None:
            # ``hlp_ci_low``/``_high``, not ``hlp_ci``: a ``*_ci`` key is one of the kind's own interval figures.
            row["hlp"], row["hlp_n_items"] = slice_["f1"], slice_["n_items"]
            row["hlp_ci_low"], row["hlp_ci_high"] = slice_["ci"]


def run_structured_quality(
    *,
    answers,
    encoding,
    requested_method: str,
    review_threshold: float,
    route_profile_flags: bool,
    progress: Callable[[float, str], None] = lambda fraction, message: None,
) -> RunOutcome:
    """A quality run of a kind whose answers are structured (``encoding.structured``): the kind's ``run`` computes
    every figure from the stored answers (``quality.adapters.answers``), this wraps them as a run's outcome.

    Raises:
        ValueError: when the project has no answer (nothing to measure).
    """
    if answers.n_answers == 0:
        raise ValueError("The project has no labelled annotations yet; there is nothing to measure.")
    result: StructuredRun = encoding.run(
        answers=answers,
        method=requested_method,
        review_threshold=review_threshold,
        route_profile_flags=route_profile_flags,
        progress=progress,
    )
    progress(0.9, "storing results")
    hlp = result.kind_figures.get("hlp_f1")
    model = result.kind_figures.get("model_f1")
    if isinstance(hlp, dict) and model is not None:
        # A kind with a model puts its out-of-sample figures in its own; HLP is shown beside the model's F1 on the
        # kind's headline unit (exact spans), naming the model and what it was checked against.
        hlp["model_f1"] = model.get("span_f1") if isinstance(model, dict) else model
        if isinstance(model, dict):
            hlp["model_version"] = model.get("model_version")
            hlp["model_against"] = model.get("against")
        hlp["model_note"] = None
    if isinstance(hlp, dict):
        _shared_hlp(hlp, result.scalars, result.per_label)
    return RunOutcome(
        method=result.method,
        method_note=result.method_note,
        n_boot=result.n_boot,
        scalars=clean(result.scalars),
        per_label=clean(result.per_label),
        per_tag={},
        per_guideline_version={},
        pairwise=clean(result.pairwise),
        error_analysis=[],
        consensus_params=result.consensus_params,
        items=result.items,
        annotators=[clean(row) for row in result.annotators],
        hlp_absent_note=result.hlp_absent_note,
        kind_figures=clean(result.kind_figures),
    )
