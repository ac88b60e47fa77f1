"""Optional sentence-embedding features for text, through a plug-in hook.

No embedding model is bundled and nothing is downloaded at run time. A package that ships a model on disk
can register a factory under the ``labelgate.text_encoders`` entry-point group; the factory takes no
arguments and returns ``(name, version, encode)`` where ``encode(list[str]) -> float array (n, d)``.
When no such package is installed, callers fall back to TF-IDF features.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from activelearning.features.matrix import FeatureMatrix, assemble

ENTRY_POINT_GROUP = "labelgate.text_encoders"
Encoder = Callable[[list[str]], np.ndarray]


class SentenceEmbeddingExtractor:
    """Wraps an ``encode`` callable as a feature extractor (stateless; inputs must be str)."""

    def __init__(self, *, name: str, version: str, encode: Encoder, batch_size: int = 256) -> None:
        self.name = name
        self.version = version
        self._encode = encode
        self.batch_size = batch_size
        self._dim: int | None = None

    @property
    def identity(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(np.asarray(self._encode(["dimension probe"])).shape[1])
        return self._dim

    def fit(self, inputs: Iterable[Any]) -> SentenceEmbeddingExtractor:
        return self

    def transform(self, inputs: Sequence[Any]) -> FeatureMatrix:
        """Embeds string inputs in batches; non-string inputs give a NaN row and an error."""
        errors: list[str | None] = [
            None if isinstance(v, str) else f"expected str, got {type(v).__name__}" for v in inputs
        ]
        ok_rows = np.flatnonzero([error is None for error in errors])
        texts = [inputs[int(i)] for i in ok_rows]
        blocks = [
            np.asarray(self._encode(texts[s : s + self.batch_size]))
            for s in range(0, len(texts), self.batch_size)
        ]
        ok_values = np.vstack(blocks) if blocks else np.empty((0, self.dim))
        return assemble(
            dim=self.dim,
            n=len(inputs),
            ok_rows=ok_rows,
            ok_values=ok_values,
            errors=errors,
            identity=self.identity,
        )


def installed_sentence_encoder() -> SentenceEmbeddingExtractor | None:
    """The first registered encoder that loads, or None when none is installed or all fail to load."""
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            name, version, encode = entry_point.load()()
        except Exception:  # noqa: BLE001 — a broken plug-in must not stop feature extraction
            continue
        return SentenceEmbeddingExtractor(name=name, version=version, encode=encode)
    return None
