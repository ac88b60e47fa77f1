"""Orchestration of the pure metrics for one quality run: arrays in (``ProjectData``), JSON-ready results out.

No database access here; ``quality.services.runs`` loads through the adapter and stores what this returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from kinds.registry import kind_for_task_type
from quality.adapters import ItemResults, ProjectData
from quality.metrics.agreement_report import AgreementReport, AgreementSummary
from quality.metrics.consensus_oos import cross_val_pred_probs
from quality.metrics.consensus_votes import gold_settled_confidence
from quality.metrics.error_analysis import error_analysis
from quality.metrics.hlp import Estimate, HlpReport
from quality.metrics.label_issues import (
    REASON_CODES,
    REASON_WEIGHTS,
    LabelIssues,
    decode_reasons,
)
from quality.metrics.table import AnnotationTable

# Item bootstrap: full 200 resamples up to 150k annotations, then proportionally fewer (never below 30; 30 at
# 1M annotations) so a run over 1M annotations stays within a minute on two cores (the agreement bootstrap
# dominates: ~25 s for 200 resamples of 1M annotations). Intervals at that size are narrow anyway.
MAX_BOOT = 200
MIN_BOOT = 30
FULL_BOOT_UP_TO = 150_000
# Confusion matrices larger than this many numbers are not kept for the per-item update (JSON size).
MAX_PARAMS = 1_000_000
MAX_VERSIONS = 20
# The quality model needs this many annotated items with features before it replaces the base model's
# probabilities (five folds that each see every common class).
QUALITY_MODEL_MIN_ITEMS = 30
QUALITY_MODEL_ROUNDS = 2
# Which model's probabilities the label-issue check (``model_disagrees``, ``is_label_issue``) used; the run stores
# it with the model's top label per item so every page shows that model's prediction next to the flag.
CHECK_MODEL_QUALITY = "quality"
CHECK_MODEL_BASE = "base"
QUALITY_MODEL_TEXT = (
    "a quality model (logistic regression + 10 nearest neighbours on the items' cached features, 5-fold "
    "out-of-sample on the consensus)"
)


def bootstrap_resamples(n_annotations: int) -> int:
    return int(max(MIN_BOOT, min(MAX_BOOT, MAX_BOOT * FULL_BOOT_UP_TO // max(n_annotations, 1))))


def clean(value):
    """JSON-ready copy: numpy scalars to Python, NaN/inf to None, tuples to lists, keys to strings."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


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
    #: HLP and the base model's accuracy per reference, each pair on the same judgements (see ``_accuracy_rows``)
    accuracy_by_reference: list[dict] = field(default_factory=list)
    #: HLP's own summary lines, from which the report's sentences quote HLP vs gold
    hlp_lines: list[str] = field(default_factory=list)
    #: the kind's sentence for a report without HLP (None: it has no such sentence)
    hlp_absent_note: str | None = None


@dataclass(frozen=True)
class QualityModel:
    """The model behind CROWDLAB and the label-issue check when items have cached features.

    The base model's stored probabilities come from a network trained on the consensus of an earlier run. The
    quality model is refitted inside the run, cross-validated on the current consensus, with the recipe that
    won the benchmarks (``bench/results/quality_accuracy.md``, ``bench/results/label_issues.md``):
    :func:`~quality.metrics.consensus_oos.cross_val_pred_probs`, alternated with CROWDLAB by
    :func:`~quality.metrics.consensus_iterative.iterative_crowdlab`.

    Attributes:
        covered: bool ``(n_items,)``, annotated items whose features are complete (the model's rows).
        features: float ``(covered.sum(), dim)``.
        n_classes: columns of the probabilities.
    """

    covered: np.ndarray
    features: np.ndarray
    n_classes: int
    seed: int = 0

    def fit(self, labels: np.ndarray) -> np.ndarray:
        """``(n_items, n_classes)`` probabilities, out-of-sample for every covered item with a label (``-1`` =
        none, not trained on); uniform rows for items the model does not cover."""
        out = np.full((self.covered.size, self.n_classes), 1.0 / self.n_classes)
        out[self.covered] = cross_val_pred_probs(
            features=self.features, labels=np.asarray(labels)[self.covered], n_classes=self.n_classes, seed=self.seed
        )
        return out

    def masked(self, probs: np.ndarray) -> np.ndarray:
        """``probs`` with NaN rows where the model does not cover an item (those are not model-checked)."""
        return np.where(self.covered[:, None], probs, np.nan)


