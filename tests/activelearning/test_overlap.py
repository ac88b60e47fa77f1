import numpy as np
import pytest

from activelearning.overlap import additional_annotations


def test_items_below_k_need_the_rest_of_k():
    votes = np.array([[0, 0], [1, 0], [1, 1]])
    np.testing.assert_array_equal(additional_annotations(votes=votes, k=3, max_k=5), [3, 2, 1])


def test_majority_at_k_is_done_and_disagreement_asks_one_more_up_to_max_k():
    votes = np.array(
        [
            [2, 1, 0],  # majority 2/3 → done
            [1, 1, 1],  # no majority → +1
            [2, 2, 0],  # tie at 4 → +1
            [2, 2, 1],  # 5 votes = max_k → stop even though unresolved
            [3, 2, 1],  # over max_k → 0, never negative
        ]
    )
    np.testing.assert_array_equal(additional_annotations(votes=votes, k=3, max_k=5), [0, 1, 1, 0, 0])


def test_required_share_near_one_demands_unanimity():
    votes = np.array([[2, 1], [3, 0]])
    np.testing.assert_array_equal(
        additional_annotations(votes=votes, k=3, max_k=5, required_share=0.99), [1, 0]
    )


def test_early_stop_at_two_agreeing_votes_with_confident_model():
    votes = np.array([[2, 0], [2, 0], [1, 1], [2, 0], [1, 0]])
    proba = np.array([[0.95, 0.05], [0.6, 0.4], [0.95, 0.05], [0.05, 0.95], [0.99, 0.01]])
    needed = additional_annotations(votes=votes, k=3, max_k=5, model_proba=proba, early_stop=True)
    # agree + confident agreeing model → 0; model unsure → 1; humans disagree → 1; model confident in the
    # other label → 1; a single vote is never enough → 2
    np.testing.assert_array_equal(needed, [0, 1, 1, 1, 2])


def test_early_stop_off_ignores_the_model():
    votes = np.array([[2, 0]])
    proba = np.array([[0.99, 0.01]])
    assert additional_annotations(
        votes=votes, k=3, max_k=5, model_proba=proba, early_stop=False
    ).tolist() == [1]


def test_nan_model_row_is_not_confident():
    needed = additional_annotations(
        votes=np.array([[2, 0]]), k=3, max_k=5, model_proba=np.array([[np.nan, np.nan]]), early_stop=True
    )
    assert needed.tolist() == [1]


def test_invalid_k_raises():
    with pytest.raises(ValueError):
        additional_annotations(votes=np.zeros((1, 2)), k=4, max_k=3)
