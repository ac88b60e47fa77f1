"""Feature vectors as the cache stores them (float32 bytes) and back; a missing or mis-sized vector reads as a
NaN row."""

from __future__ import annotations

import math

import numpy as np


def to_bytes(row: np.ndarray) -> bytes:
    return np.ascontiguousarray(row, dtype=np.float32).tobytes()


def from_bytes(raw: bytes | memoryview | None, dim: int) -> np.ndarray:
    if raw is None:
        return np.full(dim, np.nan, dtype=np.float32)
    values = np.frombuffer(bytes(raw), dtype=np.float32)
    return values if len(values) == dim else np.full(dim, np.nan, dtype=np.float32)


def matrix(vectors: tuple, dim: int) -> np.ndarray:
    """(n, dim) float32 from cached vector bytes; NaN rows for missing or mis-sized vectors."""
    width = 4 * dim
    missing = np.full(dim, np.nan, dtype=np.float32).tobytes()
    raw = b"".join(missing if v is None or len(v) != width else bytes(v) for v in vectors)
    return np.frombuffer(raw, dtype=np.float32).reshape(len(vectors), dim).copy()


def finite_or_none(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
