"""Per-batch profile summaries that merge (pure: no Django).

A ``BatchSummary`` holds, per numeric field, count / mean / M2 (for the standard deviation) / min / max, a
histogram on fixed edges and a uniform reservoir sample of at most ``RESERVOIR`` values; per categorical
field, value counts. Everything in it merges exactly (counts, moments, histograms) or as a uniform sample of
the union (reservoirs), so earlier batches combine into one baseline (``ingress.drift.compare`` reads it).
``SummaryBuilder`` adds one profile at a time in bounded memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

RESERVOIR = 2000
NUMERIC_FIELDS: tuple[str, ...] = (
    "width", "height", "brightness", "contrast", "blur", "duration", "loudness_dbfs", "silence_ratio",
    "clipping_ratio", "snr_db", "length",
)  # fmt: skip
CATEGORICAL_FIELDS: tuple[str, ...] = ("format", "mode", "sample_rate", "channels")
# Fixed histogram edges, so histograms of different batches add up; values outside fall in the end bins.
_LOG_EDGES = [0.0, *np.logspace(0, 6, 25).tolist()]
BIN_EDGES: dict[str, list[float]] = {
    "brightness": np.linspace(0, 1, 21).tolist(),
    "contrast": np.linspace(0, 0.5, 21).tolist(),
    "silence_ratio": np.linspace(0, 1, 21).tolist(),
    "clipping_ratio": np.linspace(0, 0.05, 21).tolist(),
    "loudness_dbfs": np.linspace(-80, 0, 21).tolist(),
    "snr_db": np.linspace(-10, 60, 15).tolist(),
}


def _edges(name: str) -> list[float]:
    return BIN_EDGES.get(name, _LOG_EDGES)


@dataclass(slots=True)
class NumericSummary:
    """Mergeable summary of one numeric field (see module docstring)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    edges: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    sample: list[float] = field(default_factory=list)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0

    def add(self, values: np.ndarray, rng: np.random.Generator) -> None:
        """Fold a batch of finite values in (Chan's parallel update; reservoir algorithm R, vectorised)."""
        k = len(values)
        if k == 0:
            return
        if not self.counts:
            self.counts = [0] * (len(self.edges) - 1)
        mean_b = float(values.mean())
        m2_b = float(((values - mean_b) ** 2).sum())
        total = self.n + k
        delta = mean_b - self.mean
        self.m2 += m2_b + delta * delta * self.n * k / total
        self.mean += delta * k / total
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        bins = np.clip(np.searchsorted(self.edges, values, side="right") - 1, 0, len(self.counts) - 1)
        self.counts = (np.asarray(self.counts) + np.bincount(bins, minlength=len(self.counts))).tolist()
        seen = self.n + np.arange(1, k + 1)  # 1-based stream position of each value
        room = max(0, RESERVOIR - len(self.sample))
        self.sample.extend(values[:room].tolist())
        if k > room:
            slots = np.floor(rng.random(k - room) * seen[room:]).astype(np.int64)
            hit = slots < RESERVOIR
            sample = np.asarray(self.sample)
            # Sequential semantics: a later replacement of the same slot wins, which plain fancy assignment does.
            sample[slots[hit]] = values[room:][hit]
            self.sample = sample.tolist()
        self.n = total

    def merged(self, other: NumericSummary, rng: np.random.Generator) -> NumericSummary:
        """Exact merge of moments and histograms; the reservoir becomes a uniform sample of the union."""
        if other.n == 0:
            return replace(self, counts=list(self.counts), sample=list(self.sample))
        if self.n == 0:
            return replace(other, counts=list(other.counts), sample=list(other.sample))
        total = self.n + other.n
        delta = other.mean - self.mean
        size = min(RESERVOIR, len(self.sample) + len(other.sample))
        from_self = int(rng.hypergeometric(self.n, other.n, size))
        from_self = min(from_self, len(self.sample), size)
        from_other = min(size - from_self, len(other.sample))
        sample = np.concatenate(
            [rng.permutation(self.sample)[:from_self], rng.permutation(other.sample)[:from_other]]
        )
        return NumericSummary(
            n=total,
            mean=self.mean + delta * other.n / total,
            m2=self.m2 + other.m2 + delta * delta * self.n * other.n / total,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            edges=list(self.edges),
            counts=(np.asarray(self.counts) + np.asarray(other.counts)).tolist(),
            sample=sample.tolist(),
        )

    def to_dict(self) -> dict[str, Any]:
        q = np.quantile(self.sample, [0.05, 0.5, 0.95]).tolist() if self.sample else [None] * 3
        return {"n": self.n, "mean": _clean(self.mean), "std": _clean(self.std), "m2": _clean(self.m2),
                "min": _clean(self.minimum), "max": _clean(self.maximum), "p5": q[0], "p50": q[1], "p95": q[2],
                "edges": self.edges, "counts": self.counts, "sample": self.sample}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericSummary:
        return cls(n=int(data["n"]), mean=data["mean"] or 0.0, m2=data["m2"] or 0.0,
                   minimum=math.inf if data["min"] is None else data["min"],
                   maximum=-math.inf if data["max"] is None else data["max"],
                   edges=list(data["edges"]), counts=list(data["counts"]), sample=list(data["sample"]))  # fmt: skip


