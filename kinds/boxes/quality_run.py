"""A box project's quality run: its live answers read into a ``BoxTable`` (streamed), measured by
``kinds.boxes.figures`` and handed back as the engine's ``RunOutcome``, which ``quality.services.runs`` stores
like any other (report, item rows, annotator rows, the items' consensus through the item state machine).

Imported by the quality task only (numpy/scipy); ``kinds.boxes.quality`` exposes :func:`structured_run`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.selectors import label_schema_for
from kinds.boxes.figures import REASONS, BoxRun, Reference, box_run
from kinds.boxes.metrics import BoxTable
from quality.adapters import ItemResults
from quality.models import QualityReport
from quality.services.engine import RunOutcome
from quality.services.kind_steps import StructuredItemConsensus
from quality.services.report_tables import clean

CHUNK = 20_000
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
    lead_time: np.ndarray  # seconds per answer (NaN unknown), in answer order
    n_unusable: int


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


def boxes_load(*, project: Project) -> LoadedBoxes:
    """The project's live answers on non-discarded items, in item id order, streamed in chunks. An answer that
    is unusable and has no box is not an answer here (counted in ``n_unusable``)."""
    schema = label_schema_for(project=project)
    rows = (
        Annotation.objects.filter(project=project, is_live=True)
        .exclude(item__status=ItemStatus.DISCARDED)
        .order_by("item_id", "annotator_id")
        .values_list("item_id", "annotator_id", "labels", "unusable", "lead_time_ms")
        .iterator(chunk_size=CHUNK)
    )
    return _loaded(project, rows, schema.values, schema.index)


def _loaded(
    project: Project, rows: Iterable[tuple], label_values: list[str], index: dict[str, int]
) -> LoadedBoxes:
    """``LoadedBoxes`` from answer rows (item id, user id, stored answer, unusable, lead time in ms) sorted by
    item id."""
    answer_item: list[int] = []
    answer_user: list[int] = []
    lead: list[float] = []
    box_answer: list[int] = []
    box_values: list[tuple] = []
    n_unusable = 0
    for item_id, user_id, labels, unusable, lead_ms in rows:
        if unusable and not labels:
            n_unusable += 1
            continue
        position = len(answer_item)
        answer_item.append(item_id)
        answer_user.append(user_id)
        lead.append(float("nan") if lead_ms is None else lead_ms / 1000.0)
        for box in _box_rows(labels, index):
            box_answer.append(position)
            box_values.append(box)
    item_ids, item_pos = np.unique(np.asarray(answer_item, dtype=np.int64), return_inverse=True)
    user_ids, user_pos = np.unique(np.asarray(answer_user, dtype=np.int64), return_inverse=True)
    item_pos, user_pos = item_pos.ravel().astype(np.int64), user_pos.ravel().astype(np.int64)
    boxes = np.asarray(box_values, dtype=np.float64).reshape(-1, 5)
    owner = np.asarray(box_answer, dtype=np.int64)
    table = BoxTable(
        n_items=int(item_ids.size),
        n_annotators=int(user_ids.size),
        n_labels=len(label_values),
        answer_item=item_pos,
        answer_annotator=user_pos,
        item=item_pos[owner],
        annotator=user_pos[owner],
        label=boxes[:, 4].astype(np.int64),
        xywh=boxes[:, :4],
    )
    return LoadedBoxes(
        table=table,
        item_ids=item_ids,
        user_ids=user_ids,
        label_values=list(label_values),
        gold=_gold_load(project=project, item_ids=item_ids, index=index),
        lead_time=np.asarray(lead, dtype=np.float64),
        n_unusable=n_unusable,
    )


def _gold_load(*, project: Project, item_ids: np.ndarray, index: dict[str, int]) -> Reference | None:
    """Gold boxes of the measured items; ``[]`` is a gold answer too (nothing to box), None is no gold."""
    rows = (
        Item.objects.filter(project=project, gold_label__isnull=False)
        .order_by("id")
        .values_list("id", "gold_label")
        .iterator(chunk_size=CHUNK)
    )
    scope = np.zeros(item_ids.size, dtype=bool)
    items: list[int] = []
    values: list[tuple] = []
    for item_id, gold in rows:
        if not isinstance(gold, list):
            continue
        position = int(np.searchsorted(item_ids, item_id))
        if position >= item_ids.size or item_ids[position] != item_id:
            continue
        scope[position] = True
        for box in _box_rows(gold, index):
            items.append(position)
            values.append(box)
    if not scope.any():
        return None
    boxes = np.asarray(values, dtype=np.float64).reshape(-1, 5)
    return Reference(
        item=np.asarray(items, dtype=np.int64),
        label=boxes[:, 4].astype(np.int64),
        xywh=boxes[:, :4],
        scope=scope,
    )


def _none(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _item_consensus(run: BoxRun, label_values: list[str], n_items: int) -> list[list[dict]]:
    """Per item, its consensus boxes as stored (``Item.consensus_label``) and shown (``consensus_boxes``)."""
    cons = run.consensus
    out: list[list[dict]] = [[] for _ in range(n_items)]
    xywh = np.round(cons.xywh, 2).tolist()
    confidence = np.round(cons.confidence, 4).tolist()
    for item, label, box, conf in zip(cons.item.tolist(), cons.label.tolist(), xywh, confidence, strict=True):
        x, y, w, h = box
        out[item].append({"x": x, "y": y, "w": w, "h": h, "label": label_values[label], "confidence": conf})
    return out


def _annotator_rows(loaded: LoadedBoxes, run: BoxRun) -> list[dict]:
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
        lead = loaded.lead_time[table.answer_annotator == a]
        lead = lead[np.isfinite(lead)]
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
                    "median_lead_time_s": float(np.median(lead)) if lead.size else None,
                    "confusion": [],
                    "kind_figures": figures,
                }
            )
        )
    return rows


def _agreement_lines(run: BoxRun, n_annotations: int, n_items: int) -> list[str]:
    agreement = run.agreement
    f1, matched = agreement.mean_pairwise_box_f1, agreement.mean_matched_iou
    if f1 is None:
        return [
            f"No two annotators share {agreement.min_overlap} items with boxes yet, so box agreement is not "
            f"measured ({n_annotations:,} answers on {n_items:,} images)."
        ]
    return [
        f"Mean pairwise box F1 = {f1:.2f} (boxes match at IoU ≥ 0.5 with the same label) over "
        f"{agreement.n_pairs} annotator pair{'s' if agreement.n_pairs != 1 else ''} sharing at least "
        f"{agreement.min_overlap} images; {n_annotations:,} answers on {n_items:,} images.",
        f"Matched boxes overlap by IoU {matched:.2f} on average ({agreement.n_matches:,} matched pairs)."
        if matched is not None
        else "No two boxes matched.",
    ]


def box_outcome(loaded: LoadedBoxes, run: BoxRun, *, review_threshold: float) -> RunOutcome:
    """The run's ``RunOutcome`` from its figures."""
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
    for name in (
        "krippendorff_alpha",
        "fleiss_kappa",
        "mean_pairwise_cohen_kappa",
        "percent_agreement",
        "hlp",
        "hlp_gold",
    ):
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
        route=run.is_issue,
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
    return RunOutcome(
        method=METHOD,
        method_note=METHOD_NOTE,
        n_boot=0,
        scalars=clean(scalars),
        per_label=clean(per_label),
        per_tag={},
        per_guideline_version={},
        pairwise=clean(pairwise),
        error_analysis=[],
        consensus_params={
            "method": METHOD,
            "user_ids": loaded.user_ids.tolist(),
            "label_values": loaded.label_values,
            "weights": np.round(run.consensus.weights, 6).tolist(),
        },
        items=items,
        annotators=_annotator_rows(loaded, run),
        hlp_absent_note="Human-level performance for boxes is each annotator's F1 against the consensus "
        "(the annotators table).",
        kind_figures=clean(figures),
        agreement_lines=_agreement_lines(run, int(table.answer_item.size), table.n_items),
    )


