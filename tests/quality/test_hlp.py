"""Human-level performance: leave-one-out consensus, gold, slices, model side by side."""

import numpy as np
import pytest

from quality.metrics.hlp import human_level_performance, model_accuracy
from quality.metrics.reference import leave_one_out_majority, majority_vote
from quality.metrics.table import AnnotationTable

A, B = 0, 1
# item 0: A A B | item 1: A A A | item 2: B B - | item 3: A - - (no other annotator)
HAND = np.array([[A, A, B], [A, A, A], [B, B, -1], [A, -1, -1]])


def _table(matrix: np.ndarray, k: int = 2, group: np.ndarray | None = None) -> AnnotationTable:
    base = AnnotationTable.from_dense(matrix, n_classes=k)
    if group is None:
        return base
    return AnnotationTable(
        item=base.item,
        annotator=base.annotator,
        label=base.label,
        n_items=base.n_items,
        n_annotators=base.n_annotators,
        n_classes=k,
        group=group[base.item, base.annotator],
    )


def test_leave_one_out_majority_matches_brute_force_and_flags_ties():
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 3, (300, 6))
    matrix[rng.random(matrix.shape) < 0.35] = -1
    table = _table(matrix, k=3)
    reference = leave_one_out_majority(table=table)
    votes = table.counts()
    for j in range(table.n_annotations):
        others = votes[table.item[j]].copy()
        others[table.label[j]] -= 1
        tied = others.sum() > 0 and (others == others.max()).sum() > 1
        expected = -1 if others.sum() == 0 or tied else others.argmax()
        assert (reference.label[j], reference.tie[j]) == (expected, tied)


def test_hlp_hand_case_excludes_ties_and_lonely_annotations():
    report = human_level_performance(table=_table(HAND), n_boot=0)
    # item0: annotators 0 and 1 see others {A, B} → tie, excluded; annotator 2 (B) vs others {A, A} → wrong
    # item1: 3 right; item2: 2 right; item3: no other annotator → excluded. HLP = 5 / 6
    overall = report.consensus.human.overall
    assert (overall.value, overall.n, overall.n_items) == (pytest.approx(5 / 6), 6, 3)
    assert report.consensus.n_excluded_ties == 2
    # by reference label: ref A → item0 ann2 (wrong) + item1 ×3 (right) = 3/4; ref B → item2 ×2 = 2/2
    assert report.consensus.human.per_label[A].value == pytest.approx(3 / 4)
    assert report.consensus.human.per_label[B].value == 1.0
    assert [w.label for w in report.consensus.weakest_labels] == [A, B]
    assert report.consensus.weakest_labels[0].points_lost == pytest.approx(100 * 4 / 6 * (1 / 4))
    assert "Labels pulling HLP vs consensus down: 0 75.0%" in " ".join(report.summary)


def test_hlp_per_tag_per_group_and_model_on_the_same_judgements():
    group = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0]])
    pred = np.array([B, A, A, -1])  # item2 predicted wrong; item3 has no judgements anyway
    report = human_level_performance(
        table=_table(HAND, group=group),
        pred=pred,
        tags={"first_two": np.array([0, 1]), "third": np.array([2])},
        n_boot=0,
    )
    human, model = report.consensus.human, report.consensus.model
    assert human.per_tag["first_two"].value == pytest.approx(3 / 4)  # item0 ann2 wrong + item1 ×3 right
    assert human.per_tag["third"].value == 1.0
    # group 0: item1 ann0 (right); group 1: item0 ann2 (wrong), item1 ann1/ann2, item2 ann0/ann1 (right) → 4/5
    assert human.per_group[0].value == 1.0 and human.per_group[1].value == pytest.approx(4 / 5)
    # model judged on the same 6 judgements: item0 ref A vs pred B wrong; item1 3 right; item2 2 wrong → 3/6
    assert (model.overall.value, model.overall.n) == (pytest.approx(0.5), 6)
    assert model.per_tag["third"].value == 0.0
    assert model_accuracy(table=_table(HAND), pred=pred, n_boot=0).value == pytest.approx(0.5)


def test_hlp_against_gold_uses_only_gold_items():
    gold = np.array([B, -1, B, A])
    report = human_level_performance(table=_table(HAND), gold=gold, n_boot=0)
    # item0 gold B: 1 of 3 right; item2 gold B: 2 of 2; item3 gold A: 1 of 1 → 4/6
    assert report.gold.human.overall.value == pytest.approx(4 / 6)
    assert report.gold.human.overall.n_items == 3


def test_perfect_annotators_have_hlp_exactly_one_with_a_degenerate_interval():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 5, 500)
    matrix = np.repeat(truth[:, None], 4, axis=1)
    matrix[rng.random(matrix.shape) < 0.3] = -1
    report = human_level_performance(table=_table(matrix, k=5), gold=truth, n_boot=50)
    for result in (report.consensus, report.gold):
        overall = result.human.overall
        assert (overall.value, overall.ci_low, overall.ci_high) == (1.0, 1.0, 1.0)


def test_uniformly_random_annotators_have_hlp_near_one_over_k():
    # A random label is independent of the others' majority, so the expected hit rate is exactly 1/K.
    # ~20k non-tied judgements → binomial SD ≈ sqrt(0.25·0.75/20000) ≈ 0.003; 0.015 is ~5 SD.
    rng = np.random.default_rng(2)
    k = 4
    matrix = rng.integers(0, k, (8000, 5))
    report = human_level_performance(table=_table(matrix, k=k), n_boot=0)
    assert report.consensus.human.overall.n > 15000
    assert report.consensus.human.overall.value == pytest.approx(1 / k, abs=0.015)


def test_bootstrap_interval_brackets_estimate_and_is_seeded():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 400)
    matrix = np.where(rng.random((400, 5)) < 0.7, truth[:, None], rng.integers(0, 3, (400, 5)))
    table = _table(matrix, k=3)
    first = human_level_performance(table=table, n_boot=100, seed=5).consensus.human.overall
    second = human_level_performance(table=table, n_boot=100, seed=5).consensus.human.overall
    assert first.ci_low < first.value < first.ci_high
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)


def test_majority_vote_flags_ties_instead_of_picking_the_lowest_class():
    reference = majority_vote(table=_table(np.array([[A, B], [B, B], [-1, -1]])))
    assert reference.label.tolist() == [-1, B, -1]
    assert reference.tie.tolist() == [True, False, False]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gold": np.array([0, 1])},  # wrong length
        {"pred": np.array([0, 1, 2, 0])},  # class out of range
        {"tags": {"x": np.array([9])}},  # item out of range
        {"label_names": ["only one"]},
        {"n_boot": -1},
    ],
)
def test_bad_hlp_input_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        human_level_performance(table=_table(HAND), **kwargs)


def test_hlp_refuses_multi_label_tables():
    table = AnnotationTable(
        item=[0, 0],
        annotator=[0, 1],
        label=[[1, 0], [1, 1]],
        n_items=1,
        n_annotators=2,
        n_classes=2,
        multi_label=True,
    )
    with pytest.raises(ValueError):
        human_level_performance(table=table)
