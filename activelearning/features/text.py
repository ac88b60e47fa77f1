"""Text features: hashed word + character n-gram TF-IDF reduced to a dense matrix with TruncatedSVD.

Hashing instead of a fitted vocabulary keeps memory bounded on any corpus size: the vocabulary is capped
at ``n_word_features + n_char_features`` columns, document frequencies are accumulated chunk by chunk, and
the SVD is fitted on a uniform sample of at most ``svd_sample`` texts drawn from the stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from activelearning.features.matrix import FeatureMatrix, assemble


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")  # strict: undecodable bytes are a per-row error
    raise TypeError(f"expected str or UTF-8 bytes, got {type(value).__name__}")


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _one_blas_thread() -> threadpool_limits:
    """The SVD's dense products on one BLAS thread: a product's rounding depends on how many threads split it
    (features differed by up to 6e-4 between 1 and 2 threads), and features must be the same in every process
    (a retried job, a web process, a worker with another thread setting). Hashing dominates the time, so
    this costs nothing measurable (22.8k texts: 28–34 s on either setting, 2 cores)."""
    return threadpool_limits(limits=1, user_api="blas")


class TextFeatureExtractor:
    """TF-IDF (sublinear tf, word 1–2-grams + char_wb 3–5-grams, hashed) → TruncatedSVD (≤ 256 dims).

    Call ``fit`` once on the project's corpus (any iterable, consumed once), then ``transform``.
    """

    name = "text-tfidf-svd"
    version = "1"

    def __init__(
        self,
        *,
        n_components: int = 256,
        n_word_features: int = 2**18,
        n_char_features: int = 2**18,
        chunk_size: int = 10_000,
        svd_sample: int = 20_000,
        seed: int = 0,
    ) -> None:
        if not 1 <= n_components <= 256:
            raise ValueError("n_components must be in 1..256")
        self.n_components = n_components
        self.chunk_size = chunk_size
        self.svd_sample = svd_sample
        self.seed = seed
        common = {"alternate_sign": False, "norm": None, "lowercase": True, "dtype": np.float32}
        self._word = HashingVectorizer(
            analyzer="word", ngram_range=(1, 2), n_features=n_word_features, **common
        )
        self._char = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=n_char_features, **common
        )
        self._idf: np.ndarray | None = None
        self._svd: TruncatedSVD | None = None

    @property
    def identity(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def dim(self) -> int:
        if self._svd is None:
            raise RuntimeError("TextFeatureExtractor is not fitted")
        return int(self._svd.n_components)

    def _counts(self, texts: list[str]) -> sp.csr_matrix:
        counts = sp.hstack([self._word.transform(texts), self._char.transform(texts)], format="csr")
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf: 1 + log(tf)
        return counts

    def _tfidf(self, texts: list[str]) -> sp.csr_matrix:
        assert self._idf is not None
        weighted = self._counts(texts) @ sp.diags(self._idf.astype(np.float32))
        return normalize(weighted, norm="l2", copy=False)

    def fit(self, inputs: Iterable[Any]) -> TextFeatureExtractor:
        """Fit IDF and SVD on ``inputs`` (consumed once, in chunks). Unreadable rows are skipped.

        Raises ValueError when no readable text is found.
        """
        rng = np.random.default_rng(self.seed)
        n_columns = self._word.n_features + self._char.n_features
        document_frequency = np.zeros(n_columns, dtype=np.int64)
        n_documents = 0
        sample: list[str] = []
        sample_keys = np.empty(0)
        for chunk in _chunks(inputs, self.chunk_size):
            texts = []
            for value in chunk:
                try:
                    texts.append(_as_text(value))
                except (TypeError, UnicodeDecodeError):
                    continue
            if not texts:
                continue
            counts = self._counts(texts)
            document_frequency += np.bincount(counts.indices, minlength=n_columns)
            n_documents += len(texts)
            # Bottom-k sampling on random keys: a uniform sample of the whole stream in bounded memory.
            keys = np.concatenate([sample_keys, rng.random(len(texts))])
            pool = sample + texts
            keep = np.argsort(keys)[: self.svd_sample]
            sample = [pool[i] for i in keep]
            sample_keys = keys[keep]
        if n_documents == 0:
            raise ValueError("no readable text to fit on")
        self._idf = np.log((1.0 + n_documents) / (1.0 + document_frequency)) + 1.0
        tfidf = self._tfidf(sample)
        # TruncatedSVD needs fewer components than rows and columns; tiny corpora get fewer dims.
        n_components = max(1, min(self.n_components, tfidf.shape[0] - 1, n_columns - 1))
        self._svd = TruncatedSVD(n_components=n_components, algorithm="randomized", random_state=self.seed)
        with _one_blas_thread():
            self._svd.fit(tfidf)
        return self

    def transform(self, inputs: Sequence[Any]) -> FeatureMatrix:
        """Dense float32 (n, dim) features; non-text or undecodable inputs give a NaN row and an error."""
        dim = self.dim
        errors: list[str | None] = [None] * len(inputs)
        ok_rows: list[int] = []
        texts: list[str] = []
        for row, value in enumerate(inputs):
            try:
                texts.append(_as_text(value))
                ok_rows.append(row)
            except (TypeError, UnicodeDecodeError) as exc:
                errors[row] = f"{type(exc).__name__}: {exc}"[:300]
        assert self._svd is not None
        with _one_blas_thread():
            blocks = [self._svd.transform(self._tfidf(chunk)) for chunk in _chunks(texts, self.chunk_size)]
        ok_values = np.vstack(blocks) if blocks else np.empty((0, dim), dtype=np.float32)
        return assemble(
            dim=dim,
            n=len(inputs),
            ok_rows=np.asarray(ok_rows, dtype=np.int64),
            ok_values=ok_values,
            errors=errors,
            identity=self.identity,
        )
