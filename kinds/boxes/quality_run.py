"""A box project's quality run: the structured encoding (``structured = True``) whose ``run`` turns the
project's stored answers (``quality.adapters.answers``) into a ``BoxTable``, measures it with
``kinds.boxes.figures`` and hands back a ``StructuredRun``, which ``quality.services`` stores like any other run
(report, item rows, annotator rows, the items' consensus through the item state machine).

Imported by the quality task only (numpy/scipy); ``kinds.boxes.quality`` exposes :func:`encoding`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kinds.boxes.alpha import box_alpha
from kinds.boxes.consensus import box_clusters
from kinds.boxes.figures import REASONS, BoxRun, Reference, box_run
from kinds.boxes.geometry import CONSENSUS_PRECISION
from kinds.boxes.metrics import BoxTable, match_to_reference, pairwise_matches
from quality.adapters import ItemResults
from quality.adapters.answers import AnswerColumns, AnswerParts, ProjectAnswers
from quality.metrics.structured_figures import Judgements, PairRatios, leave_one_out_units
from quality.models import CLASS_AGREEMENT_FIGURES
from quality.services.engine import bootstrap_resamples
from quality.services.kind_steps import StructuredRun
from quality.services.report_tables import clean
from quality.services.structured_report import PairFigure, structured_figures, version_groups

MIN_OVERLAP = 5
METHOD = "weighted_box_fusion"
METHOD_NOTE = (
    "weighted box fusion: per label, boxes matched across annotators (IoU ≥ 0.5) are averaged with annotator "
    "weights from a first equal-weight pass (F1 against its consensus); a box is kept when annotators holding "
    "at least half of the item's weight drew it. Confidence = that weighted share × the mean IoU of the drawn "
    "boxes with the fused one."
)


@dataclass(frozen=True)
class LoadedBoxes:
    table: BoxTable
    item_ids: np.ndarray
    user_ids: np.ndarray
    label_values: list[str]
    gold: Reference | None
    tags: dict[str, np.ndarray] = field(default_factory=dict)
    answer_version: np.ndarray | None = None


def _box_rows(value: object, index: dict[str, int]):
    """The valid boxes of a stored answer as (x, y, w, h, class index); anything else is skipped."""
    if not isinstance(value, list):
        return
    for box in value:
        if not isinstance(box, dict):
            continue
        label = box.get("label")
        code = index.get(label) if isinstance(label, str) else None
        coords = [box.get(name) for name in ("x", "y", "w", "h")]
        numbers = [float(v) for v in coords if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if code is None or len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
            continue
        x, y, w, h = numbers
        if w <= 0 or h <= 0:
            continue
        yield (x, y, w, h, code)


def box_parts(value: object, index: dict[str, int]):
    """The rows of ``quality.adapters.answers.AnswerParts`` for boxes: ``(label code, x, y, w, h)`` of each valid
    box (those :func:`boxes_from_answers` keeps)."""
    for x, y, w, h, code in _box_rows(value, index):
        yield (code, x, y, w, h)


def boxes_from_answers(answers: ProjectAnswers) -> LoadedBoxes:
    """The answers' boxes as a ``BoxTable`` (items and annotators in the answers' order), with the items' gold
    boxes (``[]`` is a gold answer too: nothing to box; None is no gold)."""
    index = {value: position for position, value in enumerate(answers.label_values)}
    if isinstance(answers.answer_value, AnswerColumns):
        owner = answers.answer_value.owner()
        label = answers.answer_value.label.astype(np.int64)
        xywh = np.ascontiguousarray(answers.answer_value.numbers, dtype=np.float64)
    else:
        box_answer: list[int] = []
        box_values: list[tuple] = []
        for position, value in enumerate(answers.answer_value):
            for box in _box_rows(value, index):
                box_answer.append(position)
                box_values.append(box)
        boxes = np.asarray(box_values, dtype=np.float64).reshape(-1, 5)
        owner = np.asarray(box_answer, dtype=np.int64)
        label, xywh = boxes[:, 4].astype(np.int64), boxes[:, :4]
    table = BoxTable(
        n_items=int(answers.item_ids.size),
        n_annotators=int(answers.user_ids.size),
        n_labels=len(answers.label_values),
        answer_item=answers.answer_item,
        answer_annotator=answers.answer_user,
        item=answers.answer_item[owner],
        annotator=answers.answer_user[owner],
        label=label,
        xywh=xywh,
    )
    scope = np.zeros(table.n_items, dtype=bool)
    gold_items: list[int] = []
    gold_values: list[tuple] = []
    for position, gold in enumerate(answers.gold):
        if not isinstance(gold, list):
            continue
        scope[position] = True
        for box in _box_rows(gold, index):
            gold_items.append(position)
            gold_values.append(box)
    gold_boxes = np.asarray(gold_values, dtype=np.float64).reshape(-1, 5)
    reference = (
        Reference(
            item=np.asarray(gold_items, dtype=np.int64),
            label=gold_boxes[:, 4].astype(np.int64),
            xywh=gold_boxes[:, :4],
            scope=scope,
        )
        if scope.any()
        else None
    )
    return LoadedBoxes(
        table=table,
        item_ids=answers.item_ids,
        user_ids=answers.user_ids,
        label_values=list(answers.label_values),
        gold=reference,
        tags=answers.item_tags,
        answer_version=answers.answer_version,
    )


def _none(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _item_consensus(run: BoxRun, label_values: list[str], n_items: int) -> list[list[dict]]:
    """Per item, its consensus boxes as stored (``Item.consensus_label``) and shown (``consensus_boxes``)."""
    cons = run.consensus
    out: list[list[dict]] = [[] for _ in range(n_items)]
    xywh = np.round(cons.xywh, CONSENSUS_PRECISION).tolist()
    confidence = np.round(cons.confidence, 4).tolist()
    for item, label, box, conf in zip(cons.item.tolist(), cons.label.tolist(), xywh, confidence, strict=True):
        x, y, w, h = box
        out[item].append({"x": x, "y": y, "w": w, "h": h, "label": label_values[label], "confidence": conf})
    return out


def _annotator_rows(loaded: LoadedBoxes, run: BoxRun, lead: np.ndarray | None = None) -> list[dict]:
    table, agreement = loaded.table, run.agreement
    pairs = agreement.pairs
    counts = pairs.n_shared >= agreement.min_overlap
    f1 = np.where(counts, agreement.pair_f1, np.nan)
    sides = np.r_[pairs.annotator_a, pairs.annotator_b]
    values = np.r_[f1, f1]
    defined = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        others = np.bincount(
            sides[defined], weights=values[defined], minlength=table.n_annotators
        ) / np.bincount(sides[defined], minlength=table.n_annotators)
        n_others = np.bincount(sides[defined], minlength=table.n_annotators)
    gold_items = (
        np.bincount(
            table.answer_annotator[loaded.gold.scope[table.answer_item]], minlength=table.n_annotators
        )
        if loaded.gold is not None
        else np.zeros(table.n_annotators, dtype=np.int64)
    )
    rows = []
    cons, gold = run.vs_consensus, run.vs_gold
    for a, user_id in enumerate(loaded.user_ids.tolist()):
        figures = {
            "n_boxes": int(cons.n_boxes[a]),
            "precision": cons.precision[a],
            "recall": cons.recall[a],
            "f1": cons.f1[a],
            "mean_iou": cons.mean_iou[a],
            "gold_precision": None if gold is None else gold.precision[a],
            "gold_recall": None if gold is None else gold.recall[a],
            "gold_mean_iou": None if gold is None else gold.mean_iou[a],
        }
        rows.append(
            clean(
                {
                    "user_id": user_id,
                    "n_annotations": int(run.n_answers[a]),
                    "agreement_with_consensus": cons.f1[a],
                    "agreement_with_others": others[a],
                    "n_agreement_with_consensus": int(run.n_answers[a]),
                    "n_agreement_with_others": int(n_others[a]),
                    "kappa_vs_others": None,
                    "gold_accuracy": None if gold is None else gold.f1[a],
                    "n_gold": int(gold_items[a]),
                    "quality_score": run.consensus.weights[a],
                    "median_lead_time_s": None
                    if lead is None or not np.isfinite(lead[a])
                    else float(lead[a]),
                    "confusion": [],
                    "kind_figures": figures,
                }
            )
        )
    return rows


def _agreement_sentence(run: BoxRun, n_annotations: int, n_items: int) -> str:
    agreement = run.agreement
    f1, matched = agreement.mean_pairwise_box_f1, agreement.mean_matched_iou
    if f1 is None:
        return (
            f"No two annotators share {agreement.min_overlap} items with boxes yet, so box agreement is not "
            f"measured ({n_annotations:,} answers on {n_items:,} images)."
        )
    return " ".join(
        [
            f"Mean pairwise box F1 = {f1:.2f} (boxes match at IoU ≥ 0.5 with the same label) over "
            f"{agreement.n_pairs} annotator pair{'s' if agreement.n_pairs != 1 else ''} sharing at least "
            f"{agreement.min_overlap} images; {n_annotations:,} answers on {n_items:,} images.",
            f"Matched boxes overlap by IoU {matched:.2f} on average ({agreement.n_matches:,} matched pairs)."
            if matched is not None
            else "No two boxes matched.",
        ]
    )


def box_outcome(loaded: LoadedBoxes, run: BoxRun, lead: np.ndarray | None = None) -> StructuredRun:
    """The run's ``StructuredRun`` from its figures."""
    table = loaded.table
    agreement = run.agreement
    n_cons = np.bincount(run.consensus.label, minlength=table.n_labels)
    per_label = {
        value: {
            "mean_pairwise_box_f1": agreement.per_label_f1[c],
            "mean_matched_iou": agreement.per_label_iou[c] if c < len(agreement.per_label_iou) else None,
            "n_matches": agreement.per_label_matches[c] if c < len(agreement.per_label_matches) else 0,
            "n_boxes": int((table.label == c).sum()),
            "n_consensus_boxes": int(n_cons[c]),
        }
        for c, value in enumerate(loaded.label_values)
    }
    pairs = agreement.pairs
    pairwise = [
        {
            "user_a": int(loaded.user_ids[a]),
            "user_b": int(loaded.user_ids[b]),
            "n_overlap": int(n),
            # A box pair's agreement is its box F1; κ has no meaning for boxes.
            "observed_agreement": _none(f1),
            "kappa": None,
        }
        for a, b, n, f1 in zip(
            pairs.annotator_a.tolist(),
            pairs.annotator_b.tolist(),
            pairs.n_shared.tolist(),
            agreement.pair_f1.tolist(),
            strict=True,
        )
        if n >= agreement.min_overlap
    ]
    n_issues = int(run.is_issue.sum())
    scalars: dict = {
        "n_items": table.n_items,
        "n_annotations": int(table.answer_item.size),
        "n_annotators": table.n_annotators,
        "weighted_pairwise_cohen_kappa": None,
        "model_accuracy": None,
        "n_issues": n_issues,
    }
    for name in CLASS_AGREEMENT_FIGURES:
        scalars[name] = None
        scalars[f"{name}_ci"] = None
    reasons = [[REASONS[r] for r in np.flatnonzero(row).tolist()] for row in run.item_reasons]
    items = ItemResults(
        item_ids=loaded.item_ids,
        consensus=_item_consensus(run, loaded.label_values, table.n_items),
        confidence=run.item_confidence,
        is_tie=np.zeros(table.n_items, dtype=bool),
        label_quality=run.item_confidence,
        is_issue=run.is_issue,
        reasons=reasons,
        severity=run.severity,
        route=run.route,
    )
    figures = {
        "mean_pairwise_box_f1": agreement.mean_pairwise_box_f1,
        "mean_matched_iou": agreement.mean_matched_iou,
        "cohen_min_overlap": agreement.min_overlap,
        "n_box_pairs": agreement.n_pairs,
        "n_matched_boxes": agreement.n_matches,
        "n_boxes": table.n_boxes,
        "n_consensus_boxes": int(run.consensus.item.size),
    }
    n_boot = bootstrap_resamples(int(table.answer_item.size))
    figures.update(_shared_figures(loaded, run, per_label, items.route, n_boot))
    return StructuredRun(
        method=METHOD,
        method_note=METHOD_NOTE,
        scalars=scalars,
        kind_figures=figures,
        per_label=per_label,
        pairwise=pairwise,
        annotators=_annotator_rows(loaded, run, lead),
        items=items,
        consensus_params={
            "method": METHOD,
            "user_ids": loaded.user_ids.tolist(),
            "label_values": loaded.label_values,
            "weights": np.round(run.consensus.weights, 6).tolist(),
        },
        n_boot=n_boot,
        hlp_absent_note=_agreement_sentence(run, int(table.answer_item.size), table.n_items),
    )