def structured_run(
    *, project: Project, progress: Callable[[float, str], None] = lambda fraction, message: None
) -> RunOutcome:
    """The quality run of a box project (the seam ``quality.services.runs`` calls).

    Raises:
        ValueError: when the project has no answer yet (nothing to measure).
    """
    loaded = boxes_load(project=project)
    if loaded.table.answer_item.size == 0:
        raise ValueError("The project has no answers yet; there is nothing to measure.")
    progress(0.2, f"read {loaded.table.answer_item.size} answers with {loaded.table.n_boxes} boxes")
    run = box_run(
        loaded.table,
        gold=loaded.gold,
        min_overlap=MIN_OVERLAP,
        review_threshold=project.review_confidence_threshold,
    )
    progress(0.8, "storing results")
    return box_outcome(loaded, run, review_threshold=project.review_confidence_threshold)


def _last_weights(project: Project, label_values: list[str]) -> dict[int, float]:
    """Annotator weights (user id → weight) of the project's last box run, empty when there is none or its
    labels differ."""
    params = (
        QualityReport.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values_list("consensus_params", flat=True)
        .first()
    ) or {}
    if params.get("method") != METHOD or params.get("label_values") != label_values:
        return {}
    return dict(zip(params.get("user_ids", []), params.get("weights", []), strict=False))