def encoding_for(data: ProjectData):
    """The project's kind's encoding and metric steps (``kinds.registry``)."""
    return kind_for_task_type(data.task_type).quality_part.encoding(multi_label=data.multi_label)


def quality_model_for(data: ProjectData) -> QualityModel | None:
    """The quality model of a project whose kind takes model probabilities and whose annotated items have
    features (None otherwise, or when fewer than ``QUALITY_MODEL_MIN_ITEMS`` of them do)."""
    if encoding_for(data).model_free_reason is not None or data.features is None:
        return None
    features = np.asarray(data.features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] != data.table.n_items:
        raise ValueError(f"features must have shape ({data.table.n_items}, dim), got {features.shape}")
    covered = np.isfinite(features).all(axis=1) & (data.table.annotations_per_item() > 0)
    if covered.sum() < QUALITY_MODEL_MIN_ITEMS:
        return None
    return QualityModel(covered=covered, features=features[covered], n_classes=data.table.n_classes)


def choose_method(*, requested: str, data: ProjectData, quality_model: QualityModel | None = None) -> tuple[str, str]:
    """The consensus method to run and a note on it (empty when it is exactly what was asked for).

    CROWDLAB runs on the labelled items that have out-of-sample model probabilities (from the quality model when
    there is one, else the base model's stored ones); labelled items without them (content the model could not
    read, items labelled after the last training run) take their consensus from Dawid–Skene, so one missing
    prediction does not switch the model off for the whole project.
    """
    table = data.table
    per_item = table.annotations_per_item()
    annotated = per_item > 0
    has = data.has_probs if quality_model is None else quality_model.covered
    covered = annotated & has
    n_missing = int((annotated & ~has).sum())
    # cleanlab's multi-annotator model needs at least one item with two annotations among those it scores.
    model_free_reason = encoding_for(data).model_free_reason
    can_crowdlab = model_free_reason is None and bool((covered & (per_item >= 2)).any())
    if quality_model is not None:
        crowdlab_note = f"CROWDLAB with {QUALITY_MODEL_TEXT}, fitted on Dawid–Skene labels and refitted once" + (
            "."
            if not n_missing
            else f", on the {int(covered.sum()):,} labelled items with features; Dawid–Skene for the "
            f"{n_missing:,} labelled item{'s' if n_missing != 1 else ''} without them."
        )
    else:
        crowdlab_note = (
            "CROWDLAB, because model probabilities exist for every labelled item."
            if not n_missing
            else f"CROWDLAB on the {int(covered.sum()):,} labelled items with model probabilities; Dawid–Skene "
            f"for the {n_missing:,} labelled item{'s' if n_missing != 1 else ''} without them."
        )
    if requested == "auto":
        if can_crowdlab:
            return "crowdlab", crowdlab_note
        reason = (
            model_free_reason
            if model_free_reason is not None
            else "there are no model probabilities yet"
            if not covered.any()
            else "no item with model probabilities has two annotations yet"
        )
        return "dawid_skene", f"Dawid–Skene, because {reason}."
    if requested == "crowdlab" and not can_crowdlab:
        return "dawid_skene", "CROWDLAB was asked for but cannot run here (it needs model probabilities and two " \
            "annotations on at least one item of a single-label project); Dawid–Skene was used instead."
    if requested == "crowdlab" and n_missing:
        return "crowdlab", crowdlab_note
    if requested not in ("majority_vote", "dawid_skene", "crowdlab"):
        return "dawid_skene", f"Unknown consensus method {requested!r}; Dawid–Skene was used."
    return requested, ""


def _model_probs(data: ProjectData, label: np.ndarray) -> np.ndarray | None:
    """Model probabilities for the label-issue check, NaN rows where an item has none (that item is not
    model-checked); None when no item with a consensus has probabilities (or for multi-label projects)."""
    if encoding_for(data).model_free_reason is not None or not (data.has_probs & (label >= 0)).any():
        return None
    return np.where(data.has_probs[:, None], data.pred_probs, np.nan)


