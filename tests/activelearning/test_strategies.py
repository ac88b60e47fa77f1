import numpy as np
import pytest

from activelearning.strategies import (
    bald,
    cold_start,
    diverse_batch,
    entropy,
    least_confidence,
    margin,
    score,
    score_chunks,
    top_candidates,
)

# Three items: peaked-ish, certain, uniform.
PROBA = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_least_confidence_is_one_minus_top_probability():
    # 1 - 0.5, 1 - 1, 1 - 1/3
    np.testing.assert_allclose(least_confidence(proba=PROBA), [0.5, 0.0, 2 / 3])


def test_margin_is_one_minus_gap_between_top_two():
    # 1 - (0.5 - 0.3) = 0.8; 1 - (1 - 0) = 0; 1 - (1/3 - 1/3) = 1
    np.testing.assert_allclose(margin(proba=PROBA), [0.8, 0.0, 1.0])


def test_entropy_in_nats_with_zero_log_zero():
    # -(0.5 ln 0.5 + 0.3 ln 0.3 + 0.2 ln 0.2) = 0.346574 + 0.361192 + 0.321888 = 1.029653; 0; ln 3
    np.testing.assert_allclose(entropy(proba=PROBA), [1.029653, 0.0, np.log(3)], atol=1e-6)


def test_bald_of_two_confident_disagreeing_samples_is_ln2():
    # Given samples [1, 0] and [0, 1]: mean [0.5, 0.5] has entropy ln 2, each sample has entropy 0
    samples = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    np.testing.assert_allclose(bald(samples=samples), [np.log(2)])


def test_bald_matches_hand_computed_mutual_information():
    # Given samples [0.8, 0.2] and [0.4, 0.6]: H(mean=[0.6, 0.4]) = 0.673012,
    # H([0.8, 0.2]) = 0.500402, H([0.4, 0.6]) = 0.673012 → 0.673012 - (0.500402 + 0.673012) / 2 = 0.086305
    samples = np.array([[[0.8, 0.2]], [[0.4, 0.6]]])
    np.testing.assert_allclose(bald(samples=samples), [0.086305], atol=1e-6)


def test_bald_is_non_negative_and_exactly_zero_for_identical_samples():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(7, 500, 10))
    samples = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    assert (bald(samples=samples) >= 0).all()
    identical = np.broadcast_to(samples[0], samples.shape)
    assert np.all(bald(samples=identical) == 0.0)


def test_nan_probability_rows_score_nan_and_are_never_selected():
    proba = np.array([[0.5, 0.5], [np.nan, np.nan], [0.9, 0.1]])
    scores = entropy(proba=proba)
    assert np.isnan(scores[1])
    picked = top_candidates(chunks=iter([(0, scores)]), m=3)
    assert picked.indices.tolist() == [0, 2]


def test_score_dispatch_rejects_unknown_strategy():
    with pytest.raises(ValueError):
        score(strategy="magic", proba=PROBA)


def test_chunked_top_candidates_equal_full_sort():
    # Given a pool scored in 7 chunks
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1000, 4))
    weights = rng.normal(size=(4, 5))

    def predict(x: np.ndarray) -> np.ndarray:
        z = np.exp(x @ weights)
        return z / z.sum(axis=1, keepdims=True)

    # When the best 50 are taken chunk by chunk, excluding labelled rows 0..9
    chunks = score_chunks(features=features, strategy="margin", predict=predict, chunk_size=150)
    picked = top_candidates(chunks=chunks, m=50, exclude=np.arange(10))
    # Then they are the same rows as a full sort
    full = margin(proba=predict(features))
    full[:10] = -np.inf
    np.testing.assert_array_equal(picked.indices, np.argsort(-full, kind="stable")[:50])
    np.testing.assert_allclose(picked.scores, full[picked.indices])


def test_diversity_step_never_returns_duplicates_even_with_duplicate_features():
    # Given 30 candidates that are only 3 distinct points, and repeated candidate indices
    features = np.repeat(np.eye(3), 10, axis=0)
    candidates = np.concatenate([np.arange(30), np.arange(5)])
    for method in ("kmeans++", "coreset"):
        picked = diverse_batch(features=features, candidates=candidates, batch_size=12, method=method)
        assert len(picked) == 12
        assert len(np.unique(picked)) == 12
        # the first three picks cover the three distinct points
        assert len({tuple(features[i]) for i in picked[:3]}) == 3


def test_coreset_picks_farthest_point_from_labelled_set():
    # Given candidates on a line at 1, 2, 9, 10 and a labelled point at 0
    features = np.array([[1.0], [2.0], [9.0], [10.0]])
    picked = diverse_batch(
        features=features,
        candidates=np.arange(4),
        batch_size=2,
        method="coreset",
        labelled_features=np.array([[0.0]]),
    )
    # Then 10 comes first (10 from 0); then nearest-centre distances are 1→1, 2→2, 9→1, so 2 comes next
    assert picked.tolist() == [3, 1]


def test_cold_start_covers_separated_clusters():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]])
    features = np.repeat(centres, 250, axis=0) + rng.normal(size=(1000, 2))
    features[5] = np.nan  # an item whose feature extraction failed
    picked = cold_start(features=features, batch_size=4, seed=0)
    assert len(np.unique(picked)) == 4
    assert 5 not in picked
    assert sorted(picked // 250) == [0, 1, 2, 3]
