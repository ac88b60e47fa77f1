"""Annotator figures of a multi-label project (single-label ones come from ``quality.metrics.annotators``)."""

from __future__ import annotations

import numpy as np

from quality.adapters import ProjectData
from quality.metrics.agreement_report import AgreementReport
from quality.services.kind_steps import Consensus


def multi_label_annotator_stats(data: ProjectData, consensus: Consensus, agreement: AgreementReport) -> dict:
    table = data.table
    n_ann = table.n_annotators
    a = table.annotator
    k = table.n_classes
    cons_bits = (np.maximum(consensus.label, 0)[:, None] >> np.arange(k)) & 1
    has = consensus.label[table.item] >= 0
    match = (table.label == cons_bits[table.item]).mean(axis=1)
    n_has = np.bincount(a, weights=has, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(n_has > 0, np.bincount(a, weights=match * has, minlength=n_ann) / n_has, np.nan)
    # Leave-one-out, per label: the annotator's bit against the majority of the item's other annotators for that
    # label (labels where the others tie, and items nobody else labelled, are not counted).
    others = table.counts()[table.item] - table.label
    n_others = (table.annotations_per_item()[table.item] - 1)[:, None]
    decided = (n_others > 0) & (2 * others != n_others)
    agrees = (table.label.astype(bool) == (2 * others > n_others)) & decided
    n_decided = np.bincount(a, weights=decided.sum(axis=1), minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        agree_others = np.where(
            n_decided > 0, np.bincount(a, weights=agrees.sum(axis=1), minlength=n_ann) / n_decided, np.nan
        )
    gold_accuracy = np.full(n_ann, np.nan)
    n_gold = np.zeros(n_ann, dtype=np.int64)
    if data.gold_matrix is not None and (data.gold >= 0).any():
        on_gold = data.gold[table.item] >= 0
        exact = (table.label == data.gold_matrix[table.item]).all(axis=1) & on_gold
        n_gold = np.bincount(a, weights=on_gold, minlength=n_ann).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            gold_accuracy = np.where(
                n_gold > 0, np.bincount(a, weights=exact, minlength=n_ann) / n_gold, np.nan
            )
    pairs = agreement.pairwise
    defined = np.isfinite(pairs.kappa)
    sides = np.concatenate([pairs.annotator_a[defined], pairs.annotator_b[defined]])
    n_pairs = np.bincount(sides, minlength=n_ann)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(
            n_pairs > 0,
            np.bincount(sides, weights=np.tile(pairs.kappa[defined], 2), minlength=n_ann) / n_pairs,
            np.nan,
        )
    lead = np.full(n_ann, np.nan)
    order = np.argsort(a, kind="stable")
    bounds = np.searchsorted(a[order], np.arange(n_ann + 1))
    for annotator in range(n_ann):
        values = data.lead_time[order[bounds[annotator] : bounds[annotator + 1]]]
        values = values[np.isfinite(values)]
        if values.size:
            lead[annotator] = float(np.median(values))
    return {
        "n_annotations": np.bincount(a, minlength=n_ann),
        "agreement_with_consensus": agree,
        "agreement_with_others": agree_others,
        "n_agreement_with_consensus": n_has.astype(np.int64),
        "n_agreement_with_others": n_decided.astype(np.int64),
        "kappa_vs_others": kappa,
        "gold_accuracy": gold_accuracy,
        "n_gold": n_gold,
        "median_lead_time_s": lead,
        "confusion": [[] for _ in range(n_ann)],
    }
