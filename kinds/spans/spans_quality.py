"""Spans for the quality engine: a structured encoding (``structured = True``) whose ``run`` computes a whole
quality run from the stored answers (``quality.adapters.answers``): span and token agreement
(``kinds.spans.metrics``), consensus spans (``kinds.spans.consensus``), annotators' precision/recall/F1 against
the consensus and the gold spans, and label issues with reasons a reviewer reads on the item.

Imported by quality tasks only (it loads the metrics stack); the kind's ``quality`` module returns
:data:`SPANS` from ``encoding``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kinds.spans.consensus import SpanConsensus, span_consensus
from kinds.spans.metrics import (
    PairwiseSpanF1,
    SpanTable,
    TokenAgreement,
    TokenValues,
    concatenated_ranges,
    pairwise_span_f1,
    reference_scores,
    span_matches,
    span_parts,
    span_table,
    span_table_from_columns,
    token_agreement,
    token_alpha_from_sums,
    token_values,
    tokenize,
)
from kinds.spans.model_check import token_model_check
from quality.adapters import ItemResults, ProjectAnswers
from quality.adapters.answers import AnswerColumns, AnswerParts
from quality.metrics.review_routing import label_issue, routed, routing_reasons
from quality.metrics.structured_figures import Judgements, PairRatios, bootstrap_sums_ci, leave_one_out_units
from quality.services.engine import bootstrap_resamples
from quality.services.kind_steps import StructuredRun
from quality.services.structured_report import PairFigure, structured_figures, version_groups

#: Pairs of annotators sharing fewer documents are left out of the pairwise means (span F1, token Cohen's κ), as
#: the class projects' pairwise κ leaves them out.
COHEN_MIN_OVERLAP = 5

# Reason weights for an item's severity (how much each reason says the consensus may be wrong).
REASON_WEIGHTS = {
    "gold_mismatch": 1.0,
    "low_consensus_confidence": 0.7,
    "type_confusion": 0.6,
    "boundary_disagreement": 0.5,
    "missed_entity": 0.5,
    "spurious_entity": 0.4,
    "unsure_or_unusable": 0.5,
    "profile_flag": 0.4,
}


def gold_spans(
    gold: list, label_values: list[str]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Stored gold labels (a list of spans each, None without gold) as ``(doc, start, end, label)`` arrays and the
    documents that have gold. Spans with a label no longer in the project are left out."""
    index = {value: i for i, value in enumerate(label_values)}
    doc: list[int] = []
    start: list[int] = []
    end: list[int] = []
    label: list[int] = []
    has = np.zeros(len(gold), dtype=bool)
    for d, spans in enumerate(gold):
        if not isinstance(spans, list):
            continue
        has[d] = True
        for span in spans:
            code = index.get(str(span.get("label"))) if isinstance(span, dict) else None
            if code is not None:
                doc.append(d)
                start.append(int(span["start"]))
                end.append(int(span["end"]))
                label.append(code)
    arrays = tuple(np.asarray(values, dtype=np.int64) for values in (doc, start, end, label))
    return arrays, has  # type: ignore[return-value]


def _per_label(
    label_values: list[str],
    pairs: PairwiseSpanF1,
    agreement: TokenAgreement,
    table: SpanTable,
    consensus: SpanConsensus,
) -> dict:
    f1, partial = pairs.per_label_f1(), pairs.per_label_partial_f1()
    n_spans = np.bincount(table.label, minlength=table.n_labels)
    n_consensus = np.bincount(consensus.label, minlength=table.n_labels)
    return {
        value: {
            "span_f1": f1[i],
            "partial_span_f1": partial[i],
            "token_krippendorff_alpha": agreement.per_label_krippendorff_alpha[i],
            # The shared per-label columns read the token figures, so pages and sentences rank labels on them.
            "krippendorff_alpha": agreement.per_label_krippendorff_alpha[i],
            "fleiss_kappa": agreement.per_label_fleiss_kappa[i],
            "cohen_kappa": agreement.per_label_cohen_kappa[i],
            "n_spans": int(n_spans[i]),
            "n_consensus_spans": int(n_consensus[i]),
        }
        for i, value in enumerate(label_values)
    }


