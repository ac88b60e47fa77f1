"""Drift between a new batch and the earlier ones (pure: no Django), from their profile summaries
(``ingress.profile_summary``). ``compare`` reports a field only when the difference is significant (KS or
chi-square p < ``alpha``) *and* material (effect-size thresholds), as one sentence per field.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2_contingency, ks_2samp

from annotation.flag_text import DRIFT_MIN_N
from ingress.profile_summary import BatchSummary, NumericSummary

_DB_FIELDS = frozenset({"loudness_dbfs", "snr_db"})
_LABELS = {"loudness_dbfs": "loudness", "snr_db": "SNR", "sample_rate": "sample rate", "silence_ratio": "silence ratio",
           "clipping_ratio": "clipping ratio", "length": "text length"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DriftFinding:
    """One significant and material difference; ``sentence`` is ready for the UI."""

    field: str
    test: str  # "ks" or "chi2"
    statistic: float
    p_value: float
    effect: float  # KS D for numeric fields, Cramér's V for categorical ones
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fmt_value(name: str, value: str) -> str:
    if name == "sample_rate":
        try:
            return f"{float(value) / 1000:g} kHz"
        except ValueError:
            return value
    return value


def _numeric_sentence(label: str, name: str, new: NumericSummary, old: NumericSummary, d: float) -> str:
    title = _LABELS.get(name, name)
    if name in _DB_FIELDS:
        verb = "rose" if new.mean > old.mean else "fell"
        return f"{label}: mean {title} {verb} by {abs(new.mean - old.mean):.1f} dB ({old.mean:.1f} → {new.mean:.1f} dB)"
    if old.mean != 0 and abs(new.mean - old.mean) >= 0.05 * abs(old.mean):
        change = (new.mean - old.mean) / abs(old.mean) * 100
        verb = "rose" if change > 0 else "dropped"
        return f"{label}: mean {title} {verb} {abs(change):.0f} % ({old.mean:.3g} → {new.mean:.3g})"
    return f"{label}: {title} distribution changed (KS D = {d:.2f}), mean {new.mean:.3g} vs {old.mean:.3g} before"


def _categorical_sentence(label: str, name: str, new: dict[str, int], old: dict[str, int]) -> str:
    title = _LABELS.get(name, name)
    n_new, n_old = sum(new.values()), sum(old.values())
    top_new, top_old = max(new, key=new.__getitem__), max(old, key=old.__getitem__)
    if top_new != top_old:
        return (f"{label}: {title} {_fmt_value(name, top_new)} ({new[top_new] / n_new:.0%}) vs "
                f"{_fmt_value(name, top_old)} ({old[top_old] / n_old:.0%}) before")  # fmt: skip
    shift = max(set(new) | set(old), key=lambda v: abs(new.get(v, 0) / n_new - old.get(v, 0) / n_old))
    return (f"{label}: {title} {_fmt_value(name, shift)} {new.get(shift, 0) / n_new:.0%} of items vs "
            f"{old.get(shift, 0) / n_old:.0%} before")  # fmt: skip


def compare(
    *,
    new: BatchSummary,
    baseline: BatchSummary,
    label: str,
    alpha: float = 0.01,
    min_ks_effect: float = 0.2,
    min_cramers_v: float = 0.2,
    min_n: int = DRIFT_MIN_N,
) -> list[DriftFinding]:
    """Fields where ``new`` differs from ``baseline`` both significantly (p < ``alpha``) and materially.

    Numeric fields: two-sample KS on the reservoirs (so p-values are those of samples of <= ``profile_summary.RESERVOIR``),
    material when KS D >= ``min_ks_effect``. Categorical fields: chi-square on the count table, material
    when Cramér's V >= ``min_cramers_v``. Fields with fewer than ``min_n`` values on either side are
    skipped. ``label`` starts every sentence (e.g. "batch 7"). Raises nothing; returns [] when nothing moved.
    """
    findings: list[DriftFinding] = []
    for name in sorted(set(new.numeric) & set(baseline.numeric)):
        a, b = new.numeric[name], baseline.numeric[name]
        if min(len(a.sample), len(b.sample), a.n, b.n) < min_n:
            continue
        result = ks_2samp(a.sample, b.sample)
        stat, p = float(result.statistic), float(result.pvalue)
        if p < alpha and stat >= min_ks_effect:
            findings.append(
                DriftFinding(name, "ks", stat, p, stat, _numeric_sentence(label, name, a, b, stat))
            )
    for name in sorted(set(new.categorical) & set(baseline.categorical)):
        a_counts, b_counts = new.categorical[name], baseline.categorical[name]
        n_a, n_b = sum(a_counts.values()), sum(b_counts.values())
        values = sorted(set(a_counts) | set(b_counts))
        if min(n_a, n_b) < min_n or len(values) < 2:
            continue
        table = np.array([[a_counts.get(v, 0) for v in values], [b_counts.get(v, 0) for v in values]])
        chi2, p, _, _ = chi2_contingency(table, correction=False)
        cramers_v = math.sqrt(chi2 / (n_a + n_b))  # 2 rows: min(r, c) - 1 == 1
        if p < alpha and cramers_v >= min_cramers_v:
            sentence = _categorical_sentence(label, name, a_counts, b_counts)
            findings.append(DriftFinding(name, "chi2", float(chi2), float(p), cramers_v, sentence))
    return findings
