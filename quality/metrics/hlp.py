"""Human-level performance (HLP): how often one annotator matches a reference, overall and by slice.

HLP against consensus is the expected accuracy of one human against the majority vote of the *other*
annotators of the same item (``reference.leave_one_out_majority``); tied or missing references exclude the
judgement (counted in ``n_ties``). HLP against gold is the accuracy of annotations on items with a gold label.

Every annotation is one judgement and judgements weigh equally, so the estimate answers "pick a random
annotation: how likely is it right?". The model is scored on exactly the same judgements — against the same
reference and with the same weights, as if it were one more annotator — so HLP and model accuracy are
comparable slice by slice. Slices: by reference label, by tag (``tags`` maps a tag name to item indices;
tags may overlap), by guideline version (``table.group``). Intervals come from an item-level bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quality.metrics.bootstrap import bootstrap_ratio_ci
from quality.metrics.reference import leave_one_out_majority
from quality.metrics.table import AnnotationTable

__all__ = [
    "Estimate",
    "HlpReport",
    "HlpResult",
    "HlpSlices",
    "LabelShortfall",
    "human_level_performance",
    "model_accuracy",
    "slices_from_item_sums",
]


@dataclass(frozen=True)
class Estimate:
    """An accuracy over ``n`` judgements on ``n_items`` items; ``value`` and the interval are nan if n == 0."""

    value: float
    n: int
    n_items: int
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class HlpSlices:
    overall: Estimate
    per_label: dict[int, Estimate]
    per_tag: dict[str, Estimate]
    per_group: dict[int, Estimate]


@dataclass(frozen=True)
class LabelShortfall:
    """``points_lost``: how much overall HLP (in accuracy points, 0–100) would rise if this label's
    judgements were all right — the label's share of judgements × (1 − its HLP) × 100."""

    label: int
    hlp: float
    n: int
    points_lost: float


@dataclass(frozen=True)
class HlpResult:
    """HLP against one reference (``"consensus"`` or ``"gold"``); ``model`` is None without predictions.

    ``human`` scores every judgement the reference can check; ``model`` only those whose item has a prediction.
    ``human_on_model_items`` is HLP on exactly the model's judgements, the figure to put beside the model's.
    """

    reference: str
    human: HlpSlices
    model: HlpSlices | None
    n_excluded_ties: int
    weakest_labels: list[LabelShortfall] = field(default_factory=list)
    human_on_model_items: HlpSlices | None = None


@dataclass(frozen=True)
class HlpReport:
    consensus: HlpResult
    gold: HlpResult | None
    summary: list[str]


def _validate_item_array(name: str, values: np.ndarray | None, table: AnnotationTable) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values)
    if values.shape != (table.n_items,) or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of shape ({table.n_items},)")
    if values.size and (values.min() < -1 or values.max() >= table.n_classes):
        raise ValueError(f"{name} values must be -1 (none) or a class in [0, {table.n_classes - 1}]")
    return values.astype(np.int64)


def _tag_masks(tags: dict[str, np.ndarray] | None, n_items: int) -> dict[str, np.ndarray]:
    masks = {}
    for name, items in (tags or {}).items():
        items = np.asarray(items)
        if items.ndim != 1 or (items.size and not np.issubdtype(items.dtype, np.integer)):
            raise ValueError(f"tag {name!r} must be a 1-D integer array of item indices")
        if items.size and (items.min() < 0 or items.max() >= n_items):
            raise ValueError(f"tag {name!r} holds item indices outside [0, {n_items - 1}]")
        mask = np.zeros(n_items, dtype=bool)
        mask[items] = True
        masks[name] = mask
    return masks