def _item_reasons(
    table: SpanTable,
    values: TokenValues,
    consensus: SpanConsensus,
    gold: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    has_gold: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per document, whether each reason applies (bool arrays of ``n_docs``):

    * ``boundary_disagreement``: an annotator's span overlaps a consensus span of its label with other offsets;
    * ``type_confusion``: an annotator's span overlaps a consensus span of another label and none of its own;
    * ``spurious_entity``: an annotator's span overlaps no consensus span;
    * ``missed_entity``: an annotator left every token of a consensus span "O";
    * ``gold_mismatch``: the consensus spans differ from the gold spans.
    """
    n_docs, k = table.n_docs, max(table.n_labels, 1)
    span_doc = table.doc[table.owner]
    mine = (span_doc, table.start, table.end, table.label)
    cons = consensus.spans()
    any_label = np.zeros_like(table.label)
    exact = span_matches(mine, cons, n_labels=k)
    same_label = span_matches(mine, cons, n_labels=k, partial=True)
    # Consensus spans never overlap one another, so "overlaps any consensus span" is the label-blind lookup.
    any_overlap = span_matches(
        (span_doc, table.start, table.end, any_label),
        (cons[0], cons[1], cons[2], np.zeros_like(cons[3])),
        n_labels=1,
        partial=True,
    )

    def docs_with(flag: np.ndarray) -> np.ndarray:
        return np.bincount(span_doc[flag], minlength=n_docs) > 0

    # Missed: an annotation gave no token of a consensus span of its document a label. Consensus spans cover
    # disjoint tokens, so each token belongs to at most one.
    n_cons = int(cons[0].size)
    token_cons = np.full(int(table.tokens.start.size), -1, dtype=np.int64)
    width = _width(table)
    keys = _token_keys(table, width)
    lo = np.searchsorted(keys, cons[0] * width + cons[1])
    hi = np.searchsorted(keys, cons[0] * width + cons[2])
    lengths = np.maximum(hi - lo, 0)
    token_cons[concatenated_ranges(lo, lengths)] = np.repeat(np.arange(n_cons), lengths)
    row_cons = token_cons[values.unit]
    row_annotation = np.repeat(np.arange(table.n_annotations), np.diff(values.ptr))
    labelled = (row_cons >= 0) & (values.value > 0)
    touched = np.unique(row_annotation[labelled] * max(n_cons, 1) + row_cons[labelled]) // max(n_cons, 1)
    n_cons_doc = np.bincount(cons[0], minlength=n_docs)
    touched_per_annotation = np.bincount(touched, minlength=table.n_annotations)
    missed_annotation = touched_per_annotation < n_cons_doc[table.doc]
    missed = np.bincount(table.doc[missed_annotation], minlength=n_docs) > 0

    gold_mismatch = np.zeros(n_docs, dtype=bool)
    if has_gold.any():
        n_gold = np.bincount(gold[0], minlength=n_docs)
        matched = span_matches(cons, gold, n_labels=k)
        n_matched = np.bincount(cons[0][matched], minlength=n_docs)
        gold_mismatch = has_gold & consensus.annotated & ((n_matched != n_gold) | (n_cons_doc != n_gold))
    return {
        "gold_mismatch": gold_mismatch,
        "type_confusion": docs_with(any_overlap & ~same_label),
        "boundary_disagreement": docs_with(same_label & ~exact),
        "missed_entity": missed,
        "spurious_entity": docs_with(~any_overlap),
    }


def _width(table: SpanTable) -> int:
    return int(max(table.tokens.end.max(initial=0), table.end.max(initial=0))) + 1


def _token_keys(table: SpanTable, width: int) -> np.ndarray:
    tokens = table.tokens
    return np.repeat(np.arange(tokens.n_docs), tokens.count) * width + tokens.start


class Spans:
    """The ``text_spans`` encoding: structured answers, computed by :meth:`run`."""

    structured = True
    multi_label = False
    model_free_reason: str | None = "span projects have no built-in span model yet"
    hlp_absent_note: str | None = None
    #: the quality job reads the stored answers straight into columns (``quality.adapters.answers``); character
    #: offsets fit 32 bits, an item's text being far below 2 GB
    answer_parts = AnswerParts(rows=span_parts, n_numbers=2, typecode="i")

    def run(
        self,
        *,
        answers: ProjectAnswers,
        method: str,
        review_threshold: float,
        route_profile_flags: bool,
        progress: Callable[[float, str], None] = lambda fraction, message: None,
    ) -> StructuredRun:
        label_values = list(answers.label_values)
        chosen = "majority_vote" if method == "majority_vote" else "dawid_skene"
        note = (
            "majority vote on the tokens, as the project asks."
            if chosen == "majority_vote"
            else "Dawid–Skene on the tokens (each annotator's confusion between labels and O), decoded to spans."
        )
        n_annotators = int(answers.user_ids.size)
        progress(0.25, "tokens")
        if isinstance(answers.answer_value, AnswerColumns):
            table = span_table_from_columns(
                texts=answers.item_text,
                answer_item=answers.answer_item,
                answer_user=answers.answer_user,
                columns=answers.answer_value,
                n_labels=len(label_values),
                n_annotators=n_annotators,
                tokens=tokenize(answers.item_text),
            )
        else:
            table = span_table(
                texts=answers.item_text,
                annotations=zip(
                    answers.answer_item.tolist(),
                    answers.answer_user.tolist(),
                    answers.answer_value,
                    strict=True,
                ),
                label_values=label_values,
                n_annotators=n_annotators,
                tokens=tokenize(answers.item_text),
            )
        values = token_values(table)
        progress(0.35, "consensus")
        consensus = span_consensus(table, method=chosen, values=values)
        progress(0.5, "agreement")
        agreement = token_agreement(table, values, min_overlap=COHEN_MIN_OVERLAP)
        pairs = pairwise_span_f1(table, min_overlap=COHEN_MIN_OVERLAP)
        progress(0.65, "annotators")
        gold, has_gold = gold_spans(answers.gold, label_values)
        vs_consensus = reference_scores(table, reference=consensus.spans(), has_reference=consensus.annotated)
        vs_gold = reference_scores(table, reference=gold, has_reference=has_gold)
        n_answers = np.bincount(table.annotator, minlength=n_annotators)
        lead = answers.median_lead_time_s()
        # vs others: the mean of the annotator's exact-span F1s with each partner of a kept pair (the pairs the
        # report's mean pairwise span F1 averages).
        pair_f1 = pairs.f1()
        kept = pairs.kept & np.isfinite(pair_f1)
        sides = np.r_[pairs.annotator_a[kept], pairs.annotator_b[kept]]
        n_others = np.bincount(sides, minlength=n_annotators)
        sum_others = np.bincount(sides, weights=np.r_[pair_f1[kept], pair_f1[kept]], minlength=n_annotators)
        annotators = []
        precision, recall, f1 = vs_consensus.precision(), vs_consensus.recall(), vs_consensus.f1()
        gold_p, gold_r, gold_f1 = vs_gold.precision(), vs_gold.recall(), vs_gold.f1()
        for a, user_id in enumerate(answers.user_ids.tolist()):
            annotators.append(
                {
                    "user_id": user_id,
                    "n_annotations": int(n_answers[a]),
                    "agreement_with_consensus": f1[a],
                    "agreement_with_others": sum_others[a] / n_others[a] if n_others[a] else None,
                    "n_agreement_with_consensus": int(vs_consensus.n_docs[a]),
                    "n_agreement_with_others": int(n_others[a]),
                    "kappa_vs_others": None,
                    "gold_accuracy": gold_f1[a] if vs_gold.n_docs[a] else None,
                    "n_gold": int(vs_gold.n_docs[a]),
                    "quality_score": consensus.annotator_quality[a],
                    "median_lead_time_s": lead[a] if np.isfinite(lead[a]) else None,
                    "confusion": [],
                    "kind_figures": {
                        "span_precision": precision[a],
                        "span_recall": recall[a],
                        "span_f1": f1[a],
                        "gold_span_precision": gold_p[a] if vs_gold.n_docs[a] else None,
                        "gold_span_recall": gold_r[a] if vs_gold.n_docs[a] else None,
                        "gold_span_f1": gold_f1[a] if vs_gold.n_docs[a] else None,
                        "n_gold_items": int(vs_gold.n_docs[a]),
                    },
                }
            )
        progress(0.8, "label issues")
        items = self._items(
            answers, table, values, consensus, gold, has_gold, review_threshold, route_profile_flags
        )
        items, model_figures = token_model_check(items=items, project_id=answers.project_id)
        n_issues = int(items.is_issue.sum())
        n_boot = bootstrap_resamples(answers.n_answers)
        per_label = _per_label(label_values, pairs, agreement, table, consensus)
        alpha_ci = _alpha_intervals(agreement, table.n_labels, n_boot)
        for c, value in enumerate(label_values):
            per_label[value]["token_krippendorff_alpha_ci"] = alpha_ci[1 + c]
        progress(0.85, "intervals and human-level performance")
        group, versions = version_groups(answers.answer_version, answers.n_answers)
        kind_statistics = structured_figures(
            pair_figures=[
                PairFigure("mean_pairwise_span_f1", "span_f1", _pair_ratios(table, pairs, partial=False)),
                PairFigure(
                    "mean_pairwise_partial_span_f1",
                    "partial_span_f1",
                    _pair_ratios(table, pairs, partial=True),
                ),
            ],
            headline=PairFigure(
                "mean_pairwise_span_f1", "span_f1", _pair_ratios(table, pairs, partial=False)
            ),
            consensus=_loo_judgements(table, group),
            gold=_gold_judgements(table, gold, has_gold, group),
            versions=versions,
            tags=answers.item_tags,
            route=items.route,
            label_values=label_values,
            per_label=per_label,
            n_boot=n_boot,
        )
        scalars = {
            "n_items": int(answers.item_ids.size),
            "n_annotations": answers.n_answers,
            "n_annotators": n_annotators,
            "krippendorff_alpha": agreement.krippendorff_alpha,
            # The shared α is the token α: the same figure, so the same interval.
            "krippendorff_alpha_ci": alpha_ci[0],
            "fleiss_kappa": agreement.fleiss_kappa,
            "fleiss_kappa_ci": None,
            "mean_pairwise_cohen_kappa": agreement.mean_pairwise_cohen_kappa,
            "mean_pairwise_cohen_kappa_ci": None,
            "weighted_pairwise_cohen_kappa": None,
            "percent_agreement": agreement.percent_agreement,
            "percent_agreement_ci": None,
            "hlp": None,
            "hlp_ci": None,
            "hlp_gold": None,
            "hlp_gold_ci": None,
            "model_accuracy": None,
            "n_issues": n_issues,
        }
        kind_figures = {
            "mean_pairwise_span_f1": pairs.mean_f1,
            "mean_pairwise_partial_span_f1": pairs.mean_partial_f1,
            "token_krippendorff_alpha": agreement.krippendorff_alpha,
            "token_fleiss_kappa": agreement.fleiss_kappa,
            "token_mean_pairwise_cohen_kappa": agreement.mean_pairwise_cohen_kappa,
            "cohen_min_overlap": COHEN_MIN_OVERLAP,
            "n_tokens": agreement.n_units,
            "n_annotator_pairs": int(pairs.kept.sum()),
            "token_krippendorff_alpha_ci": alpha_ci[0],
            **kind_statistics,
            **model_figures,
        }
        f1_pairs = pairs.f1()
        partial_pairs = pairs.partial_f1()
        pairwise = [
            {
                "user_a": int(answers.user_ids[pairs.annotator_a[p]]),
                "user_b": int(answers.user_ids[pairs.annotator_b[p]]),
                "n_overlap": int(pairs.n_overlap[p]),
                # The pairwise table's agreement column is the exact-span F1 for spans.
                "observed_agreement": f1_pairs[p],
                "kappa": None,
                "span_f1": f1_pairs[p],
                "partial_span_f1": partial_pairs[p],
            }
            for p in np.flatnonzero(pairs.kept).tolist()
        ]
        return StructuredRun(
            method=chosen,
            method_note=note,
            scalars=scalars,
            kind_figures=kind_figures,
            per_label=per_label,
            pairwise=pairwise,
            annotators=annotators,
            items=items,
            consensus_params={},
            n_boot=n_boot,
            hlp_absent_note=(
                f"Spans: mean pairwise exact-span F1 = {_fmt(pairs.mean_f1)} (partial overlap "
                f"{_fmt(pairs.mean_partial_f1)}) over annotator pairs sharing at least {COHEN_MIN_OVERLAP} items; "
                "α and κ above are on tokens."
            ),
        )

    def _items(
        self,
        answers: ProjectAnswers,
        table: SpanTable,
        values: TokenValues,
        consensus: SpanConsensus,
        gold: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        has_gold: np.ndarray,
        review_threshold: float,
        route_profile_flags: bool,
    ) -> ItemResults:
        n = int(answers.item_ids.size)
        found = _item_reasons(table, values, consensus, gold, has_gold)
        # The disagreement reasons stay on the item as information; only the routing reasons route it
        # (``quality.metrics.review_routing``). The confidence is the item's least certain token, so a span
        # kept by a thin margin and one dropped by a thin margin both count.
        found.update(
            routing_reasons(
                confidence=consensus.doc_confidence,
                threshold=review_threshold,
                gold_mismatch=found["gold_mismatch"],
                unsure_count=answers.unsure_count,
                unusable_count=answers.unusable_count,
                profile_flag=answers.flagged,
            )
        )
        order = list(REASON_WEIGHTS)
        present = np.stack([found[name] for name in order]) if n else np.zeros((len(order), 0), dtype=bool)
        weights = np.array([REASON_WEIGHTS[name] for name in order])[:, None]
        severity = 1.0 - np.prod(1.0 - weights * present, axis=0)
        reasons = [[order[r] for r in np.flatnonzero(present[:, i]).tolist()] for i in range(n)]
        route = routed(found, route_profile_flags=route_profile_flags)
        return ItemResults(
            item_ids=answers.item_ids,
            consensus=consensus.as_values(list(answers.label_values)),
            confidence=consensus.doc_confidence,
            is_tie=np.zeros(n, dtype=bool),
            label_quality=np.full(n, np.nan),
            is_issue=label_issue(found),
            reasons=reasons,
            severity=severity,
            route=route,
        )


def _pair_ratios(table: SpanTable, pairs: PairwiseSpanF1, *, partial: bool) -> PairRatios:
    """Per (document, annotator pair, label): ``2 × exact matches`` (or the overlapping spans of both sides) over
    the spans of both sides — the sums behind ``pairs.f1()`` and ``pairs.partial_f1()``."""
    empty = np.zeros(0, dtype=np.int64)
    spans = pairs.item_spans if pairs.item_spans is not None else empty
    matched = pairs.item_partial if partial else pairs.item_exact
    return PairRatios(
        item=pairs.item_doc if pairs.item_doc is not None else empty,
        pair=pairs.item_pair if pairs.item_pair is not None else empty,
        label=pairs.item_label if pairs.item_label is not None else empty,
        num=(matched if partial else 2 * matched) if matched is not None else empty,
        den=spans,
        n_items=table.n_docs,
        n_pairs=int(pairs.annotator_a.size),
        n_labels=max(table.n_labels, 1),
        kept=pairs.kept,
    )


def _alpha_intervals(agreement: TokenAgreement, n_labels: int, n_boot: int) -> list[list[float] | None]:
    """Token α's interval overall then per label (None without a bootstrap or a pairable token)."""
    stats = agreement.doc_stats
    if n_boot < 1 or stats is None or not stats.shape[0] or not stats[:, 0].any():
        return [None] * (1 + n_labels)
    units = np.flatnonzero(stats[:, 0] > 0)
    interval = bootstrap_sums_ci(
        stats=stats, statistic=lambda sums: token_alpha_from_sums(sums, n_labels), units=units, n_boot=n_boot
    )
    low, high = np.asarray(interval.low), np.asarray(interval.high)
    return [[float(lo), float(hi)] for lo, hi in zip(low, high, strict=True)]


def _loo_judgements(table: SpanTable, group: np.ndarray) -> Judgements:
    """Each annotation against the spans most of the item's other annotators drew exactly (a unit is one
    (start, end, label))."""
    span_doc = table.doc[table.owner]
    # Two keys instead of a 4-column unique: sorting 2.8 M rows of four columns costs seconds at 100,000 documents.
    width = int(max(table.end.max(initial=0), table.start.max(initial=0))) + 1
    first = span_doc * width + table.start
    second = table.end * max(table.n_labels, 1) + table.label
    order = np.lexsort((second, first))
    new = np.ones(order.size, dtype=bool)
    new[1:] = (first[order][1:] != first[order][:-1]) | (second[order][1:] != second[order][:-1])
    unit = np.empty(order.size, dtype=np.int64)
    unit[order] = np.cumsum(new) - 1
    return leave_one_out_units(
        answer_item=table.doc,
        answer_group=group,
        mark_answer=table.owner,
        mark_unit=unit,
        mark_label=table.label,
        n_labels=max(table.n_labels, 1),
    )


def _gold_judgements(
    table: SpanTable,
    gold: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    has_gold: np.ndarray,
    group: np.ndarray,
) -> Judgements | None:
    """Each annotation on a gold item against its gold spans (exact start, end and label)."""
    if not has_gold.any():
        return None
    n, k = table.n_annotations, max(table.n_labels, 1)
    mine = (table.doc[table.owner], table.start, table.end, table.label)
    matched = span_matches(mine, gold, n_labels=k)
    key = table.owner * k + table.label
    gold_per_doc = np.bincount(gold[0] * k + gold[3], minlength=table.n_docs * k).reshape(table.n_docs, k)
    return Judgements(
        item=table.doc,
        group=group,
        valid=has_gold[table.doc],
        own=np.bincount(key, minlength=n * k).reshape(n, k),
        ref=gold_per_doc[table.doc],
        matched=np.bincount(key[matched], minlength=n * k).reshape(n, k),
    )


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"


SPANS = Spans()


def encoding(*, multi_label: bool) -> Spans:
    return SPANS
