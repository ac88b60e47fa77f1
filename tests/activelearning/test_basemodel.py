import numpy as np
import pytest
import torch
from sklearn.metrics import precision_score, recall_score

from activelearning.basemodel import BaseModel, TrainingConfig, out_of_sample_proba
from activelearning.strategies import bald


def blobs(n: int = 300, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    centres = rng.normal(scale=3.0, size=(n_classes, 8))
    return (centres[y] + rng.normal(size=(n, 8))).astype(np.float32), y


def test_same_seed_gives_identical_probabilities_and_leaves_global_rng_alone():
    X, y = blobs()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = BaseModel(config=TrainingConfig(seed=7)).fit(X, y, n_classes=3).predict_proba(X)
    after = torch.rand(1)
    second = BaseModel(config=TrainingConfig(seed=7)).fit(X, y, n_classes=3).predict_proba(X)
    other = BaseModel(config=TrainingConfig(seed=8)).fit(X, y, n_classes=3).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    assert torch.equal(before, after)


def test_thread_count_is_restored_after_training():
    X, y = blobs()
    threads = torch.get_num_threads()
    BaseModel(config=TrainingConfig(n_threads=1)).fit(X, y, n_classes=3)
    assert torch.get_num_threads() == threads


def test_linear_and_mlp_models_learn_separable_blobs():
    X, y = blobs()
    X_test, y_test = blobs(seed=0)[0][:150] + 0.1, y[:150]
    for hidden in (0, 64):
        model = BaseModel(config=TrainingConfig(hidden=hidden)).fit(X, y, n_classes=3)
        proba = model.predict_proba(X_test)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        assert (proba.argmax(axis=1) == y_test).mean() > 0.95


def test_chunked_prediction_equals_one_shot_and_nan_rows_stay_nan():
    X, y = blobs()
    model = BaseModel().fit(X, y, n_classes=3)
    pool = X.copy()
    pool[4] = np.nan
    chunked = model.predict_proba(pool, batch_size=7)
    whole = model.predict_proba(pool)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-7)
    assert np.isnan(chunked[4]).all() and np.isfinite(np.delete(chunked, 4, axis=0)).all()


def test_fit_rejects_non_finite_features():
    X, y = blobs()
    X[0, 0] = np.nan
    with pytest.raises(ValueError):
        BaseModel().fit(X, y, n_classes=3)


def test_mc_dropout_samples_vary_and_bald_is_zero_without_dropout():
    X, y = blobs(n=60)
    noisy = BaseModel(config=TrainingConfig(dropout=0.5)).fit(X, y, n_classes=3)
    samples = noisy.mc_dropout_proba(X, n_samples=5, batch_size=16)
    assert samples.shape == (5, 60, 3)
    assert bald(samples=samples).max() > 0
    chunks = list(noisy.mc_dropout_proba_chunks(X, n_samples=5, batch_size=16))
    assert [c.shape[1] for c in chunks] == [16, 16, 16, 12]
    deterministic = BaseModel(config=TrainingConfig(dropout=0.0)).fit(X, y, n_classes=3)
    assert np.all(bald(samples=deterministic.mc_dropout_proba(X, n_samples=5)) == 0.0)


def test_mc_dropout_samples_repeat_for_a_seed_and_differ_between_seeds():
    # Given a model with dropout
    X, y = blobs(n=60)
    model = BaseModel(config=TrainingConfig(dropout=0.3)).fit(X, y, n_classes=3)
    # When MC samples are drawn twice with one seed and once with another
    first, again = (model.mc_dropout_proba(X, n_samples=4, seed=7) for _ in range(2))
    other = model.mc_dropout_proba(X, n_samples=4, seed=8)
    # Then the seed fixes them, and each sample is a probability distribution per row
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_allclose(first.sum(axis=2), 1.0, rtol=1e-5)


def test_out_of_sample_probabilities_cover_every_row_and_sum_to_one():
    # Given a class with 1 member and one with 2, fewer than the 5 folds
    X, y = blobs(n=100)
    y = y.copy()
    y[0] = 3
    y[1:3] = 4
    result = out_of_sample_proba(X, y, n_classes=5, n_folds=5, seed=0)
    assert result.proba.shape == (100, 5)
    np.testing.assert_allclose(result.proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(result.fold.tolist()) == {0, 1, 2, 3, 4}
    assert result.fold[1] != result.fold[2]  # the two members of class 4 are held out separately
    # metrics agree with scikit-learn on the same predictions
    predicted = result.proba.argmax(axis=1)
    assert result.metrics.cv_accuracy == pytest.approx((predicted == y).mean())
    np.testing.assert_allclose(
        result.metrics.per_label_recall[:3], recall_score(y, predicted, labels=[0, 1, 2], average=None)
    )
    assert result.metrics.n_train == 100


def test_out_of_sample_with_fewer_rows_than_folds_uses_one_row_per_fold():
    X, y = blobs(n=3)
    result = out_of_sample_proba(X, y, n_classes=3, n_folds=5)
    assert result.metrics.n_folds == 3
    np.testing.assert_allclose(result.proba.sum(axis=1), 1.0, atol=1e-5)


def test_multi_label_model_gives_independent_sigmoid_probabilities():
    X, y = blobs()
    targets = np.stack([y == 0, y != 2], axis=1).astype(int)
    result = out_of_sample_proba(X, targets, n_classes=2, n_folds=3)
    assert result.proba.shape == (300, 2)
    assert ((result.proba >= 0) & (result.proba <= 1)).all()
    assert result.metrics.cv_accuracy > 0.95
    np.testing.assert_allclose(
        result.metrics.per_label_precision, precision_score(targets, result.proba >= 0.5, average=None)
    )
