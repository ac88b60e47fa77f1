"""The dashboard's numbers as tables (pure: no Django).

Each chart is drawn from one ``Table`` and its CSV download is the same table, so the picture and the file can
never disagree. The functions here turn already-aggregated figures (counts per day, stored report fields,
confusion matrices) into tables and short readings; they never see a queryset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

# A label set is called imbalanced when its largest class has at least this many times the smallest one's
# consensus items (or a label has none at all while others do).
IMBALANCE_RATIO = 10.0
WILSON_Z = 1.959963984540054  # 95 %


@dataclass
class Table:
    """One chart's numbers: ``columns`` name the fields of each row (the CSV header)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def column(self, name: str) -> list:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def csv_rows(self) -> list[list]:
        """Header plus rows without the ``link`` columns (``link``, ``link_<series>``); floats rounded to 6 places,
        missing values empty."""
        keep = [i for i, name in enumerate(self.columns) if name != "link" and not name.startswith("link_")]

        def cell(value):
            if value is None:
                return ""
            if isinstance(value, float):
                return "" if not math.isfinite(value) else round(value, 6)
            return value

        return [[self.columns[i] for i in keep]] + [[cell(row[i]) for i in keep] for row in self.rows]


def day_range(first: date, last: date, step: int = 1) -> list[date]:
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, step)]


@dataclass(frozen=True)
class DaySpan:
    """The days ``first`` to ``last``, both included; either end may be open (None). Written "2026-11-03" (one
    day), "2026-11-02..2026-11-08" or "..2026-11-03" (up to that day), as the items page's date filters take it."""

    first: date | None
    last: date | None

    def __str__(self) -> str:
        if self.first is not None and self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat() if self.first else ''}..{self.last.isoformat() if self.last else ''}"

    @classmethod
    def parse(cls, text: str) -> DaySpan:
        """Raises ValueError unless ``text`` is one of the written forms with ``first`` ≤ ``last``."""
        first, dots, last = text.strip().partition("..")
        if not dots:
            day = date.fromisoformat(first)
            return cls(day, day)
        span = cls(date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None)
        if span.first is None and span.last is None:
            raise ValueError("no day given")
        if span.first is not None and span.last is not None and span.first > span.last:
            raise ValueError("the first day is after the last")
        return span


def daily_table(
    *,
    name: str,
    title: str,
    series: Mapping[str, Mapping[date, int]],
    first: date | None,
    last: date,
    cumulative: bool = False,
    step: int = 1,
) -> Table:
    """One row per day from ``first`` to ``last`` (or per ``step`` days: 7 for series keyed by week start;
    missing days are zero), one column per series; with ``cumulative`` each column holds the running total."""
    table = Table(name=name, title=title, columns=["day", *series])
    if first is None:
        return table
    totals = dict.fromkeys(series, 0)
    for day in day_range(first, last, step):
        row: list = [day.isoformat()]
        for key, counts in series.items():
            value = counts.get(day, 0)
            if cumulative:
                totals[key] += value
                value = totals[key]
            row.append(value)
        table.rows.append(row)
    return table


@dataclass(frozen=True)
class Imbalance:
    warn: bool
    ratio: float | None
    largest: str | None
    smallest: str | None
    sentence: str


def imbalance(counts: Mapping[str, int]) -> Imbalance:
    """Largest-to-smallest class ratio of the consensus labels, with a one-line reading."""
    total = sum(counts.values())
    if total == 0:
        return Imbalance(False, None, None, None, "No consensus labels yet.")
    largest = max(counts, key=lambda k: (counts[k], k))
    smallest = min(counts, key=lambda k: (counts[k], k))
    if counts[smallest] == 0:
        missing = sorted(k for k, v in counts.items() if v == 0)
        return Imbalance(
            True,
            None,
            largest,
            smallest,
            f"No consensus items yet for {', '.join(f'“{m}”' for m in missing)}; "
            f"“{largest}” has {100 * counts[largest] / total:.0f} %.",
        )
    ratio = counts[largest] / counts[smallest]
    share_l, share_s = 100 * counts[largest] / total, 100 * counts[smallest] / total
    warn = ratio >= IMBALANCE_RATIO
    sentence = (
        f"“{largest}” has {share_l:.0f} % of the consensus labels, “{smallest}” {share_s:.1f} % "
        f"({ratio:.0f}× fewer)"
    )
    sentence += (
        ": imbalanced — the rare labels need more examples (sample for them or collect more)."
        if warn
        else ": balanced enough."
    )
    return Imbalance(warn, ratio, largest, smallest, sentence)


