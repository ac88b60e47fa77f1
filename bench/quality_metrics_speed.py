"""Time the quality metrics at 1,000,000 annotations (200,000 items × 5 of 50 annotators, 10 classes)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from quality.metrics.agreement import count_metrics  # noqa: E402
from quality.metrics.agreement_report import agreement_report  # noqa: E402
from quality.metrics.annotators import annotator_quality  # noqa: E402
from quality.metrics.error_analysis import error_analysis  # noqa: E402
from quality.metrics.hlp import human_level_performance  # noqa: E402
from quality.metrics.pairwise import pairwise_cohen_kappa  # noqa: E402
from quality.metrics.reference import leave_one_out_majority, majority_vote  # noqa: E402
from quality.metrics.table import AnnotationTable  # noqa: E402

N_ITEMS, PER_ITEM, N_ANNOTATORS, K = 200_000, 5, 50, 10


def build() -> tuple[AnnotationTable, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, K, N_ITEMS)
    # 5 distinct annotators per item: argsort of random keys gives a random permutation prefix per row.
    annotators = np.argsort(rng.random((N_ITEMS, N_ANNOTATORS)), axis=1)[:, :PER_ITEM]
    correct = rng.random((N_ITEMS, PER_ITEM)) < 0.75
    labels = np.where(correct, truth[:, None], rng.integers(0, K, (N_ITEMS, PER_ITEM)))
    table = AnnotationTable(
        item=np.repeat(np.arange(N_ITEMS), PER_ITEM),
        annotator=annotators.ravel(),
        label=labels.ravel(),
        n_items=N_ITEMS,
        n_annotators=N_ANNOTATORS,
        n_classes=K,
        group=rng.integers(0, 3, N_ITEMS * PER_ITEM),
    )
    pred = np.where(rng.random(N_ITEMS) < 0.8, truth, rng.integers(0, K, N_ITEMS))
    gold = np.where(rng.random(N_ITEMS) < 0.05, truth, -1)
    tags = {f"tag{t}": np.flatnonzero(rng.random(N_ITEMS) < 0.05 * (t + 1)) for t in range(8)}
    lead = rng.exponential(5.0, N_ITEMS * PER_ITEM)
    return table, pred, gold, tags, lead


def timed(name: str, fn, repeat: int = 3) -> tuple[str, float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return name, best, result


def main() -> None:
    t0 = time.perf_counter()
    table, pred, gold, tags, lead = build()
    print(f"built {table.n_annotations:,} annotations in {time.perf_counter() - t0:.2f} s")
    rows = [
        timed(
            "AnnotationTable validation",
            lambda: AnnotationTable(
                item=table.item,
                annotator=table.annotator,
                label=table.label,
                n_items=N_ITEMS,
                n_annotators=N_ANNOTATORS,
                n_classes=K,
            ),
        ),
        timed("percent + Fleiss κ + Krippendorff α (+ per label)", lambda: count_metrics(table=table)),
        timed("pairwise Cohen κ (1,225 pairs)", lambda: pairwise_cohen_kappa(table=table)),
        timed("majority vote", lambda: majority_vote(table=table)),
        timed("leave-one-out majority", lambda: leave_one_out_majority(table=table)),
        timed("agreement_report, no bootstrap", lambda: agreement_report(table=table, n_boot=0)),
        timed(
            "HLP (consensus + gold, model, 8 tags, 3 groups), no bootstrap",
            lambda: human_level_performance(table=table, gold=gold, pred=pred, tags=tags, n_boot=0),
        ),
    ]
    consensus = rows[3][2].label
    rows.append(
        timed(
            "annotator_quality (with lead time, gold)",
            lambda: annotator_quality(table=table, consensus=consensus, gold=gold, lead_time=lead),
        )
    )
    hlp = rows[6][2]
    rows.append(timed("error_analysis (from HLP result)", lambda: error_analysis(hlp=hlp.consensus)))
    rows.append(
        timed(
            "HLP with 200-resample bootstrap",
            lambda: human_level_performance(table=table, gold=gold, pred=pred, tags=tags, n_boot=200),
            repeat=1,
        )
    )
    rows.append(
        timed(
            "agreement_report with 200-resample bootstrap",
            lambda: agreement_report(table=table, n_boot=200),
            repeat=1,
        )
    )
    print("\n| function | seconds |\n|---|---:|")
    for name, seconds, _ in rows:
        print(f"| {name} | {seconds:.3f} |")
    print("\n" + "\n".join(hlp.summary))


if __name__ == "__main__":
    main()
