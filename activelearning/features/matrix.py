"""The result type every feature extractor returns, and the protocol extractors follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class FeatureMatrix:
    """Features for a batch of inputs, one row per input, in input order.

    ``values`` is float32 of shape (n, dim). A row whose input could not be read is all NaN and its
    ``errors`` entry says why; every other ``errors`` entry is None. ``extractor`` is the
    ``name/version`` string to record with a model version so features are never mixed across versions.
    """

    values: np.ndarray
    errors: tuple[str | None, ...]
    extractor: str

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of rows that were extracted successfully."""
        return np.array([error is None for error in self.errors], dtype=bool)


class FeatureExtractor(Protocol):
    name: str
    version: str

    @property
    def dim(self) -> int: ...

    @property
    def identity(self) -> str: ...

    def fit(self, inputs: Iterable[Any]) -> FeatureExtractor: ...

    def transform(self, inputs: Sequence[Any]) -> FeatureMatrix: ...


def assemble(
    *, dim: int, n: int, ok_rows: np.ndarray, ok_values: np.ndarray, errors: list[str | None], identity: str
) -> FeatureMatrix:
    """Scatter the successfully extracted rows into an (n, dim) NaN matrix."""
    values = np.full((n, dim), np.nan, dtype=np.float32)
    if len(ok_rows):
        values[ok_rows] = ok_values.astype(np.float32, copy=False)
    return FeatureMatrix(values=values, errors=tuple(errors), extractor=identity)


def describe_error(exc: BaseException) -> str:
    """A short, user-facing reason for a failed row (exception type plus message, truncated)."""
    text = f"{type(exc).__name__}: {exc}"
    return text[:300]