def _answer_of_box(table: BoxTable) -> np.ndarray:
    """Each box's answer row (the answer of its item by its annotator)."""
    keys = table.answer_item * max(table.n_annotators, 1) + table.answer_annotator
    order = np.argsort(keys, kind="stable")
    position = np.searchsorted(keys[order], table.item * max(table.n_annotators, 1) + table.annotator)
    return order[position]


def _pair_ratios(table: BoxTable, run: BoxRun, *, iou_figure: bool) -> PairRatios:
    """Per (item, annotator pair, label): ``2 × matches`` over the boxes of both sides (box F1), or the matches'
    IoU over their number (matched IoU) — the item-level sums behind ``box_agreement``."""
    pairs = run.agreement.pairs
    empty = np.zeros(0, dtype=np.int64)
    matches = pairs.matches
    box_rows = pairs.box_rows if pairs.box_rows is not None else empty
    box_pair = pairs.box_rows_pair if pairs.box_rows_pair is not None else empty
    match_left = matches.left if matches is not None else empty
    match_pair = pairs.match_pair if pairs.match_pair is not None else empty
    match_iou = matches.iou if matches is not None else np.zeros(0)
    if iou_figure:
        item, pair, label = table.item[match_left], match_pair, table.label[match_left]
        num, den = match_iou, np.ones(match_left.size)
    else:
        item = np.r_[table.item[box_rows], table.item[match_left]]
        pair = np.r_[box_pair, match_pair]
        label = np.r_[table.label[box_rows], table.label[match_left]]
        num = np.r_[np.zeros(box_rows.size), np.full(match_left.size, 2.0)]
        den = np.r_[np.ones(box_rows.size), np.zeros(match_left.size)]
    return PairRatios(
        item=item,
        pair=pair,
        label=label,
        num=num,
        den=den,
        n_items=table.n_items,
        n_pairs=int(pairs.annotator_a.size),
        n_labels=max(table.n_labels, 1),
        kept=pairs.n_shared >= run.agreement.min_overlap,
    )


