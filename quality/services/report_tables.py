"""The quality report's tables from a run's metrics: per label, per tag, per guideline version, per annotator,
and accuracy per reference; JSON-ready through :func:`clean`."""

from __future__ import annotations

import math

import numpy as np

from quality.adapters import ProjectData
from quality.metrics.agreement_report import AgreementReport, AgreementSummary
from quality.metrics.hlp import Estimate, HlpReport
from quality.services.kind_steps import Consensus, encoding_for

MAX_VERSIONS = 20


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


def _summary_dict(summary: AgreementSummary) -> dict:
    out: dict[str, object] = {
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


def accuracy_rows(hlp: HlpReport | None) -> list[dict]:
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
        model = result.model if result.model is not None and result.model.overall.n > 0 else None
        paired = model is not None
        # ``human_on_model_items`` is set exactly when ``model`` is (``quality.metrics.hlp``).
        on_model_items = result.human_on_model_items if model is not None else None
        human = (on_model_items or result.human).overall
        row: dict[str, object] = {
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
        if model is not None:
            row["model_accuracy"] = model.overall.value
            row["model_accuracy_ci"] = [model.overall.ci_low, model.overall.ci_high]
        rows.append(row)
    return rows


def per_label_rows(
    data: ProjectData, agreement: AgreementReport, hlp: HlpReport | None, label: np.ndarray
) -> dict:
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


def per_tag_rows(data: ProjectData, hlp: HlpReport | None) -> dict:
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


def per_version_rows(data: ProjectData, hlp: HlpReport | None, n_boot: int = 0) -> dict:
    """Agreement and HLP per guideline version, with item-bootstrap intervals (``n_boot`` resamples) so a manager
    can tell whether a revision really raised agreement."""
    table = data.table
    out = {}
    groups = list(enumerate(data.guideline_versions.tolist()))[-MAX_VERSIONS:]
    for g, version in groups:
        # The loader always sets ``group`` (the guideline-version index of each annotation).
        assert table.group is not None
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


def annotator_rows(data: ProjectData, consensus: Consensus, agreement: AgreementReport) -> list[dict]:
    stats = encoding_for(data).annotator_stats(data, consensus, agreement)
    rows = []
    for index, user_id in enumerate(data.user_ids.tolist()):
        row = {name: values[index] for name, values in stats.items()}
        row["user_id"] = user_id
        row["quality_score"] = consensus.annotator_quality[index]
        rows.append(clean(row))
    return rows
