"""Consensus accuracy and annotator-quality ranking on simulated annotators over scikit-learn's digits.

50 simulated annotators: 44 honest ones with accuracy U(0.55, 0.95) whose mistakes go 70 % to a confusable
digit (3/5/8, 1/7, 4/9, 0/6, 2/3/7) and 30 % anywhere; 3 spammers (uniform labels); 3 adversaries (85 % a
fixed wrong digit per class). Each item gets 3 (or 2) distinct random annotators. Means over 5 seeds.

Run: /root/.lgvenv/bin/python bench/quality_accuracy.py
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# One BLAS thread: on a shared 2-core machine, busy-waiting BLAS threads made this run 50x slower.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bench.digits_confusions import PARTNERS, SEEDS, K  # noqa: E402
from quality.metrics.consensus import crowdlab, dawid_skene, iterative_crowdlab, majority_vote  # noqa: E402
from quality.metrics.consensus_oos import cross_val_pred_probs  # noqa: E402
from quality.metrics.table import AnnotationTable  # noqa: E402


def annotator_confusions(rng: np.random.Generator) -> np.ndarray:
    matrices = []
    for _ in range(44):
        accuracy = rng.uniform(0.55, 0.95)
        matrix = np.zeros((K, K))
        for k in range(K):
            matrix[k] = 0.3 * (1 - accuracy) / (K - 1)
            matrix[k, PARTNERS[k]] += 0.7 * (1 - accuracy) / len(PARTNERS[k])
            matrix[k, k] = accuracy
        matrices.append(matrix)
    matrices += [np.full((K, K), 1 / K)] * 3
    for _ in range(3):
        wrong = rng.permutation(K)
        while (wrong == np.arange(K)).any():
            wrong = rng.permutation(K)
        matrix = np.full((K, K), 0.15 / (K - 1))
        matrix[np.arange(K), wrong] = 0.85
        matrices.append(matrix)
    return np.array(matrices)


def simulate(seed: int, per_item: int) -> tuple[np.ndarray, np.ndarray, AnnotationTable, np.ndarray]:
    rng = np.random.default_rng(seed)
    features, truth = load_digits(return_X_y=True)
    confusion = annotator_confusions(rng)
    n_annotators, n_items = len(confusion), len(truth)
    annotator = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item].ravel()
    item = np.repeat(np.arange(n_items), per_item)
    cumulative = confusion[annotator, truth[item]].cumsum(axis=1)
    label = np.minimum((rng.random(item.size)[:, None] > cumulative).sum(axis=1), K - 1)
    table = AnnotationTable(
        item=item, annotator=annotator, label=label, n_items=n_items, n_annotators=n_annotators, n_classes=K
    )
    seen = np.bincount(annotator, minlength=n_annotators)
    true_accuracy = np.bincount(annotator, weights=label == truth[item], minlength=n_annotators) / seen
    return features, truth, table, true_accuracy


def plain_logreg_oos(features: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """The reference model: default logistic regression on standardised pixels, 5-fold."""
    probs = np.zeros((labels.size, K))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(features, labels):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(features[train], labels[train])
        probs[test[:, None], model.classes_] = model.predict_proba(features[test])
    return probs


def run(per_item: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        out.setdefault(name, []).append(float(value))

    for seed in SEEDS:
        features, truth, table, true_accuracy = simulate(seed, per_item)
        mv = majority_vote(table=table)
        ds = dawid_skene(table=table).consensus
        record("MV", (mv.label == truth).mean())
        record("DS", (ds.label == truth).mean())
        record("rho DS", spearmanr(ds.annotator_quality, true_accuracy)[0])

        reference = crowdlab(table=table, pred_probs=plain_logreg_oos(features, mv.label, seed))
        record("CROWDLAB, LR on MV", (reference.label == truth).mean())
        record("rho CROWDLAB, LR on MV", spearmanr(reference.annotator_quality, true_accuracy)[0])
        retrained = crowdlab(table=table, pred_probs=plain_logreg_oos(features, reference.label, seed))
        record("CROWDLAB, LR on MV, retrained once", (retrained.label == truth).mean())

        def fit(labels: np.ndarray, seed: int = seed, features: np.ndarray = features) -> np.ndarray:
            return cross_val_pred_probs(features=features, labels=labels, n_classes=K, seed=seed)

        for rounds in (1, 2, 3):
            result = iterative_crowdlab(table=table, fit_predict_oos=fit, rounds=rounds)
            record(f"iterative_crowdlab DS init, rounds={rounds}", (result.consensus.label == truth).mean())
            record(
                f"rho iterative_crowdlab rounds={rounds}",
                spearmanr(result.consensus.annotator_quality, true_accuracy)[0],
            )
        mv_init = iterative_crowdlab(table=table, fit_predict_oos=fit, rounds=2, init="majority_vote")
        record("iterative_crowdlab MV init, rounds=2", (mv_init.consensus.label == truth).mean())
    return out


def time_dawid_skene() -> tuple[float, int]:
    rng = np.random.default_rng(0)
    n_items, n_annotators, per_item = 200_000, 100, 5
    truth = rng.integers(0, K, n_items)
    accuracy = rng.uniform(0.5, 0.95, n_annotators)
    annotator = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :per_item].ravel()
    item = np.repeat(np.arange(n_items), per_item)
    correct = rng.random(item.size) < accuracy[annotator]
    label = np.where(correct, truth[item], rng.integers(0, K, item.size))
    table = AnnotationTable(
        item=item, annotator=annotator, label=label, n_items=n_items, n_annotators=n_annotators, n_classes=K
    )
    start = time.perf_counter()
    fit = dawid_skene(table=table)
    return time.perf_counter() - start, fit.n_iter


def main() -> None:
    results = {per_item: run(per_item) for per_item in (3, 2)}
    names = list(results[3])
    print(f"{'method (mean of 5 seeds)':48s} {'3/item':>8s} {'2/item':>8s}")
    for name in names:
        cells = [f"{np.mean(results[p][name]):8.3f}" for p in (3, 2)]
        print(f"{name:48s} {' '.join(cells)}")
    seconds, n_iter = time_dawid_skene()
    print(
        f"\nDawid-Skene on 1,000,000 annotations (200k items x 5, 100 annotators, 10 classes): "
        f"{seconds:.2f} s, {n_iter} EM iterations"
    )


if __name__ == "__main__":
    main()