def wilson_interval(p: float | None, n: int | None, z: float = WILSON_Z) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a proportion ``p`` observed on ``n`` trials; (None, None) when unknown."""
    if p is None or not n:
        return None, None
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# Below this many items a share and its interval say next to nothing (one item reads 0 % or 100 %): pages show
# "too few items" with the count instead.
MIN_N_FOR_SHARE = 5


def share_interval(p: float | None, n: int | None) -> tuple[float | None, float | None]:
    """Wilson interval of a share over ``n`` items, or (None, None) when unknown or ``n < MIN_N_FOR_SHARE``.

    Items, not judgements, are the unit: judgements on one item are correlated, so counting them would
    narrow the interval. Wilson rather than a bootstrap percentile: on a few items every resample gives the
    same all-right or all-wrong share and the percentile interval collapses to a point."""
    if p is None or not n or n < MIN_N_FOR_SHARE or (isinstance(p, float) and math.isnan(p)):
        return None, None
    return wilson_interval(p, n)


def share_text(p: float | None, n: int | None) -> str:
    """ "62.5 % [40.9 %, 80.0 %] · n = 19" (95 % Wilson interval over ``n`` items), "too few items (n = 3)"
    under ``MIN_N_FOR_SHARE``, "—" when there is no figure."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    if not n or n < MIN_N_FOR_SHARE:
        return f"too few items (n = {n or 0})"
    low, high = wilson_interval(p, n)
    if low is None or high is None:
        return "—"
    return f"{100 * p:.1f} % [{100 * low:.1f} %, {100 * high:.1f} %] · n = {n:,}"


def interval(row: Mapping, key: str) -> tuple[float | None, float | None]:
    """``row[key + "_ci"]`` as (low, high), tolerating a missing or malformed entry."""
    value = row.get(f"{key}_ci")
    if isinstance(value, Sequence) and len(value) == 2:
        return value[0], value[1]
    return None, None


def flag_totals(
    summaries: Iterable[Mapping[str, int] | None], live: Iterable[Sequence[str]] = ()
) -> dict[str, int]:
    """Items per flag: stored per-batch counts plus the flags of items in batches not summarised yet;
    sorted by count, then name."""
    totals: dict[str, int] = {}
    for counts in summaries:
        for flag, n in (counts or {}).items():
            totals[flag] = totals.get(flag, 0) + int(n)
    for flags in live:
        for flag in flags or ():
            totals[flag] = totals.get(flag, 0) + 1
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def confusion_total(matrices: Iterable[Sequence[Sequence[float]]], size: int) -> list[list[float]]:
    """Element-wise sum of square matrices of ``size`` (malformed ones are skipped)."""
    total = [[0.0] * size for _ in range(size)]
    for matrix in matrices:
        if len(matrix) != size or any(len(row) != size for row in matrix):
            continue
        for r in range(size):
            for c in range(size):
                total[r][c] += matrix[r][c]
    return [[int(v) if float(v).is_integer() else v for v in row] for row in total]


def column_sums(matrix: Sequence[Sequence[float]]) -> list[float]:
    """Per column totals: in a (consensus × annotator label) confusion, how often the annotator chose each label."""
    if not matrix:
        return []
    return [sum(row[c] for row in matrix) for c in range(len(matrix[0]))]


def shares(values: Sequence[float]) -> list[float | None]:
    total = sum(values)
    return [None if not total else v / total for v in values]


def error_reading(row: Mapping) -> str:
    """The quality engine's one-line reading of an error-analysis row, or one composed from its numbers."""
    if row.get("reading"):
        return str(row["reading"]).replace("`", "")
    share, gap, gain = row.get("share_of_data"), row.get("gap"), row.get("potential_gain")
    if share is None or gap is None or gain is None:
        return f"{row.get('tag')}: no comparable judgements"
    return f"{row.get('tag')}: {100 * share:.0f} % of data, gap {gap:.1f} points → at most {gain:.2f} points overall"


# Profile fields worth a glance per batch, in this order (whichever the modality has).
PROFILE_FIELDS = (
    ("length", "length", ""),
    ("width", "width", " px"),
    ("height", "height", " px"),
    ("brightness", "brightness", ""),
    ("duration", "duration", " s"),
    ("loudness_dbfs", "loudness", " dBFS"),
    ("snr_db", "SNR", " dB"),
)


def profile_line(summary: Mapping, limit: int = 3) -> str:
    """ "length median 110 (p5–p95 40–260)" for the first ``limit`` profile fields a batch summary holds."""
    numeric = (summary or {}).get("numeric") or {}
    parts = []
    for key, name, unit in PROFILE_FIELDS:
        row = numeric.get(key)
        if not row or row.get("p50") is None:
            continue
        text = f"{name} median {row['p50']:.3g}{unit}"
        if row.get("p5") is not None and row.get("p95") is not None:
            text += f" (p5–p95 {row['p5']:.3g}–{row['p95']:.3g})"
        parts.append(text)
        if len(parts) == limit:
            break
    return "; ".join(parts)
