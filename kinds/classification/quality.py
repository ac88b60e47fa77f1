"""Classification for the quality engine and its adapter: the canonical encoding (a class index per answer, or a
bitmask of classes and its 0/1 matrix for multi-label projects) and the kind's consensus, agreement, label-issue,
HLP and annotator steps, each delegating to ``quality.metrics``, for a run and for the per-item update.

Imported by quality tasks only (it loads the metrics stack); ``kinds.registry`` names it by path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from django.db.models.fields.json import KT

from kinds.classification.annotators import multi_label_annotator_stats
from kinds.classification.consensus import (
    multi_consensus,
    multi_item_consensus,
    single_consensus,
    single_item_consensus,
)
from quality.adapters import ItemVotes, ProjectData
from quality.metrics.agreement_report import AgreementReport, agreement_report
from quality.metrics.annotators import annotator_quality
from quality.metrics.hlp import HlpReport, human_level_performance
from quality.metrics.label_issues import LabelIssues, find_label_issues
from quality.metrics.table import AnnotationTable
from quality.services.kind_steps import Consensus, ItemConsensus
from quality.services.quality_model import QualityModel


def _bitmask(values: Iterable[str], index: dict[str, int]) -> int:
    mask = 0
    for value in values:
        position = index.get(value)
        if position is not None:
            mask |= 1 << position
    return mask


class SingleLabel:
    """One class per answer: codes are class indices, -1 for none."""

    multi_label = False
    #: why the model-based steps (quality model, CROWDLAB, model check, HLP vs model) do not run; None: they do
    model_free_reason: str | None = None
    #: the report's sentence when HLP is not computed (``quality.services.explain``); None: no sentence
    hlp_absent_note: str | None = None

    # --- encoding (read by quality.adapters) ---
    def gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        value = gold_label[0] if isinstance(gold_label, list) and len(gold_label) == 1 else gold_label
        return index.get(value, -1) if isinstance(value, str) else -1

    def annotation_rows(self, rows):
        """``(queryset, column)``: the first label as text straight from the database, no JSON decoding per row."""
        return rows.annotate(first_label=KT("labels__0")), "first_label"

    def annotation_coder(self, index: dict[str, int]) -> Callable[[object, bool], int]:
        lookup = index.get
        return lambda labels, unusable: -1 if labels is None else lookup(labels, -1)

    def normalise_probs(self, stacked: np.ndarray) -> np.ndarray:
        return stacked / stacked.sum(axis=1, keepdims=True)

    def label_matrix(self, codes: np.ndarray, k: int) -> np.ndarray:
        return codes

    def gold_matrix(self, gold: np.ndarray, k: int) -> np.ndarray | None:
        return None

    def decode(self, values: list[str], codes: np.ndarray) -> list:
        return [None if code < 0 else values[code] for code in codes.tolist()]

    def prevalence(self, codes: np.ndarray, k: int) -> np.ndarray:
        return np.bincount(codes[codes >= 0], minlength=k)

    # --- the per-item update (quality.adapters.item_votes, quality.services.items) ---
    def vote_coder(self, index: dict[str, int]) -> Callable[[list, bool], int]:
        """A stored answer (its whole list) as a code; -1: not a vote (it is left out of the item's votes)."""
        lookup = index.get
        return lambda labels, unusable: lookup(labels[0], -1) if labels else -1

    def item_gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        # The per-item update reads a gold list by its first value; ``gold_code`` (the run's loader) codes only a
        # list of one value and takes a longer one as no gold.
        value = gold_label[0] if isinstance(gold_label, list) and gold_label else gold_label
        return index.get(value, -1) if isinstance(value, str) else -1

    def item_consensus(self, votes: ItemVotes) -> ItemConsensus:
        """The consensus of one item with at least one vote."""
        return single_item_consensus(votes)

    def model_label_code(self, value: object, label_values: list[str]) -> int:
        """The code of the stored model label (``Item.flag_model_label``), -1 for none or a retired value."""
        return label_values.index(value) if isinstance(value, str) and value in label_values else -1

    # --- metrics (called by quality.services.engine) ---
    def consensus(self, data: ProjectData, method: str, quality_model: QualityModel | None) -> Consensus:
        return single_consensus(data, method, quality_model)

    def agreement(self, table: AnnotationTable, n_boot: int) -> AgreementReport:
        return agreement_report(table=table, n_boot=n_boot)

    def label_issues(self, *, table: AnnotationTable, **kwargs) -> LabelIssues:
        return find_label_issues(vote_counts=table.counts(), **kwargs)

    def hlp(self, data: ProjectData, *, gold_known: bool, n_boot: int) -> HlpReport | None:
        pred = np.where(data.has_probs, np.argmax(np.nan_to_num(data.pred_probs, nan=-1.0), axis=1), -1)
        return human_level_performance(
            table=data.table,
            gold=data.gold if gold_known else None,
            pred=pred if data.has_probs.any() else None,
            tags=data.tags or None,
            label_names=list(data.label_values),
            n_boot=n_boot,
        )

    def annotator_stats(self, data: ProjectData, consensus: Consensus, agreement: AgreementReport) -> dict:
        gold = data.gold if (data.gold >= 0).any() else None
        aq = annotator_quality(
            table=data.table,
            consensus=consensus.label,
            gold=gold,
            lead_time=data.lead_time,
            pairwise=agreement.pairwise,
        )
        return {
            "n_annotations": aq.n_annotations,
            "agreement_with_consensus": aq.consensus_agreement,
            "agreement_with_others": aq.loo_agreement,
            "n_agreement_with_consensus": aq.confusion.sum(axis=(1, 2)),
            "n_agreement_with_others": aq.n_loo,
            "kappa_vs_others": aq.mean_kappa,
            "gold_accuracy": aq.gold_accuracy,
            "n_gold": aq.n_gold,
            "median_lead_time_s": aq.median_lead_time,
            "confusion": aq.confusion,
        }


class MultiLabel(SingleLabel):
    """A set of classes per answer: codes are bitmasks (class c is bit c), the table holds their 0/1 matrix."""

    multi_label = True
    model_free_reason = "multi-label projects use a per-label model"
    hlp_absent_note = (
        "Human-level performance is reported for single-label projects; see agreement per label."
    )

    def gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        return _bitmask(gold_label if isinstance(gold_label, list) else [gold_label], index)

    def annotation_rows(self, rows):
        return rows, "labels"

    def annotation_coder(self, index: dict[str, int]) -> Callable[[object, bool], int]:
        # An empty set is a valid answer ("none of these") unless the annotator called the item unusable.
        return lambda labels, unusable: _bitmask(labels, index) if labels or not unusable else -1

    def normalise_probs(self, stacked: np.ndarray) -> np.ndarray:
        return stacked

    def label_matrix(self, codes: np.ndarray, k: int) -> np.ndarray:
        return ((codes[:, None] >> np.arange(k)) & 1).astype(np.uint8)

    def gold_matrix(self, gold: np.ndarray, k: int) -> np.ndarray | None:
        return ((np.maximum(gold, 0)[:, None] >> np.arange(k)) & 1).astype(np.uint8)

    def decode(self, values: list[str], codes: np.ndarray) -> list:
        k = len(values)
        return [
            None if code < 0 else sorted(values[c] for c in range(k) if code >> c & 1)
            for code in codes.tolist()
        ]

    def prevalence(self, codes: np.ndarray, k: int) -> np.ndarray:
        return (
            ((codes[codes >= 0, None] >> np.arange(k)) & 1).sum(axis=0) if (codes >= 0).any() else np.zeros(k)
        )

    def vote_coder(self, index: dict[str, int]) -> Callable[[list, bool], int]:
        return self.annotation_coder(index)

    def item_gold_code(self, gold_label: object, index: dict[str, int]) -> int:
        return self.gold_code(gold_label, index)

    def item_consensus(self, votes: ItemVotes) -> ItemConsensus:
        return multi_item_consensus(votes)

    def model_label_code(self, value: object, label_values: list[str]) -> int:
        # Multi-label projects have no model check (``model_free_reason``), so no stored model label to code.
        return -1

    def consensus(self, data: ProjectData, method: str, quality_model: QualityModel | None) -> Consensus:
        return multi_consensus(data, method)

    def label_issues(self, *, table: AnnotationTable, **kwargs) -> LabelIssues:
        return find_label_issues(vote_counts=None, **kwargs)

    def hlp(self, data: ProjectData, *, gold_known: bool, n_boot: int) -> HlpReport | None:
        return None

    def annotator_stats(self, data: ProjectData, consensus: Consensus, agreement: AgreementReport) -> dict:
        return multi_label_annotator_stats(data, consensus, agreement)


SINGLE_LABEL = SingleLabel()
MULTI_LABEL = MultiLabel()


def encoding(*, multi_label: bool) -> SingleLabel:
    return MULTI_LABEL if multi_label else SINGLE_LABEL