def _clean(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(slots=True)
class BatchSummary:
    """Summary of one or more batches; ``to_dict``/``from_dict`` round-trip through JSON."""

    n_items: int = 0
    numeric: dict[str, NumericSummary] = field(default_factory=dict)
    categorical: dict[str, dict[str, int]] = field(default_factory=dict)

    def merged(self, other: BatchSummary, *, seed: int = 0) -> BatchSummary:
        rng = np.random.default_rng(seed)
        numeric = {}
        for name in sorted(set(self.numeric) | set(other.numeric)):
            empty = NumericSummary(edges=_edges(name))
            numeric[name] = self.numeric.get(name, empty).merged(other.numeric.get(name, empty), rng)
        categorical: dict[str, dict[str, int]] = {}
        for name in sorted(set(self.categorical) | set(other.categorical)):
            counts = dict(self.categorical.get(name, {}))
            for value, count in other.categorical.get(name, {}).items():
                counts[value] = counts.get(value, 0) + count
            categorical[name] = counts
        return BatchSummary(self.n_items + other.n_items, numeric, categorical)

    def to_dict(self) -> dict[str, Any]:
        return {"n_items": self.n_items, "numeric": {k: v.to_dict() for k, v in self.numeric.items()},
                "categorical": {k: dict(v) for k, v in self.categorical.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchSummary:
        return cls(int(data["n_items"]), {k: NumericSummary.from_dict(v) for k, v in data["numeric"].items()},
                   {k: {str(c): int(n) for c, n in v.items()} for k, v in data["categorical"].items()})  # fmt: skip


def merge_summaries(summaries: Iterable[BatchSummary], *, seed: int = 0) -> BatchSummary:
    """One summary of all ``summaries`` (the baseline for ``compare``)."""
    out = BatchSummary()
    for i, summary in enumerate(summaries):
        out = out.merged(summary, seed=seed + i)
    return out


class SummaryBuilder:
    """Builds a ``BatchSummary`` from profiles added one at a time; values are buffered and folded in
    vectorised blocks, so memory stays bounded by ``flush_every`` plus the reservoirs."""

    def __init__(self, *, numeric_fields: Iterable[str] = NUMERIC_FIELDS,
                 categorical_fields: Iterable[str] = CATEGORICAL_FIELDS, seed: int = 0, flush_every: int = 4096) -> None:  # fmt: skip
        self._numeric = tuple(numeric_fields)
        self._categorical = tuple(categorical_fields)
        self._rng = np.random.default_rng(seed)
        self._flush_every = flush_every
        self._buffers: dict[str, list[float]] = {name: [] for name in self._numeric}
        self._summary = BatchSummary(
            numeric={name: NumericSummary(edges=_edges(name)) for name in self._numeric}
        )

    def add(self, profile: Mapping[str, Any]) -> None:
        """Add one profile; missing, None, boolean, non-finite or non-numeric values are skipped."""
        self._summary.n_items += 1
        for name in self._numeric:
            value = profile.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                buffer = self._buffers[name]
                buffer.append(float(value))
                if len(buffer) >= self._flush_every:
                    self._flush(name)
        for name in self._categorical:
            value = profile.get(name)
            if value is not None:
                counts = self._summary.categorical.setdefault(name, {})
                counts[str(value)] = counts.get(str(value), 0) + 1

    def _flush(self, name: str) -> None:
        self._summary.numeric[name].add(np.asarray(self._buffers[name], dtype=np.float64), self._rng)
        self._buffers[name] = []

    def build(self) -> BatchSummary:
        """The summary so far (fields that never had a value are left out)."""
        for name in self._numeric:
            self._flush(name)
        out = self._summary
        return BatchSummary(out.n_items, {k: v for k, v in out.numeric.items() if v.n}, dict(out.categorical))
