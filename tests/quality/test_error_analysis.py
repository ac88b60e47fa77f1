"""Error analysis by tag."""

import numpy as np
import pytest

from quality.metrics.error_analysis import error_analysis, error_analysis_for_table
from quality.metrics.hlp import human_level_performance
from quality.metrics.table import AnnotationTable


def test_rows_report_shares_gap_and_gain_sorted_by_gain():
    # 10 items, 3 perfect annotators each (HLP = 1 everywhere); labels alternate 0/1.
    truth = np.arange(10) % 2
    table = AnnotationTable.from_dense(np.repeat(truth[:, None], 3, axis=1), n_classes=2)
    pred = truth.copy()
    pred[[0, 1]] = 1 - pred[[0, 1]]  # two wrong items, both in tag "noisy"
    pred[5] = 1 - pred[5]  # one wrong item in tag "clean"
    tags = {"noisy": np.array([0, 1, 2, 3]), "clean": np.arange(4, 10)}
    rows = error_analysis_for_table(table=table, pred=pred, tags=tags)
    assert [r.tag for r in rows] == ["noisy", "clean"]
    noisy, clean = rows
    # noisy: 4 of 10 items; model 2/4 right → gap 50 points; errors 2 of 3 (each item weighs 3 judgements)
    assert noisy.share_of_data == pytest.approx(0.4)
    assert noisy.model_accuracy == pytest.approx(0.5) and noisy.hlp == 1.0
    assert noisy.gap == pytest.approx(50.0)
    assert noisy.potential_gain == pytest.approx(20.0)  # 50 × 0.4
    assert noisy.share_of_errors == pytest.approx(2 / 3)
    # clean: 6 items, 1 wrong → accuracy 5/6, gap 16.67, gain 16.67 × 0.6 = 10
    assert clean.model_error_rate == pytest.approx(1 / 6)
    assert clean.potential_gain == pytest.approx(10.0)
    assert noisy.reading == "`noisy`: 40 % of data, gap 50.0 points → at most 20.00 points overall"


def test_model_above_hlp_has_zero_gain_and_says_so():
    # item pattern: 2 agree + 1 dissenter, so humans are imperfect while the model matches consensus.
    matrix = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 0]])
    table = AnnotationTable.from_dense(matrix, n_classes=2)
    rows = error_analysis_for_table(table=table, pred=np.array([0, 1, 0, 1]), tags={"all": np.arange(4)})
    assert rows[0].gap < 0 and rows[0].potential_gain == 0.0
    assert "little to gain" in rows[0].reading


def test_error_analysis_needs_model_predictions():
    table = AnnotationTable.from_dense(np.array([[0, 0], [1, 1]]), n_classes=2)
    hlp = human_level_performance(table=table, tags={"t": np.array([0])}, n_boot=0)
    with pytest.raises(ValueError):
        error_analysis(hlp=hlp.consensus)