@dataclass
class Consensus:
    """A kind's consensus per item (codes of the kind's encoding, -1 = none) and per annotator."""

    label: np.ndarray
    confidence: np.ndarray
    is_tie: np.ndarray
    annotator_quality: np.ndarray
    params: dict
    #: probabilities the consensus was computed with, when they should also drive the label-issue check
    model_probs: np.ndarray | None = None
    #: the method's top class where no annotator chose it (``-1`` elsewhere); None for multi-label projects
    suggestion: np.ndarray | None = None
    #: the method's top class has fewer votes than the item's most-voted class
    overrides: np.ndarray | None = None


def _mark_overrides(issues: LabelIssues, route: np.ndarray, consensus: Consensus) -> tuple[LabelIssues, np.ndarray]:
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


def _summary_dict(summary: AgreementSummary) -> dict:
    out = {
        "percent_agreement": summary.percent_agreement,
        "fleiss_kappa": summary.fleiss_kappa,
        "krippendorff_alpha": summary.krippendorff_alpha,
        "cohen_kappa_mean": summary.cohen_kappa_mean,
        "cohen_kappa_weighted": summary.cohen_kappa_weighted,
        "n_items": summary.n_items,
    }
    for name, (low, high) in summary.ci.items():
        out[f"{name}_ci"] = [low, high]
    return out


def _estimate(estimate: Estimate | None, prefix: str = "hlp") -> dict:
    if estimate is None:
        return {}
    return {
        prefix: estimate.value,
        f"{prefix}_ci": [estimate.ci_low, estimate.ci_high],
        f"{prefix}_n": estimate.n,
        f"{prefix}_n_items": estimate.n_items,
    }


def _same_items(hlp: HlpReport, kind: str, key) -> dict:
    """The slice's model accuracy items and HLP on exactly those judgements (``hlp`` counts every judgement the
    consensus can check, predicted or not)."""
    model = getattr(hlp.consensus.model, kind)[key]
    paired = getattr(hlp.consensus.human_on_model_items, kind)[key]
    return {"model_accuracy_n_items": model.n_items, "hlp_same_items": paired.value}


def _accuracy_rows(hlp: HlpReport | None) -> list[dict]:
    """One row per reference (consensus, then gold when the project has gold) with HLP and model accuracy on
    the same judgements: the judgements the reference can check on items with a stored prediction. Without
    predictions (or with none on the reference's items) the row holds HLP on every checkable judgement and no
    model figure, and says so through ``model_accuracy`` = None."""
    if hlp is None:
        return []
    rows = []
    for result in (hlp.consensus, hlp.gold):
        if result is None:
            continue
        paired = result.model is not None and result.model.overall.n > 0
        human = result.human_on_model_items.overall if paired else result.human.overall
        row = {
            "reference": result.reference,
            "n_items": human.n_items,
            "n_judgements": human.n,
            "hlp": human.value,
            "hlp_ci": [human.ci_low, human.ci_high],
            "model_accuracy": None,
            "model_accuracy_ci": None,
            "with_predictions_only": paired,
            # HLP on every judgement the reference can check: the headline ``hlp``/``hlp_gold`` and its items.
            "hlp_all": result.human.overall.value,
            "hlp_all_n_items": result.human.overall.n_items,
        }
        if paired:
            model = result.model.overall
            row["model_accuracy"] = model.value
            row["model_accuracy_ci"] = [model.ci_low, model.ci_high]
        rows.append(row)
    return rows


def _per_label(data: ProjectData, agreement: AgreementReport, hlp: HlpReport | None, label: np.ndarray) -> dict:
    prevalence = encoding_for(data).prevalence(label, len(data.label_values))
    out = {}
    for c, value in enumerate(data.label_values):
        row = _summary_dict(agreement.per_label[c])
        row["n_consensus"] = int(prevalence[c])
        if hlp is not None:
            row.update(_estimate(hlp.consensus.human.per_label.get(c)))
            if hlp.consensus.model is not None:
                row["model_accuracy"] = hlp.consensus.model.per_label[c].value
                row.update(_same_items(hlp, "per_label", c))
            if hlp.gold is not None:
                row.update(_estimate(hlp.gold.human.per_label.get(c), "hlp_gold"))
        out[value] = row
    return out