def structured_item_consensus(*, project: Project, item_ids: list[int]) -> list[StructuredItemConsensus]:
    """The per-item update of a box project (the seam ``quality.services.items`` calls): the items among
    ``item_ids`` (locked in id order; discarded ones left out) and their consensus boxes from their live
    answers, one fusion pass with the last run's annotator weights (1.0 for annotators it did not see). Call
    inside a transaction."""
    items = list(
        Item.objects.select_for_update()
        .filter(project=project, pk__in=item_ids)
        .exclude(status=ItemStatus.DISCARDED)
        .order_by("pk")
        .values_list("pk", "status")
    )
    if not items:
        return []
    schema = label_schema_for(project=project)
    rows = (
        Annotation.objects.filter(item_id__in=[pk for pk, _ in items], is_live=True)
        .order_by("item_id", "annotator_id")
        .values_list("item_id", "annotator_id", "labels", "unusable", "lead_time_ms")
    )
    loaded = _loaded(project, rows, schema.values, schema.index)
    known = _last_weights(project, list(schema.values))
    weights = np.array([known.get(user, 1.0) for user in loaded.user_ids.tolist()], dtype=np.float64)
    threshold = project.review_confidence_threshold
    run = (
        box_run(loaded.table, gold=loaded.gold, min_overlap=1, review_threshold=threshold, weights=weights)
        if loaded.table.n_items
        else None
    )
    consensus = _item_consensus(run, loaded.label_values, loaded.table.n_items) if run is not None else []
    position = {pk: i for i, pk in enumerate(loaded.item_ids.tolist())}
    out = []
    for pk, status in items:
        i = position.get(pk)
        if i is None or run is None:
            out.append(StructuredItemConsensus(pk, status, None, None, False, [], 0.0, False))
            continue
        reasons = [REASONS[r] for r in np.flatnonzero(run.item_reasons[i]).tolist()]
        out.append(
            StructuredItemConsensus(
                item_id=pk,
                status=status,
                consensus=consensus[i],
                confidence=_none(run.item_confidence[i]),
                is_issue=bool(run.is_issue[i]),
                reasons=reasons,
                severity=float(run.severity[i]),
                route=bool(run.is_issue[i]),
            )
        )
    return out
