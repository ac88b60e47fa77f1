"""Scoring a large pool: 1,000,000 items × 64-dim features × 10 classes, every strategy including BALD
with 10 MC-dropout samples, chunk by chunk. Reports seconds per strategy and the process's peak RSS.
Run: /root/.lgvenv/bin/python bench/al_scoring.py [--items 1000000] [--threads 2]
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from activelearning.basemodel import BaseModel, TrainingConfig  # noqa: E402
from activelearning.strategies import diverse_batch, score_chunks, top_candidates  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=32_768)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_classes, dim = 10, 64
    centres = rng.normal(scale=2.0, size=(n_classes, dim)).astype(np.float32)
    train_y = np.arange(2_000) % n_classes
    train_X = centres[train_y] + rng.normal(size=(2_000, dim)).astype(np.float32)
    started = time.perf_counter()
    model = BaseModel(config=TrainingConfig(n_threads=args.threads)).fit(
        train_X, train_y, n_classes=n_classes
    )
    fit_seconds = time.perf_counter() - started
    pool = np.empty((args.items, dim), dtype=np.float32)  # generated in blocks to keep the float64 temp small
    for start in range(0, args.items, 100_000):
        stop = min(start + 100_000, args.items)
        labels = rng.integers(0, n_classes, stop - start)
        pool[start:stop] = centres[labels] + 1.5 * rng.normal(size=(stop - start, dim)).astype(np.float32)
    baseline = peak_rss_mib()
    print(
        f"pool {args.items:,} × {dim} float32 ({pool.nbytes / 2**20:.0f} MiB), {n_classes} classes, "
        f"MLP hidden 128, {args.threads} torch threads, chunk {args.chunk:,}; fit on 2,000 rows {fit_seconds:.1f} s; "
        f"peak RSS before scoring {baseline:.0f} MiB"
    )
    print("| strategy | wall s | CPU s (all threads) | top-1000 kept | peak RSS MiB |")
    print("|---|---|---|---|---|")

    def probabilities(chunk: np.ndarray) -> np.ndarray:
        return model.predict_proba(chunk, batch_size=args.chunk)

    def mc_samples(chunk: np.ndarray) -> np.ndarray:
        return model.mc_dropout_proba(chunk, n_samples=10, batch_size=args.chunk)

    for strategy in ("random", "least_confidence", "margin", "entropy", "bald"):
        started, cpu_started = time.perf_counter(), time.process_time()
        predict = mc_samples if strategy == "bald" else probabilities
        chunks = score_chunks(features=pool, strategy=strategy, predict=predict, chunk_size=args.chunk)
        best = top_candidates(chunks=chunks, m=1_000, exclude=np.arange(5_000))
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"| {strategy} | {seconds:.1f} | {cpu_seconds:.1f} | {len(best.indices)} | {peak_rss_mib():.0f} |"
        )
    started = time.perf_counter()
    batch = diverse_batch(features=pool, candidates=best.indices, batch_size=100)
    print(
        f"| diversity (k-means++ 100 of the BALD top 1,000) | {time.perf_counter() - started:.2f} | – | "
        f"{len(np.unique(batch))} | {peak_rss_mib():.0f} |"
    )


if __name__ == "__main__":
    main()
