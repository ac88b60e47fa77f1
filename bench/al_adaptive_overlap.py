"""Adaptive overlap vs a fixed number of annotations per item, on load_digits with simulated annotators.

Pure simulation with the pure modules (``activelearning.overlap``, ``activelearning.basemodel``); no database.
Every item has a pre-drawn stream of up to MAX_VOTES votes from distinct simulated annotators, and every policy
reads votes from the front of the same streams (common random numbers), so differences come from the policies.

Annotators: 40, accuracy uniform in [0.7, 0.95]. Items: difficulty d ~ Beta(1, 4); a vote is right with
probability acc·(1 − d) + d/K, and a wrong vote goes to the item's one "confusable" class with probability 0.6,
else to a uniformly random other class — errors on an item are correlated, as real confusions are.
Consensus is majority vote, ties broken at random (seeded). Early stopping uses out-of-sample (5-fold) base-model
probabilities trained on the fixed-k=3 majority labels, as the job would train on consensus labels.

Run: /root/.lgvenv/bin/python bench/al_adaptive_overlap.py [--seeds 5]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from activelearning.basemodel import TrainingConfig, out_of_sample_proba  # noqa: E402
from activelearning.overlap import additional_annotations  # noqa: E402

N_ANNOTATORS = 40
ACC_LOW, ACC_HIGH = 0.7, 0.95
DIFFICULTY_B = 4.0  # difficulty ~ Beta(1, 4): mean 0.2
MAX_VOTES = 9
FIXED_K = (1, 2, 3, 4, 5, 6, 7)
# (name, k, max_k, early_stop)
ADAPTIVE = (
    ("adaptive k=2→5", 2, 5, False),
    ("adaptive k=3→5", 3, 5, False),
    ("adaptive k=3→7", 3, 7, False),
    ("adaptive k=3→5 + early stop at 2", 3, 5, True),
)


def vote_streams(y: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """(n, MAX_VOTES) labels: each row's votes come from distinct annotators in random order."""
    n = len(y)
    accuracy = rng.uniform(ACC_LOW, ACC_HIGH, N_ANNOTATORS)
    difficulty = rng.beta(1.0, DIFFICULTY_B, n)
    confusable = (y + rng.integers(1, K, n)) % K
    who = np.argsort(rng.random((n, N_ANNOTATORS)), axis=1)[:, :MAX_VOTES]
    p_right = accuracy[who] * (1 - difficulty[:, None]) + difficulty[:, None] / K
    right = rng.random((n, MAX_VOTES)) < p_right
    to_confusable = rng.random((n, MAX_VOTES)) < 0.6
    other = (y[:, None] + rng.integers(1, K, (n, MAX_VOTES))) % K
    wrong = np.where(to_confusable, confusable[:, None], other)
    return np.where(right, y[:, None], wrong)


def counts_of(streams: np.ndarray, used: np.ndarray, K: int) -> np.ndarray:
    n = len(streams)
    mask = np.arange(MAX_VOTES)[None, :] < used[:, None]
    flat = np.bincount((np.arange(n)[:, None] * K + streams)[mask], minlength=n * K)
    return flat.reshape(n, K)


def majority(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.random(counts.shape) * 0.5  # < 1: breaks ties only
    return (counts + noise).argmax(axis=1)


def adaptive(
    streams: np.ndarray, K: int, k: int, max_k: int, proba: np.ndarray | None, confidence: float = 0.9
) -> np.ndarray:
    """Votes used per item, as the app runs it: every item starts with a target of k (2 for new items the model
    is confident about, with early stopping); each time an item reaches its target, ``additional_annotations``
    says how many more it needs, until no item needs any."""
    used = np.full(len(streams), k, dtype=np.int64)
    if proba is not None:
        used = np.where(proba.max(axis=1) >= confidence, min(2, k), k)
    while True:
        needed = additional_annotations(
            votes=counts_of(streams, used, K),
            k=k,
            max_k=max_k,
            model_proba=proba,
            early_stop=proba is not None,
            confidence=confidence,
        )
        if not needed.any():
            return used
        used = used + needed


def envelope_cost(fixed: list[tuple[float, float]], accuracy: float) -> float | None:
    """Annotations per item the fixed-k frontier needs to reach ``accuracy`` (linear between frontier points)."""
    frontier: list[tuple[float, float]] = []
    for cost, acc in sorted(fixed):
        if not frontier or acc > frontier[-1][1]:
            frontier.append((cost, acc))
    for (c0, a0), (c1, a1) in zip(frontier, frontier[1:], strict=False):
        if a0 <= accuracy <= a1:
            return c0 + (accuracy - a0) / (a1 - a0) * (c1 - c0)
    if accuracy <= frontier[0][1]:
        return frontier[0][0]
    return None  # beyond the best fixed k


def run(seed: int, X: np.ndarray, y: np.ndarray, K: int) -> dict[str, tuple[float, float, float]]:
    """{policy: (annotations per item, consensus accuracy, share of items settled on 2 votes)}."""
    rng = np.random.default_rng(seed)
    streams = vote_streams(y, K, rng)
    results: dict[str, tuple[float, float, float]] = {}
    for k in FIXED_K:
        used = np.full(len(y), k)
        label = majority(counts_of(streams, used, K), np.random.default_rng(seed + 1000))
        results[f"fixed k={k}"] = (float(used.mean()), float((label == y).mean()), float((used == 2).mean()))
    k3 = majority(counts_of(streams, np.full(len(y), 3), K), np.random.default_rng(seed + 1000))
    proba = out_of_sample_proba(
        X, k3, n_classes=K, n_folds=5, seed=seed, config=TrainingConfig(seed=seed)
    ).proba
    for name, k, max_k, early in ADAPTIVE:
        used = adaptive(streams, K, k, max_k, proba if early else None)
        label = majority(counts_of(streams, used, K), np.random.default_rng(seed + 1000))
        results[name] = (float(used.mean()), float((label == y).mean()), float((used == 2).mean()))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    digits = load_digits()
    X, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    K = 10
    started = time.perf_counter()
    runs = [run(seed, X, y, K) for seed in range(args.seeds)]
    names = list(runs[0])
    print(
        f"load_digits: {len(y)} items, {K} classes, {N_ANNOTATORS} simulated annotators, {args.seeds} seeds "
        f"({time.perf_counter() - started:.0f} s)\n"
    )
    print(
        "| policy | annotations / item | consensus accuracy | settled on 2 votes | fixed-k annotations for that "
        "accuracy | saving at equal accuracy |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        cost = np.array([r[name][0] for r in runs])
        acc = np.array([r[name][1] for r in runs])
        at_two = np.mean([r[name][2] for r in runs])
        equal = [envelope_cost([r[f"fixed k={k}"][:2] for k in FIXED_K], r[name][1]) for r in runs]
        if name.startswith("fixed") or any(e is None for e in equal):
            extra = "| — | — |" if name.startswith("fixed") else "| beyond k=7 | — |"
        else:
            equal_cost = np.array(equal, dtype=float)
            saving = 1 - cost / equal_cost
            extra = f"| {equal_cost.mean():.2f} | {100 * saving.mean():.0f} % ± {100 * saving.std():.0f} % |"
        print(
            f"| {name} | {cost.mean():.2f} ± {cost.std():.2f} | {100 * acc.mean():.1f} % ± {100 * acc.std():.1f} "
            f"| {100 * at_two:.0f} % {extra}"
        )


if __name__ == "__main__":
    main()
