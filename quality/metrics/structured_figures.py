"""Intervals, human-level performance and error analysis for kinds whose answers are structured (spans, boxes).

The kind supplies per-item sufficient statistics — for each item and annotator pair the numerator and
denominator of a pairwise figure (``2 × matches`` and ``spans of both`` for a span F1), for each judgement its
own, reference and matched units per label — and everything here is sums over items: a bootstrap resample is an
item multiplicity vector (``quality.metrics.bootstrap``), so no match is recomputed per resample and the cost
stays linear in the items.

* **Pairwise figures** (:class:`PairRatios`): per annotator pair ``Σ num ÷ Σ den`` over the items both
  answered, then the mean over the pairs that count (``kept``, e.g. sharing enough items) and have a non-empty
  denominator — or, ``pooled``, ``Σ num ÷ Σ den`` over those pairs (a mean matched IoU).
* **HLP** (:func:`f1_hlp`): each judgement (one annotator's answer on one item) is scored by its F1 against a
  reference, ``2 × matched ÷ (own + reference)``, 1 when both are empty ("nothing" twice agrees); judgements
  weigh equally, as in the class HLP (``quality.metrics.hlp``), where the F1 of a one-class answer is its
  accuracy. The leave-one-out reference comes from :func:`leave_one_out_units`.
* **Error analysis by tag** (:func:`tag_error_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from quality.metrics.bootstrap import (
    ConfidenceInterval,
    percentile_interval,
    resample_weights,
    weighted_sums,
)
from quality.metrics.hlp import HlpSlices, slices_from_item_sums

__all__ = [
    "FigureInterval",
    "Judgements",
    "PairRatios",
    "StructuredHlp",
    "bootstrap_sums_ci",
    "f1_hlp",
    "leave_one_out_units",
    "pair_ratio_figures",
    "tag_error_rows",
]


def bootstrap_sums_ci(
    *,
    stats: np.ndarray | sparse.spmatrix,
    statistic: Callable[[np.ndarray], np.ndarray],
    units: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> ConfidenceInterval:
    """Percentile interval of ``statistic(sums)`` where ``sums`` (``(b, s)``) are the resampled item sums of
    ``stats`` (``(n_items, s)``, dense or sparse) and ``statistic`` returns ``(b,)`` or ``(b, k)``; nan samples are
    ignored per component.

    Raises:
        ValueError: if ``level`` is not in (0, 1) or ``n_boot < 1``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    parts = [
        np.asarray(statistic(np.asarray(weighted_sums(weights, stats))), dtype=np.float64)
        for weights in resample_weights(n_items=stats.shape[0], units=units, n_boot=n_boot, seed=seed)
    ]
    return percentile_interval(np.concatenate(parts, axis=0), level, n_boot)