def _loo_judgements(
    table: BoxTable, cluster: np.ndarray, answer_of_box: np.ndarray, group: np.ndarray
) -> Judgements:
    """Each answer against the box clusters most of the item's other annotators drew a box in."""
    return leave_one_out_units(
        answer_item=table.answer_item,
        answer_group=group,
        mark_answer=answer_of_box,
        mark_unit=cluster,
        mark_label=table.label,
        n_labels=max(table.n_labels, 1),
    )


def _gold_judgements(table: BoxTable, gold: Reference | None, answer_of_box: np.ndarray, group: np.ndarray):
    """Each answer on a gold item against its gold boxes (matched one-to-one at IoU ≥ 0.5, same label)."""
    if gold is None or not gold.scope.any():
        return None
    match = match_to_reference(
        table, ref_item=gold.item, ref_label=gold.label, ref_xywh=gold.xywh, scope=gold.scope
    )
    n, k = int(table.answer_item.size), max(table.n_labels, 1)
    key = answer_of_box * k + table.label
    gold_cells = np.bincount(gold.item * k + gold.label, minlength=table.n_items * k).reshape(
        table.n_items, k
    )
    return Judgements(
        item=table.answer_item,
        group=group,
        valid=gold.scope[table.answer_item],
        own=np.bincount(key, minlength=n * k).reshape(n, k),
        ref=gold_cells[table.answer_item],
        matched=np.bincount(key[match.box_matched], minlength=n * k).reshape(n, k),
    )


