"""The base model: a small torch MLP with dropout (``hidden=0`` is multinomial logistic regression).

Single-label (softmax, cross-entropy) or multi-label (sigmoid, binary cross-entropy, y as an (n, K) 0/1
matrix). Training is deterministic for a seed: every random draw happens inside a forked torch RNG, so the
global torch RNG is left untouched, and the thread count is set only for the duration of a call. MC-dropout
masks come from a numpy generator seeded the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from activelearning.model_metrics import ModelMetrics, metrics_from_proba


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters. ``batch_size`` rows per Adam step (full batch when n is smaller). When the
    validation slice has at least ``min_validation_rows`` rows, ``patience`` epochs without held-out
    improvement stop training and the model is refitted on all rows for the best epoch count, so no
    labelled row is wasted on validation; smaller sets train for ``max_epochs // 3`` epochs."""

    hidden: int = 128
    dropout: float = 0.2
    learning_rate: float = 1e-2
    weight_decay: float = 1e-2
    max_epochs: int = 300
    batch_size: int = 512
    patience: int = 20
    validation_fraction: float = 0.2
    # Below this many validation rows the early-stopping signal is noise (measured on load_digits: a fixed
    # max_epochs // 3 epochs beat a 20-row validation slice at 100 labels), so training runs that long.
    min_validation_rows: int = 100
    seed: int = 0
    # One thread by default: these matrices are small, and several Celery workers share the cores, where
    # torch's multi-threaded kernels spin and slow everything down. None leaves torch's setting alone.
    n_threads: int | None = 1


@dataclass(frozen=True)
class OutOfSample:
    proba: np.ndarray  # (n, K): each row predicted by a model that never saw it
    fold: np.ndarray  # (n,) fold index of each row
    metrics: ModelMetrics


@contextmanager
def _torch_session(seed: int, n_threads: int | None) -> Iterator[torch.Generator]:
    previous_threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # weight init and dropout masks draw from the global (forked) RNG
            yield torch.Generator().manual_seed(seed)
    finally:
        torch.set_num_threads(previous_threads)


