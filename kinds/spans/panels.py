"""A span project's dashboard panels (``TaskKind.dashboard_panels``): entities per label, agreement per label
and the ways annotators' spans differ from the consensus.

Entities are counted now from what is stored: the consensus spans the latest quality run stored on the items
and the spans of the live answers (the answers a quality run reads); agreement is the latest run's per-label
figures; the disagreement reasons are the items' stored reasons.
"""

from __future__ import annotations

from typing import cast

from kinds.spans import KIND
from quality.adapters.answers import project_answers_load
from quality.dashboard.figures import Table
from quality.dashboard.kind_panels import KindFigure, KindPanel, labels_in_order, number, part_label_counts
from quality.dashboard.selectors import item_consensus_values
from quality.dashboard.tables.source import DashboardSource

#: the reasons that say how an annotator's spans differ from the consensus, in the order the panel lists them
DISAGREEMENT_REASONS = ("boundary_disagreement", "type_confusion", "missed_entity", "spurious_entity")


def entities_per_label(src: DashboardSource) -> KindPanel:
    ran = src.has_quality_run
    consensus = part_label_counts(item_consensus_values(project=src.project)) if ran else None
    # Read without the kind's parts: the stored values, which count every label a span was given.
    answers = part_label_counts(cast(list, project_answers_load(project=src.project).answer_value))
    table = Table(
        "entities_per_label", "Entities per label", ["label", "consensus_spans", "annotator_spans", "link"]
    )
    for label in labels_in_order(src.labels, consensus or {}, answers):
        table.rows.append(
            [
                label,
                None if consensus is None else consensus[label],
                answers[label],
                src.items_url(label=label),
            ]
        )
    return KindPanel(
        table=table,
        figures=(
            KindFigure(
                "consensus_spans",
                "Consensus spans",
                "spans of that label in the consensus the latest quality run stored on the items (discarded "
                "items left out)",
            ),
            KindFigure(
                "annotator_spans",
                "All annotators' spans",
                "spans of that label in every annotator's live answer, each annotator's counted (discarded items "
                "left out)",
            ),
        ),
        note="" if ran else "Consensus spans appear after the first quality run.",
        empty="No labels.",
    )


def agreement_per_label(src: DashboardSource) -> KindPanel:
    report = src.report
    table = Table(
        "span_agreement_per_label",
        "Span agreement per label (latest quality run)",
        ["label", "span_f1", "partial_span_f1", "link"],
    )
    per_label = report.per_label if report else {}
    for label in labels_in_order(src.labels) if report else []:
        row = per_label.get(label) or {}
        table.rows.append(
            [
                label,
                number(row.get("span_f1")),
                number(row.get("partial_span_f1")),
                src.items_url(label=label),
            ]
        )
    overlap = (report.kind_figures or {}).get("cohen_min_overlap") if report else None
    pairs = f"annotator pairs sharing at least {overlap} items" if overlap else "annotator pairs"
    return KindPanel(
        table=table,
        figures=(
            KindFigure(
                "span_f1",
                "Span F1",
                f"mean over {pairs} where either has a span of that label of 2 × spans matching on exact start, "
                "end and label ÷ both annotators' spans of that label",
                fraction=True,
            ),
            KindFigure(
                "partial_span_f1",
                "Partial span F1",
                "the same with a span matched when it overlaps a span of that label of the other annotator",
                fraction=True,
            ),
        ),
        note="— : no annotator pair had a span of that label on enough shared items.",
        empty="No quality run yet.",
    )


def disagreement_reasons(src: DashboardSource) -> KindPanel:
    table = Table("span_disagreement", "Boundary vs type disagreement", ["reason", "items", "link"])
    if src.has_quality_run:
        for code in DISAGREEMENT_REASONS:
            table.rows.append(
                [KIND.reason_words[code], src.issues.get(f"kind_{code}") or 0, src.items_url(issue_kind=code)]
            )
    return KindPanel(
        table=table,
        figures=(
            KindFigure(
                "items",
                "Items",
                "items whose stored reasons (latest quality run) say some annotator's span differs from the "
                "consensus that way; an item counts once per reason",
            ),
        ),
        note="Span boundaries differ: a span overlaps a consensus span of its label with other offsets. Entity "
        "type differs: it overlaps a consensus span of another label and none of its own. Missed: an annotator "
        "left a consensus span's tokens unlabelled. Spurious: a span overlaps no consensus span.",
        empty="No quality run yet.",
    )


def panels(src: DashboardSource) -> list[KindPanel]:
    return [entities_per_label(src), agreement_per_label(src), disagreement_reasons(src)]