def _per_item_sums(
    table: AnnotationTable,
    hit: np.ndarray,
    valid: np.ndarray,
    ref: np.ndarray,
    tag_masks: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, object]]]:
    """Per-item hits and judgements for every slice, (n_items, S) each, plus the slice keys in column order."""
    n = table.n_items
    item = table.item[valid]
    hit_w = hit[valid].astype(np.float64)
    nums: list[np.ndarray] = []
    dens: list[np.ndarray] = []
    keys: list[tuple[str, object]] = []

    def by_code(codes: np.ndarray, n_codes: int, kind: str) -> None:
        flat = item * n_codes + codes
        nums.append(np.bincount(flat, weights=hit_w, minlength=n * n_codes).reshape(n, n_codes))
        dens.append(np.bincount(flat, minlength=n * n_codes).reshape(n, n_codes).astype(np.float64))
        keys.extend((kind, code) for code in range(n_codes))

    by_code(np.zeros(item.size, dtype=np.int64), 1, "overall")
    by_code(ref[valid], table.n_classes, "label")
    if table.group is not None and table.group.size:
        by_code(table.group[valid], int(table.group.max()) + 1, "group")
    overall_num, overall_den = nums[0][:, 0], dens[0][:, 0]
    for name, mask in tag_masks.items():
        # Tags are item-level, so a tag's per-item sums are the overall ones restricted to its items.
        nums.append((overall_num * mask)[:, None])
        dens.append((overall_den * mask)[:, None])
        keys.append(("tag", name))
    return np.hstack(nums), np.hstack(dens), keys


def slices_from_item_sums(
    num: np.ndarray, den: np.ndarray, keys: list[tuple[str, object]], *, n_boot: int, seed: int, level: float
) -> HlpSlices:
    """Estimates per slice from per-item sums ``num``/``den`` (``(n_items, S)``, column ``j`` the slice
    ``keys[j]``, the first being ``("overall", 0)``), with intervals from one item bootstrap shared by every
    slice."""
    totals_num, totals_den = num.sum(axis=0), den.sum(axis=0)
    n_items = (den > 0).sum(axis=0)
    units = np.flatnonzero(den[:, 0] > 0)
    if n_boot > 0 and units.size:
        interval = bootstrap_ratio_ci(
            numerator=num, denominator=den, units=units, n_boot=n_boot, seed=seed, level=level
        )
        low, high = np.asarray(interval.low), np.asarray(interval.high)
    else:
        low = high = np.full(len(keys), np.nan)
    grouped: dict[str, dict[Any, Estimate]] = {"overall": {}, "label": {}, "group": {}, "tag": {}}
    for j, (kind, name) in enumerate(keys):
        value = totals_num[j] / totals_den[j] if totals_den[j] > 0 else float("nan")
        defined = totals_den[j] > 0
        grouped[kind][name] = Estimate(
            value=float(value),
            n=int(totals_den[j]),
            n_items=int(n_items[j]),
            ci_low=float(low[j]) if defined else float("nan"),
            ci_high=float(high[j]) if defined else float("nan"),
        )
    return HlpSlices(
        overall=grouped["overall"][0],
        per_label=grouped["label"],
        per_tag=grouped["tag"],
        per_group=grouped["group"],
    )


def _weakest(slices: HlpSlices, n_weakest: int) -> list[LabelShortfall]:
    total = max(slices.overall.n, 1)
    rows = [
        LabelShortfall(label=c, hlp=e.value, n=e.n, points_lost=100.0 * e.n / total * (1.0 - e.value))
        for c, e in slices.per_label.items()
        if e.n > 0
    ]
    return sorted(rows, key=lambda r: (r.hlp, -r.n))[:n_weakest]


def _result(
    table: AnnotationTable,
    reference_name: str,
    ref: np.ndarray,
    n_ties: int,
    pred: np.ndarray | None,
    tag_masks: dict[str, np.ndarray],
    *,
    n_boot: int,
    seed: int,
    level: float,
    n_weakest: int,
) -> HlpResult:
    valid = ref >= 0
    human_num, human_den, keys = _per_item_sums(table, table.label == ref, valid, ref, tag_masks)
    human = slices_from_item_sums(human_num, human_den, keys, n_boot=n_boot, seed=seed, level=level)
    model = paired = None
    if pred is not None:
        predicted = pred[table.item]
        scored = valid & (predicted >= 0)
        model_num, model_den, _ = _per_item_sums(table, predicted == ref, scored, ref, tag_masks)
        model = slices_from_item_sums(model_num, model_den, keys, n_boot=n_boot, seed=seed, level=level)
        paired_num, paired_den, _ = _per_item_sums(table, table.label == ref, scored, ref, tag_masks)
        paired = slices_from_item_sums(paired_num, paired_den, keys, n_boot=n_boot, seed=seed, level=level)
    return HlpResult(
        reference=reference_name,
        human=human,
        model=model,
        n_excluded_ties=n_ties,
        weakest_labels=_weakest(human, n_weakest),
        human_on_model_items=paired,
    )