def _per_tag(data: ProjectData, hlp: HlpReport | None) -> dict:
    out = {}
    for tag, items in data.tags.items():
        row: dict = {"n_items": int(items.size)}
        if hlp is not None:
            row.update(_estimate(hlp.consensus.human.per_tag.get(tag)))
            if hlp.consensus.model is not None:
                row["model_accuracy"] = hlp.consensus.model.per_tag[tag].value
                row.update(_same_items(hlp, "per_tag", tag))
            if hlp.gold is not None:
                row.update(_estimate(hlp.gold.human.per_tag.get(tag), "hlp_gold"))
        out[tag] = row
    return out


def _per_version(data: ProjectData, hlp: HlpReport | None, n_boot: int = 0) -> dict:
    """Agreement and HLP per guideline version, with item-bootstrap intervals (``n_boot`` resamples) so a manager
    can tell whether a revision really raised agreement."""
    table = data.table
    out = {}
    groups = list(enumerate(data.guideline_versions.tolist()))[-MAX_VERSIONS:]
    for g, version in groups:
        mask = table.group == g
        sub = table.restrict(mask)
        overall = encoding_for(data).agreement(sub, n_boot).overall
        row = {
            "n_annotations": int(mask.sum()),
            "percent_agreement": overall.percent_agreement,
            "krippendorff_alpha": overall.krippendorff_alpha,
            "fleiss_kappa": overall.fleiss_kappa,
        }
        for metric in ("krippendorff_alpha", "fleiss_kappa"):
            if metric in overall.ci:
                row[f"{metric}_ci"] = list(overall.ci[metric])
        if hlp is not None and g in hlp.consensus.human.per_group:
            # With one version its HLP is the headline HLP on the same judgements: the headline's estimate (and
            # its bootstrap interval) is used, so one figure never shows two intervals.
            single = len(hlp.consensus.human.per_group) == 1
            row.update(_estimate(hlp.consensus.human.overall if single else hlp.consensus.human.per_group[g]))
            if hlp.consensus.model is not None:
                row["model_accuracy"] = hlp.consensus.model.per_group[g].value
        out[str(version)] = row
    return out


def _annotator_rows(data: ProjectData, consensus: Consensus, agreement: AgreementReport) -> list[dict]:
    stats = encoding_for(data).annotator_stats(data, consensus, agreement)
    rows = []
    for index, user_id in enumerate(data.user_ids.tolist()):
        row = {name: values[index] for name, values in stats.items()}
        row["user_id"] = user_id
        row["quality_score"] = consensus.annotator_quality[index]
        rows.append(clean(row))
    return rows


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
        probs = _model_probs(data, consensus.label)
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
    annotators = _annotator_rows(data, consensus, agreement)
    per_version = _per_version(data, hlp, n_boot=n_boot)
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
        "hlp_ci": None if hlp is None else (hlp.consensus.human.overall.ci_low, hlp.consensus.human.overall.ci_high),
        "hlp_gold": None if hlp is None or hlp.gold is None else hlp.gold.human.overall.value,
        "hlp_gold_ci": None
        if hlp is None or hlp.gold is None
        else (hlp.gold.human.overall.ci_low, hlp.gold.human.overall.ci_high),
        "model_accuracy": model_accuracy,
        "n_issues": int(issues.is_label_issue.sum()),
    }
    per_label = _per_label(data, agreement, hlp, consensus.label)
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
        suggestion=None if consensus.suggestion is None else encoding.decode(data.label_values, consensus.suggestion),
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
        per_tag=clean(_per_tag(data, hlp)),
        per_guideline_version=clean(per_version),
        pairwise=clean(pairwise),
        error_analysis=clean(errors),
        consensus_params=consensus.params,
        items=items,
        annotators=annotators,
        check_model=check_model if probs is not None else "",
        accuracy_by_reference=clean(_accuracy_rows(hlp)),
        hlp_lines=[] if hlp is None else list(hlp.summary),
        hlp_absent_note=encoding.hlp_absent_note,
    )
