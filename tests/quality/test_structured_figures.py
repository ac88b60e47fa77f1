"""Intervals, HLP and error analysis of structured kinds (``quality.metrics.structured_figures``): hand-computed
small cases, the bootstrap's ordering and shrinking, and one interval against a direct numpy resample."""

from __future__ import annotations

import numpy as np
import pytest

from quality.metrics.structured_figures import (
    FigureInterval,
    PairRatios,
    f1_hlp,
    leave_one_out_units,
    pair_ratio_figures,
    tag_error_rows,
)

# Item 0: annotators A, B, C; item 1: A, B; item 2: A alone. Units u1..u4 (u3, u4 of label 1, others label 0).
ANSWER_ITEM = np.array([0, 0, 0, 1, 1, 2])  # answers: A0, B0, C0, A1, B1, A2
ANSWER_GROUP = np.array([0, 1, 1, 0, 1, 0])  # A under guideline version index 0, B and C under 1
MARKS = [  # (answer, unit, label)
    (0, 1, 0),
    (0, 2, 0),
    (1, 1, 0),
    (1, 3, 1),
    (2, 1, 0),
    (3, 4, 1),
    (5, 5, 0),
]


def _judgements():
    marks = np.array(MARKS)
    return leave_one_out_units(
        answer_item=ANSWER_ITEM,
        answer_group=ANSWER_GROUP,
        mark_answer=marks[:, 0],
        mark_unit=marks[:, 1],
        mark_label=marks[:, 2],
        n_labels=2,
    )


def test_leave_one_out_units_score_each_answer_against_the_others_majority_leaving_ties_out():
    j = _judgements()
    # A0: u1 held by both others (matched), u2 by none (own, unmatched), u3 by one of two others (a tie: out)
    assert j.own[0].tolist() == [2, 0] and j.ref[0].tolist() == [1, 0] and j.matched[0].tolist() == [1, 0]
    # B0: u1 matched, u3 its own alone; u2 a tie
    assert j.own[1].tolist() == [1, 1] and j.ref[1].tolist() == [1, 0] and j.matched[1].tolist() == [1, 0]
    # C0: u1 matched; u2 and u3 ties
    assert j.own[2].tolist() == [1, 0] and j.ref[2].tolist() == [1, 0] and j.matched[2].tolist() == [1, 0]
    # Item 1 (one other each): A1's u4 is not B's; B1's reference is A's u4
    assert j.own[3].tolist() == [0, 1] and j.ref[3].tolist() == [0, 0] and j.matched[3].tolist() == [0, 0]
    assert j.own[4].tolist() == [0, 0] and j.ref[4].tolist() == [0, 1]
    # A2 alone on its item: no reference
    assert j.valid.tolist() == [True, True, True, True, True, False]


def test_f1_hlp_averages_judgement_f1s_overall_per_label_tag_and_guideline_version():
    hlp = f1_hlp(
        consensus=_judgements(), gold=None, n_items=3, n_groups=2, tags={"t": np.array([0])}, n_boot=0
    ).consensus
    # F1 per judgement: A0 2/3, B0 2/3, C0 1, A1 0, B1 0
    assert hlp.overall.value == pytest.approx(7 / 15)
    assert hlp.overall.n == 5 and hlp.overall.n_items == 2
    # Label 0: A0 2·1/(2+1), B0 1, C0 1; label 1: B0, A1, B1 all 0
    assert hlp.per_label[0].value == pytest.approx(8 / 9) and hlp.per_label[0].n == 3
    assert hlp.per_label[1].value == pytest.approx(0.0) and hlp.per_label[1].n == 3
    assert hlp.per_tag["t"].value == pytest.approx(7 / 9)
    assert hlp.per_group[0].value == pytest.approx(1 / 3)
    assert hlp.per_group[1].value == pytest.approx(5 / 9)


def test_both_empty_answers_agree_fully():
    j = leave_one_out_units(
        answer_item=np.array([0, 0]),
        answer_group=np.zeros(2, dtype=np.int64),
        mark_answer=np.zeros(0, dtype=np.int64),
        mark_unit=np.zeros(0, dtype=np.int64),
        mark_label=np.zeros(0, dtype=np.int64),
        n_labels=1,
    )
    hlp = f1_hlp(consensus=j, gold=None, n_items=1, n_groups=1, n_boot=0).consensus
    assert hlp.overall.value == 1.0