def _summary(result: HlpResult, label_names: list[str] | None) -> list[str]:
    def name(c: int) -> str:
        return label_names[c] if label_names else str(c)

    o = result.human.overall
    interval = f"95% CI {100 * o.ci_low:.1f}–{100 * o.ci_high:.1f}, " if np.isfinite(o.ci_low) else ""
    lines = [
        f"HLP vs {result.reference}: {100 * o.value:.1f}% ({interval}n={o.n} judgement{'s' if o.n != 1 else ''} on {o.n_items} item{'s' if o.n_items != 1 else ''})"
    ]
    if result.model is not None and result.human_on_model_items is not None and result.model.overall.n:
        m, h = result.model.overall, result.human_on_model_items.overall
        lines.append(
            f"Model vs {result.reference}: {100 * m.value:.1f}% against HLP {100 * h.value:.1f}% on the same "
            f"{m.n} judgement{'s' if m.n != 1 else ''} on {m.n_items} item{'s' if m.n_items != 1 else ''} "
            "(items with a prediction)"
        )
    if result.weakest_labels:
        named = ", ".join(
            f"{name(w.label)} {100 * w.hlp:.1f}% (−{w.points_lost:.1f} pts)" for w in result.weakest_labels
        )
        lines.append(f"Labels pulling HLP vs {result.reference} down: {named}")
    return lines


def human_level_performance(
    *,
    table: AnnotationTable,
    gold: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    tags: dict[str, np.ndarray] | None = None,
    label_names: list[str] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    n_weakest: int = 3,
) -> HlpReport:
    """HLP against leave-one-out consensus and (if ``gold`` is given) against gold, with model accuracy on the
    same judgements when ``pred`` is given.

    Preconditions: single-label ``table``; ``gold`` and ``pred`` are int ``(n_items,)`` with -1 for "none";
    ``tags`` maps names to 1-D int arrays of item indices; ``label_names`` (optional) has ``n_classes`` entries.

    Raises:
        ValueError: for multi-label tables, badly shaped or out-of-range ``gold``/``pred``/``tags``,
            ``label_names`` of the wrong length, or ``n_boot < 0``.
    """
    if table.multi_label:
        raise ValueError("HLP needs a single-label table; use table.one_vs_rest(c) per label")
    if n_boot < 0:
        raise ValueError("n_boot must be non-negative")
    if label_names is not None and len(label_names) != table.n_classes:
        raise ValueError(f"label_names must have {table.n_classes} entries")
    gold = _validate_item_array("gold", gold, table)
    pred = _validate_item_array("pred", pred, table)
    tag_masks = _tag_masks(tags, table.n_items)
    options: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "level": level, "n_weakest": n_weakest}
    loo = leave_one_out_majority(table=table)
    consensus = _result(table, "consensus", loo.label, int(loo.tie.sum()), pred, tag_masks, **options)
    gold_result = None
    if gold is not None:
        gold_result = _result(table, "gold", gold[table.item], 0, pred, tag_masks, **options)
    summary = _summary(consensus, label_names)
    if gold_result is not None:
        summary += _summary(gold_result, label_names)
    return HlpReport(consensus=consensus, gold=gold_result, summary=summary)


def model_accuracy(
    *,
    table: AnnotationTable,
    pred: np.ndarray,
    gold: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """Model accuracy on the judgements HLP uses: against gold where ``gold`` is given, else against the
    leave-one-out consensus. Items with ``pred == -1`` are left out (see ``n``).

    Raises:
        ValueError: as :func:`human_level_performance`.
    """
    report = human_level_performance(table=table, gold=gold, pred=pred, n_boot=n_boot, seed=seed, level=level)
    result = report.gold if report.gold is not None else report.consensus
    assert result.model is not None  # pred was given
    return result.model.overall
