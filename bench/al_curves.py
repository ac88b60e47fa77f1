"""Active-learning curves of each strategy with the torch base model on scikit-learn's bundled data sets.

Start with 20 random labels, add batches of 20 up to 400, 5 seeds; report test accuracy at 100/200/400
labels and the labels needed to reach 95 % of the full-data accuracy.
Run: /root/.lgvenv/bin/python bench/al_curves.py [--seeds 5]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from activelearning.basemodel import BaseModel, TrainingConfig  # noqa: E402
from activelearning.strategies import diverse_batch, score, top_candidates  # noqa: E402

STRATEGY_NAMES = ("random", "least_confidence", "margin", "entropy", "bald", "margin+diversity")
START, BATCH, BUDGET, MC_SAMPLES = 20, 20, 400, 10


def select(
    strategy: str,
    model: BaseModel,
    pool_X: np.ndarray,
    standardised: np.ndarray,
    labelled: np.ndarray,
    rng: np.random.Generator,
    seed: int,
) -> np.ndarray:
    unlabelled = np.setdiff1d(np.arange(len(pool_X)), labelled)
    if strategy == "random":
        return rng.choice(unlabelled, size=min(BATCH, len(unlabelled)), replace=False)
    if strategy == "bald":
        scores = score(
            strategy="bald", samples=model.mc_dropout_proba(pool_X, n_samples=MC_SAMPLES, seed=seed)
        )
    else:
        scores = score(strategy=strategy.split("+")[0], proba=model.predict_proba(pool_X))
    m = 10 * BATCH if strategy.endswith("+diversity") else BATCH
    best = top_candidates(chunks=iter([(0, scores)]), m=m, exclude=labelled)
    if strategy.endswith("+diversity"):
        return diverse_batch(features=standardised, candidates=best.indices, batch_size=BATCH, seed=seed)
    return best.indices


def run_curve(
    strategy: str,
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_classes: int,
    seed: int,
    config: TrainingConfig,
) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    standardised = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    labelled = rng.choice(len(X), size=START, replace=False)
    curve: dict[int, float] = {}
    while True:
        model = BaseModel(config=config).fit(X[labelled], y[labelled], n_classes=n_classes)
        curve[len(labelled)] = float((model.predict_proba(X_test).argmax(axis=1) == y_test).mean())
        if len(labelled) >= min(BUDGET, len(X)):
            return curve
        labelled = np.concatenate([labelled, select(strategy, model, X, standardised, labelled, rng, seed)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    config = TrainingConfig()
    print(
        f"base model: hidden={config.hidden} dropout={config.dropout} threads={config.n_threads}; "
        f"start {START}, batch {BATCH}, budget {BUDGET}, {args.seeds} seeds, BALD with {MC_SAMPLES} samples"
    )
    for name, loader in (("digits", load_digits), ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        X = X.astype(np.float32)
        n_classes = int(y.max()) + 1
        results: dict[str, list[dict[int, float]]] = {s: [] for s in STRATEGY_NAMES}
        full = []
        started = time.perf_counter()
        for seed in range(args.seeds):
            X_pool, X_test, y_pool, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed
            )
            full_model = BaseModel(config=config).fit(X_pool, y_pool, n_classes=n_classes)
            full.append(float((full_model.predict_proba(X_test).argmax(axis=1) == y_test).mean()))
            for strategy in STRATEGY_NAMES:
                results[strategy].append(
                    run_curve(strategy, X_pool, y_pool, X_test, y_test, n_classes, seed, config)
                )
        target = 0.95 * float(np.mean(full))
        print(
            f"\n{name}: pool {len(y_pool)}, test {len(y_test)}, full-data accuracy {np.mean(full):.3f} "
            f"(95 % = {target:.3f}), {time.perf_counter() - started:.0f} s"
        )
        last = sorted(results["random"][0])[-1]
        print(f"| strategy | acc@100 | acc@200 | acc@{last} | labels to 95 % of full |")
        print("|---|---|---|---|---|")
        for strategy, curves in results.items():
            sizes = sorted(curves[0])
            mean_curve = np.array([np.mean([c[s] for c in curves]) for s in sizes])
            reached = [s for s, acc in zip(sizes, mean_curve, strict=True) if acc >= target]
            at = {s: a for s, a in zip(sizes, mean_curve, strict=True)}
            print(
                f"| {strategy} | {at[100]:.3f} | {at[200]:.3f} | {at[last]:.3f} | "
                f"{reached[0] if reached else f'> {last}'} |"
            )


if __name__ == "__main__":
    main()
