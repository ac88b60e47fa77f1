"""What an item's consensus confidence means and the evidence shown beside its consensus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from annotation.models import Item, Project
from kinds.registry import kind_for
from quality.models import (
    QualityReport,
)

CONFIDENCE_MEANING = {
    "majority_vote": "the share of the item's votes that chose the consensus (majority vote)",
    "dawid_skene": "the probability that the consensus is right under a Dawid–Skene model of each annotator's "
    "reliability, fitted by the last quality run",
    "crowdlab": "the probability that the consensus is right under a Dawid–Skene model of each annotator's "
    "reliability with the model's probabilities as the item's prior (the last quality run, CROWDLAB)",
}


def consensus_confidence_meaning(*, project: Project) -> str:
    """What ``consensus_confidence`` means for this project's items now (one query). The per-item update keeps
    the last run's method: its Dawid–Skene parameters when it stored some, else a majority vote."""
    fixed = kind_for(project).value_schema.confidence_meaning(project=project)
    if fixed is not None:
        return fixed
    report = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values("consensus_method", "consensus_params")
        .first()
    )
    if report is None or not report["consensus_params"]:
        return CONFIDENCE_MEANING["majority_vote"] + ("" if report else "; no quality run yet")
    return CONFIDENCE_MEANING[
        "crowdlab" if report["consensus_params"].get("item_prior") == "model" else "dawid_skene"
    ]


def _label_set(value: object, label_classes: Callable[[object], list]) -> list | None:
    """The classes a stored label value names, sorted; None when it is empty."""
    if value in (None, "", []):
        return None
    return sorted(label_classes(value))


@dataclass(frozen=True)
class ConsensusEvidence:
    """What the item page shows beside the consensus and the label-issue flag, from the item's own fields.

    ``gold_matches`` is None without a gold label (or without a consensus); on a gold item the stored confidence
    is settled by it (1 when equal, 0 when not). ``issue_basis`` says why ``is_label_issue`` holds:
    ``"gold_mismatch"``, ``"model"`` (the flag model's probability for the consensus, ``model_probability``, is
    below the probability of its own top label, ``flag_model_label``) or "" when the item is not a label issue.
    """

    gold_matches: bool | None
    issue_basis: str
    model_probability: float | None


def consensus_evidence(*, project: Project, item: Item) -> ConsensusEvidence:
    """The :class:`ConsensusEvidence` of ``item`` of ``project`` (no query)."""
    label_classes = kind_for(project).value_schema.label_classes
    consensus, gold = (
        _label_set(item.consensus_label, label_classes),
        _label_set(item.gold_label, label_classes),
    )
    matches = None if consensus is None or gold is None else consensus == gold
    basis = ""
    if item.is_label_issue:
        basis = "gold_mismatch" if matches is False else "model"
    return ConsensusEvidence(gold_matches=matches, issue_basis=basis, model_probability=item.label_quality)