@dataclass(frozen=True)
class FigureInterval:
    """A figure, its percentile interval (nan where undefined) and the bootstrap that made it."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"value": self.value, "ci": [self.low, self.high]}


def _nanmean_rows(values: np.ndarray, keep: np.ndarray, axis: int) -> np.ndarray:
    counted = keep & np.isfinite(values)
    total = np.where(counted, values, 0.0).sum(axis=axis)
    n = counted.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


@dataclass(frozen=True)
class PairRatios:
    """Per (item, annotator pair, label) row: the numerator and denominator one item adds to a pair's figure.

    ``pair`` indexes the project's annotator pairs (``n_pairs``), ``kept`` says which pairs count in the means;
    ``label`` is each row's label (``n_labels``), for the per-label figures."""

    item: np.ndarray
    pair: np.ndarray
    label: np.ndarray
    num: np.ndarray
    den: np.ndarray
    n_items: int
    n_pairs: int
    n_labels: int
    kept: np.ndarray

    def stats(self) -> sparse.csr_matrix:
        """``(n_items, 2 × n_pairs × n_labels)``: numerators then denominators per (pair, label) column."""
        cells = self.n_pairs * self.n_labels
        col = self.pair * self.n_labels + self.label
        return sparse.csr_matrix(
            (
                np.r_[self.num, self.den].astype(np.float64),
                (np.r_[self.item, self.item], np.r_[col, col + cells]),
            ),
            shape=(self.n_items, 2 * cells),
        )

    def figures(self, sums: np.ndarray, *, pooled: bool) -> np.ndarray:
        """``(b, 1 + n_labels)`` overall and per-label figures from ``(b, 2 × n_pairs × n_labels)`` sums."""
        b, cells = sums.shape[0], self.n_pairs * self.n_labels
        num = sums[:, :cells].reshape(b, self.n_pairs, self.n_labels)
        den = sums[:, cells:].reshape(b, self.n_pairs, self.n_labels)
        kept = self.kept[None, :]
        if pooled:
            keep = kept[:, :, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                overall = (num * keep).sum(axis=(1, 2)) / (den * keep).sum(axis=(1, 2))
                per_label = (num * keep).sum(axis=1) / (den * keep).sum(axis=1)
            overall = np.where(np.isfinite(overall), overall, np.nan)
            per_label = np.where(np.isfinite(per_label), per_label, np.nan)
            return np.column_stack([overall, per_label])
        pair_num, pair_den = num.sum(axis=2), den.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            pair_value = pair_num / pair_den
            label_value = num / den
        overall = _nanmean_rows(pair_value, kept & (pair_den > 0), axis=1)
        per_label = _nanmean_rows(label_value, kept[:, :, None] & (den > 0), axis=1)
        return np.column_stack([overall, per_label])


def pair_ratio_figures(
    ratios: PairRatios,
    *,
    pooled: bool = False,
    units: np.ndarray | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[FigureInterval, list[FigureInterval]]:
    """The figure overall and per label on the items ``units`` (default: all), with item-bootstrap intervals
    (none when ``n_boot`` is 0 or no item is in ``units``)."""
    stats = ratios.stats()
    mask = np.ones(ratios.n_items) if units is None else np.bincount(units, minlength=ratios.n_items)
    point = ratios.figures(np.asarray(weighted_sums(mask[None, :].astype(np.float64), stats)), pooled=pooled)[
        0
    ]
    n_units = ratios.n_items if units is None else int(np.asarray(units).size)
    if n_boot > 0 and n_units:
        interval = bootstrap_sums_ci(
            stats=stats,
            statistic=lambda sums: ratios.figures(sums, pooled=pooled),
            units=units,
            n_boot=n_boot,
            seed=seed,
            level=level,
        )
        low, high = np.asarray(interval.low), np.asarray(interval.high)
    else:
        low = high = np.full(point.size, np.nan)
    out = [
        FigureInterval(
            value=float(v),
            low=float(lo) if np.isfinite(v) else float("nan"),
            high=float(hi) if np.isfinite(v) else float("nan"),
        )
        for v, lo, hi in zip(point, low, high, strict=True)
    ]
    return out[0], out[1:]


# --- human-level performance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgements:
    """One row per judgement (an annotator's answer on an item): its ``item`` and ``group`` (guideline version
    index, -1 unknown), whether a reference can score it (``valid``), and per label its own units, the reference's
    units and the units both share (``(n_judgements, n_labels)`` counts)."""

    item: np.ndarray
    group: np.ndarray
    valid: np.ndarray
    own: np.ndarray
    ref: np.ndarray
    matched: np.ndarray


def leave_one_out_units(
    *,
    answer_item: np.ndarray,
    answer_group: np.ndarray,
    mark_answer: np.ndarray,
    mark_unit: np.ndarray,
    mark_label: np.ndarray,
    n_labels: int,
) -> Judgements:
    """Each answer against the majority of the *other* answers on its item.

    A mark says answer ``mark_answer`` holds unit ``mark_unit`` (a unit id is unique across items: an exact span,
    a cluster of matched boxes) of label ``mark_label``. Precondition: an answer marks a unit at most once (one
    answer never holds the same span twice, nor two boxes of one cluster).
    For an answer on an item with ``n`` answers, a unit is in the others' consensus when more than half of the
    ``n − 1`` others marked it; a unit exactly half of them marked is a tie and is left out on both sides, so the
    judgement is scored on the units the others settled. Answers alone on their item are not valid.
    """
    n_answers = int(answer_item.size)
    k = max(n_labels, 1)
    per_item = np.bincount(answer_item, minlength=int(answer_item.max(initial=-1)) + 1)
    others = per_item[answer_item] - 1
    units, unit_index, count = np.unique(mark_unit, return_inverse=True, return_counts=True)
    unit_index = unit_index.ravel()
    mark_others = others[mark_answer]
    # Integers only: "more than half of the others" is 2 × votes > others.
    in_ref = 2 * (count[unit_index] - 1) > mark_others
    tied = 2 * (count[unit_index] - 1) == mark_others
    key = mark_answer * k + mark_label

    def per_answer(flag: np.ndarray) -> np.ndarray:
        return np.bincount(key[flag], minlength=n_answers * k).reshape(n_answers, k)

    own = per_answer(~tied)
    matched = per_answer(in_ref)
    # The item's units the others' majority holds: those not marked by this answer need count > half of
    # others; those it marked need count − 1 > half of others.
    unit_item = np.zeros(units.size, dtype=np.int64)
    unit_label = np.zeros(units.size, dtype=np.int64)
    unit_item[unit_index] = answer_item[mark_answer]
    unit_label[unit_index] = mark_label
    item_answers = per_item[unit_item]
    n_items = per_item.size
    # Units by how many votes they have, per item and label: the reference size for an answer that did not mark
    # them is the number of units whose count beats half of the answer's others (others = item's answers − 1,
    # the same for every answer of the item).
    unmarked_in = 2 * count > item_answers - 1
    item_ref = np.bincount(
        unit_item[unmarked_in] * k + unit_label[unmarked_in], minlength=n_items * k
    ).reshape(n_items, k)
    marked_in_if_unmarked = per_answer(2 * count[unit_index] > mark_others)
    ref = item_ref[answer_item] - marked_in_if_unmarked + matched
    return Judgements(
        item=answer_item,
        group=answer_group,
        valid=others >= 1,
        own=own,
        ref=ref,
        matched=matched,
    )


def judgement_f1(own: np.ndarray, ref: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """F1 per row, 1.0 where neither side has a unit."""
    total = own + ref
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * matched / np.maximum(total, 1), 1.0)


@dataclass(frozen=True)
class StructuredHlp:
    consensus: HlpSlices
    gold: HlpSlices | None


def _item_sums(
    j: Judgements, n_items: int, n_groups: int, tag_masks: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, object]]]:
    valid = j.valid
    item = j.item[valid]
    f1 = judgement_f1(j.own.sum(axis=1), j.ref.sum(axis=1), j.matched.sum(axis=1))[valid]
    nums: list[np.ndarray] = []
    dens: list[np.ndarray] = []
    keys: list[tuple[str, object]] = []

    def by_item(values: np.ndarray, weight: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.bincount(rows, weights=values * weight, minlength=n_items),
            np.bincount(rows, weights=weight.astype(np.float64), minlength=n_items),
        )

    one = np.ones(item.size)
    num, den = by_item(f1, one, item)
    nums.append(num[:, None])
    dens.append(den[:, None])
    keys.append(("overall", 0))
    own, ref, matched = j.own[valid], j.ref[valid], j.matched[valid]
    for label in range(own.shape[1]):
        present = (own[:, label] + ref[:, label]) > 0
        label_f1 = judgement_f1(own[:, label], ref[:, label], matched[:, label])
        num, den = by_item(label_f1, present.astype(np.float64), item)
        nums.append(num[:, None])
        dens.append(den[:, None])
        keys.append(("label", label))
    group = j.group[valid]
    for g in range(n_groups):
        num, den = by_item(f1, (group == g).astype(np.float64), item)
        nums.append(num[:, None])
        dens.append(den[:, None])
        keys.append(("group", g))
    overall_num, overall_den = nums[0][:, 0], dens[0][:, 0]
    for name, mask in tag_masks.items():
        nums.append((overall_num * mask)[:, None])
        dens.append((overall_den * mask)[:, None])
        keys.append(("tag", name))
    return np.hstack(nums), np.hstack(dens), keys