def _shared_figures(
    loaded: LoadedBoxes, run: BoxRun, per_label: dict, route: np.ndarray, n_boot: int
) -> dict:
    """Intervals, HLP, error analysis by tag (``quality.services.structured_report``) and α with 1 − IoU."""
    table = loaded.table
    # The consensus's own clusters (kept or not): a second clustering pass would cost as much as the fusion.
    cluster = run.consensus.cluster
    if cluster is None:
        matches = run.matches if run.matches is not None else pairwise_matches(table)
        cluster = box_clusters(table, matches=matches)
    answer_of_box = _answer_of_box(table)
    group, versions = version_groups(loaded.answer_version, int(table.answer_item.size))
    f1 = PairFigure(
        "mean_pairwise_box_f1", "mean_pairwise_box_f1", _pair_ratios(table, run, iou_figure=False)
    )
    figures = structured_figures(
        pair_figures=[
            f1,
            PairFigure(
                "mean_matched_iou", "mean_matched_iou", _pair_ratios(table, run, iou_figure=True), pooled=True
            ),
        ],
        headline=f1,
        consensus=_loo_judgements(table, cluster, answer_of_box, group),
        gold=_gold_judgements(table, loaded.gold, answer_of_box, group),
        versions=versions,
        tags=loaded.tags,
        route=route,
        label_values=loaded.label_values,
        per_label=per_label,
        n_boot=n_boot,
    )
    alpha = box_alpha(table, cluster)
    figures["box_krippendorff_alpha"] = alpha.alpha
    figures["box_alpha_n_units"] = alpha.n_units
    figures["box_alpha_n_values"] = alpha.n_values
    return figures


