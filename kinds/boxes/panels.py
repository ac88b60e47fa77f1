"""A box project's dashboard panels (``TaskKind.dashboard_panels``): boxes per label, box sizes, agreement per
label and the IoU of matched boxes.

Boxes are counted now from what is stored: the consensus boxes the latest quality run stored on the items and
the boxes of the live answers (the answers a quality run reads, loaded once for the counts, the sizes and the
matching); agreement is the latest run's per-label figures. Imported on first use by the dashboard only
(numpy/scipy).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kinds.boxes.metrics import IOU_MATCH, pairwise_matches
from kinds.boxes.quality_run import boxes_from_answers
from quality.adapters.answers import project_answers_load
from quality.dashboard.figures import Table
from quality.dashboard.kind_panels import KindFigure, KindPanel, labels_in_order, number, part_label_counts
from quality.dashboard.selectors import item_consensus_values
from quality.dashboard.tables.source import DashboardSource

#: COCO's object sizes by area in pixels (its evaluation's ``areaRng``): small < 32², medium 32² to < 96²
SMALL_AREA, LARGE_AREA = 32**2, 96**2
SIZE_BINS = ("small (< 32² px)", "medium (32² to 96² px)", "large (≥ 96² px)")
#: matched boxes have IoU ≥ 0.5; bins of 0.1 from there, the last one closed at 1
IOU_EDGES = (IOU_MATCH, 0.6, 0.7, 0.8, 0.9, 1.0)


def size_bin_counts(areas: np.ndarray) -> list[int]:
    """Boxes per COCO size bin (``SIZE_BINS``) of their areas in pixels."""
    bins = np.digitize(np.asarray(areas, dtype=np.float64), [SMALL_AREA, LARGE_AREA])
    return np.bincount(bins, minlength=3).tolist()


def iou_bin_counts(ious: np.ndarray) -> list[int]:
    """Matched pairs per IoU bin of ``IOU_EDGES`` (each bin closed below, the last also above)."""
    counts, _ = np.histogram(np.asarray(ious, dtype=np.float64), bins=IOU_EDGES)
    return counts.tolist()


def _consensus_boxes(values: Iterable[object]) -> list[dict]:
    return [
        box
        for value in values
        if isinstance(value, list)
        for box in value
        if isinstance(box, dict) and isinstance(box.get("label"), str)
    ]


def panels(src: DashboardSource) -> list[KindPanel]:
    ran = src.has_quality_run
    consensus = _consensus_boxes(item_consensus_values(project=src.project)) if ran else None
    answers = boxes_from_answers(project_answers_load(project=src.project))
    table = answers.table
    drawn = part_label_counts([[{"label": answers.label_values[c]} for c in table.label.tolist()]])
    by_label = part_label_counts([consensus]) if consensus is not None else None
    matches = pairwise_matches(table)
    return [
        _boxes_per_label(src, by_label, drawn, ran),
        _box_sizes(consensus, table.xywh, ran),
        _agreement_per_label(src),
        _iou_histogram(matches.iou),
    ]


def _boxes_per_label(src: DashboardSource, consensus, drawn, ran: bool) -> KindPanel:
    out = Table("boxes_per_label", "Boxes per label", ["label", "consensus_boxes", "annotator_boxes", "link"])
    for label in labels_in_order(src.labels, consensus or {}, drawn):
        out.rows.append(
            [label, None if consensus is None else consensus[label], drawn[label], src.items_url(label=label)]
        )
    return KindPanel(
        table=out,
        figures=(
            KindFigure(
                "consensus_boxes",
                "Consensus boxes",
                "boxes of that label in the consensus the latest quality run stored on the images (discarded "
                "images left out)",
            ),
            KindFigure(
                "annotator_boxes",
                "All annotators' boxes",
                "boxes of that label in every annotator's live answer, each annotator's counted (discarded "
                "images left out)",
            ),
        ),
        note="" if ran else "Consensus boxes appear after the first quality run.",
        empty="No labels.",
    )


def _box_sizes(consensus: list[dict] | None, drawn_xywh: np.ndarray, ran: bool) -> KindPanel:
    cons = (
        size_bin_counts(np.asarray([float(b["w"]) * float(b["h"]) for b in consensus]))
        if consensus is not None
        else None
    )
    drawn = size_bin_counts(drawn_xywh[:, 2] * drawn_xywh[:, 3])
    out = Table("box_sizes", "Box sizes (COCO areas)", ["size", "consensus_boxes", "annotator_boxes"])
    for i, name in enumerate(SIZE_BINS):
        out.rows.append([name, None if cons is None else cons[i], drawn[i]])
    return KindPanel(
        table=out,
        figures=(
            KindFigure("consensus_boxes", "Consensus boxes", "consensus boxes on the images, by area w × h"),
            KindFigure("annotator_boxes", "All annotators' boxes", "boxes in live answers, by area w × h"),
        ),
        note="Area in pixels of the stored image, binned as COCO's evaluation bins objects: small below 32 × 32 "
        "= 1,024 px², medium from there to below 96 × 96 = 9,216 px², large from there.",
    )


def _agreement_per_label(src: DashboardSource) -> KindPanel:
    report = src.report
    out = Table(
        "box_agreement_per_label",
        "Box agreement per label (latest quality run)",
        ["label", "mean_pairwise_box_f1", "mean_matched_iou", "link"],
    )
    per_label = report.per_label if report else {}
    for label in labels_in_order(src.labels) if report else []:
        row = per_label.get(label) or {}
        out.rows.append(
            [
                label,
                number(row.get("mean_pairwise_box_f1")),
                number(row.get("mean_matched_iou")),
                src.items_url(label=label),
            ]
        )
    overlap = (report.kind_figures or {}).get("cohen_min_overlap") if report else None
    pairs = f"annotator pairs sharing at least {overlap} images" if overlap else "annotator pairs"
    return KindPanel(
        table=out,
        figures=(
            KindFigure(
                "mean_pairwise_box_f1",
                "Box F1 (IoU ≥ 0.5)",
                f"mean over {pairs} where either drew a box of that label of 2 × boxes matched one-to-one at "
                "IoU ≥ 0.5 ÷ both annotators' boxes of that label",
                fraction=True,
            ),
            KindFigure(
                "mean_matched_iou",
                "Mean matched IoU",
                "mean IoU of those pairs' matched boxes",
                fraction=True,
            ),
        ),
        note="— : no annotator pair drew a box of that label on enough shared images.",
        empty="No quality run yet.",
    )


def _iou_histogram(ious: np.ndarray) -> KindPanel:
    out = Table("iou_histogram", "IoU of matched boxes", ["iou", "matched_pairs"])
    counts = iou_bin_counts(ious)
    for i, n in enumerate(counts):
        low, high = IOU_EDGES[i], IOU_EDGES[i + 1]
        out.rows.append([f"{low:.1f}–{high:.1f}" if i < len(counts) - 1 else f"{low:.1f}–1.0 (incl.)", n])
    return KindPanel(
        table=out,
        figures=(
            KindFigure(
                "matched_pairs",
                "Matched box pairs",
                "pairs of boxes two annotators drew on the same image with the same label, matched one-to-one "
                "at IoU ≥ 0.5 by maximum total IoU; every annotator pair, computed now from the live answers",
            ),
        ),
        note=f"{int(np.asarray(ious).size):,} matched pairs in all, from every annotator pair however few images "
        "they share (the quality run's mean matched IoU counts only pairs sharing its minimum of images). Bins "
        "include their lower edge.",
    )