def f1_hlp(
    *,
    consensus: Judgements,
    gold: Judgements | None,
    n_items: int,
    n_groups: int,
    tags: dict[str, np.ndarray] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> StructuredHlp:
    """HLP as a mean judgement F1, against the leave-one-out consensus and against gold, overall, per label
    (judgements where either side has a unit of the label), per guideline version (``group``) and per tag (``tags``
    maps a name to item indices), with item-bootstrap intervals as in ``quality.metrics.hlp``."""
    masks = {}
    for name, items in (tags or {}).items():
        mask = np.zeros(n_items, dtype=bool)
        mask[np.asarray(items, dtype=np.int64)] = True
        masks[name] = mask

    def slices(j: Judgements) -> HlpSlices:
        num, den, keys = _item_sums(j, n_items, n_groups, masks)
        return slices_from_item_sums(num, den, keys, n_boot=n_boot, seed=seed, level=level)

    return StructuredHlp(consensus=slices(consensus), gold=None if gold is None else slices(gold))


# --- error analysis by tag --------------------------------------------------------------------------------------


def tag_error_rows(
    *,
    tags: dict[str, np.ndarray],
    figure: dict[str, FigureInterval],
    hlp: HlpSlices | None,
    route: np.ndarray,
    n_items: int,
    model_f1: dict | None = None,
) -> list[dict]:
    """One row per tag: its items, the kind's figure on them with its interval, the HLP there, the share of
    the project's items it holds and the share of its items routed to review; weakest figure first (undefined
    last). ``model_f1`` (tag → F1), when a model has one, adds the model's F1 and the gap to HLP."""
    rows = []
    for name, items in tags.items():
        items = np.asarray(items, dtype=np.int64)
        fig = figure[name]
        human = None if hlp is None else hlp.per_tag.get(name)
        model = None if model_f1 is None else model_f1.get(name)
        row = {
            "tag": name,
            "n_items": int(items.size),
            "share_of_data": items.size / n_items if n_items else float("nan"),
            "f1": fig.value,
            "f1_ci": [fig.low, fig.high],
            "hlp": None if human is None else human.value,
            "hlp_ci": None if human is None else [human.ci_low, human.ci_high],
            "share_routed": float(route[items].mean()) if items.size else float("nan"),
            "n_routed": int(route[items].sum()),
            "model_f1": model,
            "gap": None if model is None or human is None else 100.0 * (human.value - model),
        }
        rows.append(row)
    return sorted(rows, key=lambda r: (not np.isfinite(r["f1"]), np.nan_to_num(r["f1"])))