class Boxes:
    """The ``image_boxes`` encoding for ``quality.services``: structured answers, computed by :meth:`run`."""

    structured = True
    multi_label = False
    model_free_reason = "box answers have no class per item"
    hlp_absent_note = None
    #: the quality job reads the stored answers straight into columns (``quality.adapters.answers``)
    answer_parts = AnswerParts(rows=box_parts, n_numbers=4, typecode="d")

    def run(
        self,
        *,
        answers: ProjectAnswers,
        method: str,
        review_threshold: float,
        route_profile_flags: bool,
        progress: Callable[[float, str], None] = lambda fraction, message: None,
    ) -> StructuredRun:
        """Every figure of a box project's quality run (``method`` is always weighted box fusion: the project's
        class consensus method does not apply to boxes)."""
        loaded = boxes_from_answers(answers)
        progress(0.3, f"matching {loaded.table.n_boxes} boxes")
        run = box_run(
            loaded.table,
            gold=loaded.gold,
            min_overlap=MIN_OVERLAP,
            review_threshold=review_threshold,
            unsure_count=answers.unsure_count,
            unusable_count=answers.unusable_count,
            profile_flag=answers.flagged,
            route_profile_flags=route_profile_flags,
        )
        progress(0.8, "consensus boxes and annotators")
        return box_outcome(loaded, run, answers.median_lead_time_s())


BOXES = Boxes()


def encoding(*, multi_label: bool) -> Boxes:
    return BOXES