def _require_finite(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError("X must be a 2-D array")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values (drop rows whose feature extraction failed)")
    return X


class BaseModel:
    """``fit`` then ``predict_proba`` / ``mc_dropout_proba`` / ``mc_dropout_summary``."""

    def __init__(self, *, config: TrainingConfig | None = None) -> None:
        self.config = config or TrainingConfig()
        self._network: nn.Sequential | None = None
        self._mean: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self.multi_label = False
        self.n_classes = 0

    def _build(self, n_features: int, n_classes: int) -> nn.Sequential:
        c = self.config
        if c.hidden == 0:  # dropout on the inputs keeps MC dropout meaningful for the linear model
            return nn.Sequential(nn.Dropout(c.dropout), nn.Linear(n_features, n_classes))
        return nn.Sequential(
            nn.Linear(n_features, c.hidden), nn.ReLU(), nn.Dropout(c.dropout), nn.Linear(c.hidden, n_classes)
        )

    def _targets(self, y: np.ndarray, n: int, n_classes: int) -> torch.Tensor:
        y = np.asarray(y)
        if y.ndim == 2:
            if y.shape != (n, n_classes) or not np.isin(y, (0, 1)).all():
                raise ValueError("multi-label y must be an (n, n_classes) 0/1 matrix")
            self.multi_label = True
            return torch.from_numpy(y.astype(np.float32))
        if y.shape != (n,) or y.min(initial=0) < 0 or y.max(initial=0) >= n_classes:
            raise ValueError("y must be n integer labels in [0, n_classes)")
        self.multi_label = False
        return torch.from_numpy(y.astype(np.int64))

    def _loss(self) -> nn.Module:
        return nn.BCEWithLogitsLoss() if self.multi_label else nn.CrossEntropyLoss()

    def _train(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        epochs: int,
        generator: torch.Generator,
        X_val: torch.Tensor | None = None,
        y_val: torch.Tensor | None = None,
    ) -> int:
        """Train a fresh network; with a validation slice, stop early and return the best epoch count."""
        c = self.config
        self._network = self._build(X.shape[1], self.n_classes)
        optimiser = torch.optim.Adam(
            self._network.parameters(), lr=c.learning_rate, weight_decay=c.weight_decay
        )
        loss_fn = self._loss()
        best_loss, best_epoch, best_state = float("inf"), epochs, None
        for epoch in range(1, epochs + 1):
            self._network.train()
            order = torch.randperm(X.shape[0], generator=generator)
            for start in range(0, X.shape[0], c.batch_size):
                batch = order[start : start + c.batch_size]
                optimiser.zero_grad()
                loss_fn(self._network(X[batch]), y[batch]).backward()
                optimiser.step()
            if X_val is None or y_val is None:
                continue
            self._network.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(self._network(X_val), y_val))
            if val_loss < best_loss - 1e-6:
                best_loss, best_epoch = val_loss, epoch
                best_state = {k: v.clone() for k, v in self._network.state_dict().items()}
            elif epoch - best_epoch >= c.patience:
                break
        if best_state is not None:
            self._network.load_state_dict(best_state)
        return best_epoch

    def fit(self, X: np.ndarray, y: np.ndarray, *, n_classes: int) -> BaseModel:
        """Fit on finite features X (n, d) and labels y: (n,) ints in [0, n_classes) or an (n, n_classes)
        0/1 matrix for multi-label. Raises ValueError on NaN/inf features, bad labels or no rows."""
        X = _require_finite(X)
        if X.shape[0] < 1 or n_classes < 2 - (np.asarray(y).ndim == 2):
            raise ValueError("need at least 1 row and 2 classes (1 label for multi-label)")
        self.n_classes = n_classes
        targets = self._targets(y, X.shape[0], n_classes)
        self._mean = X.mean(axis=0)
        std = X.std(axis=0)
        self._scale = np.where(std > 1e-8, std, 1.0).astype(np.float32)  # constant columns stay 0, not inf
        inputs = torch.from_numpy((X - self._mean) / self._scale)
        c = self.config
        with _torch_session(c.seed, c.n_threads) as generator:
            n_validation = int(round(c.validation_fraction * X.shape[0]))
            if n_validation < c.min_validation_rows:
                self._train(inputs, targets, c.max_epochs // 3, generator)
                return self
            order = torch.randperm(X.shape[0], generator=generator)
            val, train = order[:n_validation], order[n_validation:]
            best_epoch = self._train(
                inputs[train], targets[train], c.max_epochs, generator, inputs[val], targets[val]
            )
            self._train(inputs, targets, best_epoch, generator)
        return self

    def _standardised_chunks(self, X: np.ndarray, batch_size: int) -> Iterator[torch.Tensor]:
        if self._network is None or self._mean is None or self._scale is None:
            raise RuntimeError("model is not fitted")
        for start in range(0, X.shape[0], batch_size):
            chunk = (np.asarray(X[start : start + batch_size], dtype=np.float32) - self._mean) / self._scale
            yield torch.from_numpy(chunk)

    def _activate(self, logits: torch.Tensor) -> np.ndarray:
        return (torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)).numpy()

    def predict_proba(self, X: np.ndarray, *, batch_size: int = 65_536) -> np.ndarray:
        """(n, K) probabilities, computed in chunks of ``batch_size`` rows. NaN feature rows give NaN rows.
        Raises RuntimeError before ``fit``."""
        network = self._require_fitted()
        network.eval()
        with _torch_session(self.config.seed, self.config.n_threads), torch.no_grad():
            parts = [self._activate(network(chunk)) for chunk in self._standardised_chunks(X, batch_size)]
        return np.concatenate(parts) if parts else np.empty((0, self.n_classes), dtype=np.float32)

    def mc_dropout_proba(
        self, X: np.ndarray, *, n_samples: int = 10, batch_size: int = 65_536, seed: int | None = None
    ) -> np.ndarray:
        """(n_samples, n, K) probabilities with dropout active. Memory is n_samples·n·K floats: for large
        pools use ``mc_dropout_proba_chunks`` or ``strategies.score_chunks``. With dropout 0 every sample
        is identical, so BALD is exactly 0."""
        parts = list(self.mc_dropout_proba_chunks(X, n_samples=n_samples, batch_size=batch_size, seed=seed))
        return (
            np.concatenate(parts, axis=1)
            if parts
            else np.empty((n_samples, 0, self.n_classes), dtype=np.float32)
        )

    def mc_dropout_proba_chunks(
        self, X: np.ndarray, *, n_samples: int = 10, batch_size: int = 65_536, seed: int | None = None
    ) -> Iterator[np.ndarray]:
        """Yields (n_samples, m, K) blocks for consecutive row chunks of X (m ≤ batch_size). Peak memory is one
        chunk's activations whatever ``n_samples`` is. Dropout masks are drawn from a numpy generator seeded
        with ``seed`` (default: the config's), so samples are reproducible. The generator holds the torch thread
        setting until it is exhausted or closed. Raises RuntimeError before ``fit``."""
        if n_samples < 1:
            raise ValueError("n_samples must be >= 1")
        network = self._require_fitted()
        # Dropout sits only before the output layer, so everything below it is deterministic: it runs once
        # per chunk and only dropout + output layer are repeated per sample (identical in distribution to
        # full forward passes, at a fraction of the cost).
        body, dropout, head = network[:-2], network[-2], network[-1]
        # Masks are not drawn by torch's CPU dropout: it draws each Bernoulli from mt19937 at ~25 ns an element,
        # which was most of the time of scoring a 1,000,000-item pool with 10 samples. Random 16-bit integers
        # kept when >= round(p * 65536) are ~20x faster; the drop rate then differs from p by less than 1e-5.
        threshold = round(float(dropout.p) * 65536)
        scale = 1.0 / (1.0 - float(dropout.p)) if threshold < 65536 else 0.0
        rng = np.random.default_rng(self.config.seed if seed is None else seed)
        full = np.iinfo(np.uint64).max
        with _torch_session(self.config.seed, self.config.n_threads), torch.no_grad():
            for chunk in self._standardised_chunks(X, batch_size):
                scaled = (body(chunk) * scale).numpy()
                words = -(-scaled.size // 4)  # uint64 words holding one 16-bit draw per activation
                logits = []
                for _ in range(n_samples):
                    if threshold == 0:  # no dropout: every sample is the plain forward pass
                        kept = scaled
                    else:
                        words_drawn = rng.integers(0, full, size=words, dtype=np.uint64, endpoint=True)
                        bits = words_drawn.view(np.uint16)[: scaled.size].reshape(scaled.shape)
                        kept = scaled * (bits >= threshold)
                    # Logits class-major (K, m): the softmax over a leading axis of K is ~10x faster than over a
                    # trailing axis of 10 values.
                    logits.append(torch.addmm(head.bias[:, None], head.weight, torch.from_numpy(kept).T))
                stacked = torch.stack(logits)
                proba = torch.sigmoid(stacked) if self.multi_label else torch.softmax(stacked, dim=1)
                yield np.ascontiguousarray(proba.transpose(1, 2).numpy())

    def _require_fitted(self) -> nn.Sequential:
        if self._network is None:
            raise RuntimeError("model is not fitted")
        return self._network


def _fold_assignment(y: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Stratified folds without per-class loops: shuffle, stable-sort by class, then deal the sorted rows
    round-robin. Each class is spread evenly over the folds, members of classes smaller than n_folds land
    in different folds, and fold sizes differ by at most one (no fold is empty when n ≥ n_folds)."""
    order = rng.permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]
    fold = np.empty(len(y), dtype=np.int64)
    fold[order] = (np.arange(len(y)) + int(rng.integers(n_folds))) % n_folds
    return fold


def out_of_sample_proba(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    n_folds: int = 5,
    seed: int = 0,
    config: TrainingConfig | None = None,
) -> OutOfSample:
    """Stratified k-fold probabilities for every labelled row (for label-issue detection and cv metrics).

    ``n_folds`` is lowered to n when there are fewer rows; a class with fewer than ``n_folds`` members is
    spread over different folds, so its held-out rows are predicted by models that saw the rest of it (a
    singleton class is predicted by a model that never saw the class). Raises ValueError when n < 2.
    """
    X = _require_finite(X)
    y = np.asarray(y)
    n = X.shape[0]
    if n < 2:
        raise ValueError("need at least 2 labelled rows for out-of-sample probabilities")
    n_folds = max(2, min(n_folds, n))
    rng = np.random.default_rng(seed)
    fold = rng.permutation(n) % n_folds if y.ndim == 2 else _fold_assignment(y, n_folds, rng)
    config = replace(config or TrainingConfig(), seed=seed)
    proba = np.empty((n, n_classes), dtype=np.float32)
    for k in range(n_folds):  # one model per fold: the loop is over folds, not items
        held_out = fold == k
        model = BaseModel(config=config).fit(X[~held_out], y[~held_out], n_classes=n_classes)
        proba[held_out] = model.predict_proba(X[held_out])
    return OutOfSample(proba=proba, fold=fold, metrics=metrics_from_proba(proba=proba, y=y, n_folds=n_folds))
