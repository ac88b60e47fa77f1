"""The built-in token model: per-token class probabilities for texts labelled span by span.

Tokens are given (the kind's ``\\S+`` tokens). Each distinct token string becomes hashed features: the lower-cased
word, its shape (``Hamburg`` → ``Xx``, ``2024-05`` → ``d-d``) and its character 2–4-grams with boundary marks
(``<ha``, ``rg>``), summed in an ``EmbeddingBag`` of ``buckets`` rows. Two 1-D convolutions over the document's
token sequence (a context of five tokens) with dropout between them, then a softmax over the token classes.

The classes are IO codes: 0 = outside, ``1 + label`` = inside a span of that label (the span kind's token encoding
for agreement, so the model, its label-issue check and the figures read tokens alike). IO rather than BIO: the
"begin" tag only separates adjacent spans of the same label, rare in entity data, and it would double the classes
the model and cleanlab have to learn from few labels.

Deterministic for a seed: hashing uses CRC-32 (Python's ``hash`` is salted per process), and every random draw
happens inside a forked torch RNG, as in ``activelearning.basemodel``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class TokenModelConfig:
    buckets: int = 1 << 17
    embedding: int = 48
    hidden: int = 64
    dropout: float = 0.25
    learning_rate: float = 5e-3
    # Epochs run until about ``steps`` optimiser steps are taken, between ``min_epochs`` and ``epochs``: small
    # sets need many passes, large ones learn enough in two.
    epochs: int = 10
    min_epochs: int = 2
    steps: int = 600
    batch_docs: int = 32
    # Tokens longer than this contribute only their first characters' n-grams (URLs, hashes).
    max_token_chars: int = 24
    seed: int = 0
    n_threads: int | None = 1


@dataclass(frozen=True)
class TokenProba:
    """Per-token probabilities of many documents: document ``d``'s rows are ``values[ptr[d]:ptr[d + 1]]``."""

    values: np.ndarray  # (n_tokens, n_classes) float32
    ptr: np.ndarray  # (n_docs + 1,)

    def doc(self, d: int) -> np.ndarray:
        return self.values[self.ptr[d] : self.ptr[d + 1]]

    def docs(self) -> list[np.ndarray]:
        return [self.doc(d) for d in range(self.ptr.size - 1)]


def token_shape(token: str) -> str:
    """Character classes with runs collapsed: upper ``X``, lower ``x``, digit ``d``, others as themselves."""
    out: list[str] = []
    for char in token:
        code = "X" if char.isupper() else "x" if char.islower() else "d" if char.isdigit() else char
        if not out or out[-1] != code:
            out.append(code)
    return "".join(out)


def token_features(token: str, *, buckets: int, max_chars: int) -> list[int]:
    """Hashed feature rows of one token (word, shape, boundary-marked 2–4-grams)."""
    low = token[:max_chars].lower()
    marked = f"<{low}>"
    names = {"w:" + low, "s:" + token_shape(token[:max_chars])}
    names.update("g:" + marked[i : i + n] for n in (2, 3, 4) for i in range(len(marked) - n + 1))
    return sorted({zlib.crc32(name.encode("utf-8")) % buckets for name in names})


@dataclass(frozen=True)
class EncodedDocs:
    """Documents as indices into a table of distinct token strings and those strings' hashed features: distinct
    token ``u`` has feature rows ``feature[feature_ptr[u]:feature_ptr[u + 1]]``."""

    token: np.ndarray  # (n_tokens,) distinct-token index per token, documents concatenated
    ptr: np.ndarray  # (n_docs + 1,)
    feature: np.ndarray
    feature_ptr: np.ndarray

    @property
    def n_docs(self) -> int:
        return int(self.ptr.size - 1)

    def subset(self, docs: np.ndarray) -> EncodedDocs:
        lengths = np.diff(self.ptr)[docs]
        rows = _ranges(self.ptr[docs], lengths)
        return EncodedDocs(
            token=self.token[rows],
            ptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            feature=self.feature,
            feature_ptr=self.feature_ptr,
        )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each (s, n)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + np.arange(total) - offsets