def _ratios(rng: np.random.Generator, n_items: int, n_pairs: int = 3, n_labels: int = 2) -> PairRatios:
    item = np.repeat(np.arange(n_items), n_pairs * n_labels)
    pair = np.tile(np.repeat(np.arange(n_pairs), n_labels), n_items)
    label = np.tile(np.arange(n_labels), n_items * n_pairs)
    den = rng.integers(0, 5, item.size)
    num = 2 * rng.binomial(den // 2 + 1, 0.7)
    num = np.minimum(num, den)
    return PairRatios(
        item=item,
        pair=pair,
        label=label,
        num=num.astype(float),
        den=den.astype(float),
        n_items=n_items,
        n_pairs=n_pairs,
        n_labels=n_labels,
        kept=np.array([True, True, False])[:n_pairs],
    )


def _direct_figure(r: PairRatios, items: np.ndarray) -> float:
    """Mean over kept pairs of Σ num ÷ Σ den over the drawn items, recomputed from the rows."""
    values = []
    for p in np.flatnonzero(r.kept):
        num = den = 0.0
        for i in items:
            rows = (r.item == i) & (r.pair == p)
            num += r.num[rows].sum()
            den += r.den[rows].sum()
        if den > 0:
            values.append(num / den)
    return float(np.mean(values)) if values else float("nan")


def test_pair_figure_and_interval_equal_a_direct_numpy_resample():
    rng = np.random.default_rng(5)
    ratios = _ratios(rng, n_items=12)
    overall, _ = pair_ratio_figures(ratios, n_boot=50, seed=3)
    assert overall.value == pytest.approx(_direct_figure(ratios, np.arange(12)))
    # The documented scheme: n_boot rows of n_items draws with replacement from default_rng(seed)
    draws = np.random.default_rng(3).integers(0, 12, size=(50, 12))
    samples = np.array([_direct_figure(ratios, row) for row in draws])
    low, high = np.percentile(samples, [2.5, 97.5])
    assert overall.low == pytest.approx(low, abs=1e-12)
    assert overall.high == pytest.approx(high, abs=1e-12)


def test_intervals_hold_the_point_and_shrink_with_more_items():
    rng = np.random.default_rng(0)
    small = _ratios(rng, n_items=20)
    large = _ratios(rng, n_items=400)
    widths = []
    for ratios in (small, large):
        overall, labels = pair_ratio_figures(ratios, n_boot=200, seed=0)
        for fig in [overall, *labels]:
            assert fig.low <= fig.value <= fig.high
        widths.append(overall.high - overall.low)
    assert widths[1] < widths[0] / 2
    # Seeded: the same seed gives the same interval
    again, _ = pair_ratio_figures(large, n_boot=200, seed=0)
    assert again == pair_ratio_figures(large, n_boot=200, seed=0)[0]


def test_pooled_figure_is_the_ratio_of_sums_over_kept_pairs():
    ratios = PairRatios(
        item=np.array([0, 0, 1]),
        pair=np.array([0, 1, 0]),
        label=np.array([0, 0, 0]),
        num=np.array([0.9, 0.7, 1.6]),
        den=np.array([1.0, 1.0, 2.0]),
        n_items=2,
        n_pairs=2,
        n_labels=1,
        kept=np.array([True, True]),
    )
    overall, _ = pair_ratio_figures(ratios, pooled=True, n_boot=0)
    assert overall.value == pytest.approx(3.2 / 4)


def test_tag_rows_give_items_figure_interval_and_share_routed_weakest_first():
    hlp = f1_hlp(
        consensus=_judgements(),
        gold=None,
        n_items=3,
        n_groups=2,
        tags={"night": np.array([0]), "day": np.array([1, 2])},
        n_boot=0,
    ).consensus
    rows = tag_error_rows(
        tags={"night": np.array([0]), "day": np.array([1, 2])},
        figure={"night": FigureInterval(0.9, 0.8, 0.95), "day": FigureInterval(0.5, 0.3, 0.7)},
        hlp=hlp,
        route=np.array([True, False, True]),
        n_items=3,
    )
    assert [r["tag"] for r in rows] == ["day", "night"]
    day = rows[0]
    assert day["n_items"] == 2 and day["share_of_data"] == pytest.approx(2 / 3)
    assert day["f1"] == 0.5 and day["f1_ci"] == [0.3, 0.7]
    assert day["share_routed"] == pytest.approx(0.5) and day["n_routed"] == 1
    assert day["hlp"] == pytest.approx(0.0)  # A1 and B1 both score 0
    assert rows[1]["hlp"] == pytest.approx(7 / 9)
    assert day["model_f1"] is None
