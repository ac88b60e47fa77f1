"""Pure helpers of the Django side: priority bands, vote arrays, ActiveLab wrapper, chart geometry (no database)."""

import numpy as np
import pytest

from activelearning import priority
from activelearning.charts import learning_curve_chart
from activelearning.relabel import activelab_scores, vote_counts, votes_matrix


def test_bands_put_extra_annotations_above_started_above_pool():
    # Given items with 0, 1 and 3 annotations, targets 3, 3 and 4, with k = 3
    band = priority.bands(annotation_count=np.array([0, 1, 3, 2]), target=np.array([3, 3, 4, 2]), k=3)
    # Then: untouched → pool, partway → started, beyond k → extra; a lowered target (2 < k) is still "started"
    assert band.tolist() == [
        priority.BAND_POOL,
        priority.BAND_STARTED,
        priority.BAND_EXTRA,
        priority.BAND_STARTED,
    ]


def test_normalised_scores_divide_by_the_strategy_range_and_stay_inside_the_band():
    # entropy of K=4 classes ranges over [0, log 4]; NaN (unreadable content) becomes 0; 1.0 is capped below 1
    values = priority.normalised(
        scores=np.array([np.log(4), np.log(4) / 2, np.nan]), strategy="entropy", n_classes=4
    )
    assert values.tolist() == pytest.approx([priority.TOP, 0.5, 0.0])
    # least confidence of K=2 ranges over [0, 0.5]
    assert priority.normalised(scores=np.array([0.25]), strategy="least_confidence", n_classes=2)[
        0
    ] == pytest.approx(0.5)
    assert priority.priorities(band=np.array([1, 3]), within=np.array([0.25, 7.0])).tolist() == pytest.approx(
        [1.25, 3 + priority.TOP]
    )


def test_rank_within_is_strictly_decreasing_inside_zero_one():
    assert priority.rank_within(3).tolist() == pytest.approx([3 / 4, 2 / 4, 1 / 4])


def test_vote_counts_and_matrix_skip_votes_without_a_label():
    # Given 5 votes on 2 items by 3 annotators; the -1 vote was unsure
    item_index = np.array([0, 0, 0, 1, 1])
    annotator = np.array([0, 1, 2, 0, 2])
    labels = np.array([1, 1, -1, 0, 2])
    # Then counts per class and the items × annotators matrix hold the 4 usable votes
    assert vote_counts(item_index=item_index, labels=labels, n_items=2, n_classes=3).tolist() == [
        [0, 2, 0],
        [1, 0, 1],
    ]
    matrix = votes_matrix(
        item_index=item_index, annotator_index=annotator, labels=labels, n_items=2, n_annotators=3
    )
    assert np.array_equal(matrix, np.array([[1, 1, np.nan], [0, np.nan, 2]]), equal_nan=True)


def test_activelab_ranks_a_split_item_below_a_unanimous_one_and_skips_rows_without_votes():
    # Given a unanimous item the model agrees with, a 1–1 split the model is unsure about, and an item with no vote
    votes = np.array([[0, 0], [0, 1], [np.nan, np.nan]])
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.5, 0.5]])
    scores = activelab_scores(votes=votes, pred_probs=proba)
    # Then the split one is more worth another label (lower score) and the vote-less row has no score
    assert scores[1] < scores[0]
    assert np.isnan(scores[2])


def test_learning_curve_chart_maps_extremes_to_the_plot_corners():
    chart = learning_curve_chart(
        curve=[{"n": 10, "accuracy": 0.6}, {"n": 100, "accuracy": 0.8}],
        projection=[{"factor": 10, "n": 1000, "accuracy": 0.9}],
    )
    # x is log-scaled between 10 and 1000 labels, so 100 labels sits in the middle
    left, right = chart["left"], chart["right"]
    assert [p["x"] for p in chart["solid"]] == pytest.approx([left, (left + right) / 2], abs=0.1)
    assert chart["dashed"][0]["x"] == pytest.approx(right, abs=0.1)
    # the lowest accuracy is below the highest one on screen (SVG y grows downwards)
    assert chart["solid"][0]["y"] > chart["solid"][1]["y"] > chart["dashed"][0]["y"]
    assert learning_curve_chart(curve=[], projection=[]) is None