def encode(docs: Sequence[Sequence[str]], *, config: TokenModelConfig) -> EncodedDocs:
    """Each document's tokens (strings) as hashed features; a string is hashed once however often it occurs."""
    index: dict[str, int] = {}
    features: list[list[int]] = []
    token: list[int] = []
    lengths: list[int] = []
    for doc in docs:
        lengths.append(len(doc))
        for text in doc:
            u = index.get(text)
            if u is None:
                u = index[text] = len(features)
                features.append(
                    token_features(text, buckets=config.buckets, max_chars=config.max_token_chars)
                )
            token.append(u)
    sizes = np.fromiter(map(len, features), dtype=np.int64, count=len(features))
    flat = np.fromiter((f for row in features for f in row), dtype=np.int64, count=int(sizes.sum()))
    return EncodedDocs(
        token=np.asarray(token, dtype=np.int64),
        ptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        feature=flat,
        feature_ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
    )


class _Network(nn.Module):
    def __init__(self, config: TokenModelConfig, n_classes: int) -> None:
        super().__init__()
        # Sparse gradients: a step touches the rows of its batch's features only, not the whole table.
        self.embed = nn.EmbeddingBag(config.buckets, config.embedding, mode="sum", sparse=True)
        self.conv1 = nn.Conv1d(config.embedding, config.hidden, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(config.hidden, config.hidden, kernel_size=3, padding=1)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden, n_classes)

    def forward(self, bag: torch.Tensor, offsets: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits (batch, length, classes); ``positions`` (batch, length) indexes the distinct tokens' embeddings
        with -1 for padding."""
        table = self.embed(bag, offsets)
        padded = torch.cat([table, table.new_zeros(1, table.shape[1])])  # row -1 = padding
        x = padded[positions].transpose(1, 2)
        h = self.dropout(torch.relu(self.conv1(x)))
        h = self.dropout(torch.relu(self.conv2(h)) + h)
        return self.out(h.transpose(1, 2))


@contextmanager
def _torch_session(seed: int, n_threads: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(previous)


def _batch(encoded: EncodedDocs, docs: np.ndarray) -> tuple[torch.Tensor, ...]:
    """(feature bag, offsets, positions, mask) of a batch of documents."""
    lengths = np.diff(encoded.ptr)[docs]
    width = max(int(lengths.max(initial=0)), 1)
    rows = _ranges(encoded.ptr[docs], lengths)
    distinct, inverse = np.unique(encoded.token[rows], return_inverse=True)
    sizes = encoded.feature_ptr[distinct + 1] - encoded.feature_ptr[distinct]
    bag = encoded.feature[_ranges(encoded.feature_ptr[distinct], sizes)]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    positions = np.full((len(docs), width), -1, dtype=np.int64)
    mask = np.arange(width)[None, :] < lengths[:, None]
    positions[mask] = inverse
    return (
        torch.from_numpy(bag),
        torch.from_numpy(offsets),
        torch.from_numpy(positions),
        torch.from_numpy(mask),
    )


class TokenModel:
    """``fit`` on encoded documents and their IO codes, then ``predict_proba`` / ``mc_dropout_proba``."""

    def __init__(self, *, config: TokenModelConfig | None = None) -> None:
        self.config = config or TokenModelConfig()
        self.n_classes = 0
        self._network: _Network | None = None

    def fit(self, encoded: EncodedDocs, labels: np.ndarray, *, n_classes: int) -> TokenModel:
        """``labels``: one IO code per token of ``encoded`` (documents concatenated), in ``[0, n_classes)``.
        Raises ValueError on a length mismatch or a code out of range."""
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != encoded.token.shape:
            raise ValueError("one label per token is needed")
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("labels must be in [0, n_classes)")
        c = self.config
        self.n_classes = n_classes
        with _torch_session(c.seed, c.n_threads):
            network = self._network = _Network(c, n_classes)
            dense = [p for name, p in network.named_parameters() if not name.startswith("embed.")]
            optimisers = [
                torch.optim.SparseAdam(list(network.embed.parameters()), lr=c.learning_rate),
                torch.optim.Adam(dense, lr=c.learning_rate),
            ]
            loss_fn = nn.CrossEntropyLoss()
            target = torch.from_numpy(labels)
            rng = np.random.default_rng(c.seed)
            lengths = np.diff(encoded.ptr)
            usable = np.flatnonzero(lengths > 0)
            per_epoch = max(1, -(-len(usable) // c.batch_docs))
            for _ in range(min(c.epochs, max(c.min_epochs, -(-c.steps // per_epoch)))):
                network.train()
                order = rng.permutation(usable)
                for start in range(0, len(order), c.batch_docs):
                    docs = order[start : start + c.batch_docs]
                    bag, offsets, positions, mask = _batch(encoded, docs)
                    rows = torch.from_numpy(_ranges(encoded.ptr[docs], lengths[docs]))
                    for optimiser in optimisers:
                        optimiser.zero_grad()
                    logits = network(bag, offsets, positions)
                    loss_fn(logits[mask], target[rows]).backward()
                    for optimiser in optimisers:
                        optimiser.step()
        return self

    def _require(self) -> _Network:
        if self._network is None:
            raise RuntimeError("model is not fitted")
        return self._network

    def _passes(self, encoded: EncodedDocs, n_samples: int, seed: int) -> np.ndarray:
        """(n_samples, n_tokens, n_classes); with ``n_samples`` 0 a single pass without dropout."""
        network = self._require()
        lengths = np.diff(encoded.ptr)
        total = int(encoded.ptr[-1])
        out = np.empty((max(n_samples, 1), total, self.n_classes), dtype=np.float32)
        # Batches of documents of similar length waste little on padding.
        order = np.argsort(lengths, kind="stable")
        order = order[lengths[order] > 0]
        step = self.config.batch_docs * 4
        with _torch_session(seed, self.config.n_threads), torch.no_grad():
            network.train(n_samples > 0)
            for start in range(0, len(order), step):
                docs = order[start : start + step]
                bag, offsets, positions, mask = _batch(encoded, docs)
                rows = _ranges(encoded.ptr[docs], lengths[docs])
                for s in range(max(n_samples, 1)):
                    logits = network(bag, offsets, positions)
                    out[s, rows] = torch.softmax(logits[mask], dim=-1).numpy()
            network.eval()
        return out

    def predict_proba(self, encoded: EncodedDocs) -> TokenProba:
        return TokenProba(values=self._passes(encoded, 0, self.config.seed)[0], ptr=encoded.ptr)

    def mc_dropout_proba(
        self, encoded: EncodedDocs, *, n_samples: int = 10, seed: int | None = None
    ) -> np.ndarray:
        """(n_samples, n_tokens, n_classes) probabilities with dropout active (reproducible for a seed)."""
        if n_samples < 1:
            raise ValueError("n_samples must be >= 1")
        return self._passes(encoded, n_samples, self.config.seed if seed is None else seed)


def doc_folds(n_docs: int, *, n_folds: int, seed: int) -> np.ndarray:
    """A fold per document: a seeded permutation dealt round-robin (fold sizes differ by at most one)."""
    fold = np.empty(n_docs, dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(n_docs)] = np.arange(n_docs) % max(n_folds, 1)
    return fold


def out_of_sample_proba(
    encoded: EncodedDocs,
    labels: np.ndarray,
    *,
    n_classes: int,
    n_folds: int = 5,
    config: TokenModelConfig | None = None,
) -> tuple[TokenProba, np.ndarray]:
    """K-fold cross-fitted probabilities: each document's tokens predicted by a model that never saw it. ``n_folds``
    is lowered to the number of documents. Returns (probabilities, fold per document). Raises ValueError with
    fewer than two documents."""
    n_docs = encoded.n_docs
    if n_docs < 2:
        raise ValueError("need at least 2 documents for out-of-sample probabilities")
    config = config or TokenModelConfig()
    folds = doc_folds(n_docs, n_folds=min(n_folds, n_docs), seed=config.seed)
    values = np.empty((int(encoded.ptr[-1]), n_classes), dtype=np.float32)
    lengths = np.diff(encoded.ptr)
    labels = np.asarray(labels, dtype=np.int64)
    for k in np.unique(folds).tolist():
        held = np.flatnonzero(folds == k)
        kept = np.flatnonzero(folds != k)
        kept_rows = _ranges(encoded.ptr[kept], lengths[kept])
        model = TokenModel(config=config).fit(encoded.subset(kept), labels[kept_rows], n_classes=n_classes)
        values[_ranges(encoded.ptr[held], lengths[held])] = model.predict_proba(encoded.subset(held)).values
    return TokenProba(values=values, ptr=encoded.ptr), folds
