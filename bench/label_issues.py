"""Label-error detection on scikit-learn's digits with realistic asymmetric noise.

70/30 stratified train/test split; in the training part 10 % or 20 % of labels are swapped to a confusable digit
(3/5/8, 1/7, 4/9, 0/6, 2/3/7). One label per item. Flags are scored against the swapped items; a logistic
regression is then retrained on the training part without the flagged items and scored on the clean test part.
Means over 5 seeds.

Run: /root/.lgvenv/bin/python bench/label_issues.py
"""

from __future__ import annotations

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# One BLAS thread: on a shared 2-core machine, busy-waiting BLAS threads made this run 50x slower.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from cleanlab.filter import find_label_issues as cleanlab_find_label_issues  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bench.digits_confusions import PARTNERS, SEEDS, K  # noqa: E402
from quality.metrics.label_issues import find_label_issues_from_features  # noqa: E402


def corrupt(labels: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    chosen = rng.choice(labels.size, size=int(round(rate * labels.size)), replace=False)
    noisy = labels.copy()
    noisy[chosen] = [rng.choice(PARTNERS[c]) for c in labels[chosen]]
    return noisy, np.isin(np.arange(labels.size), chosen)


def logreg() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def mlp() -> object:
    return make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=500, random_state=0))


def oos(make: object, features: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    probs = np.zeros((labels.size, K))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(features, labels):
        model = make()  # type: ignore[operator]
        model.fit(features[train], labels[train])
        probs[test[:, None], model.classes_] = model.predict_proba(features[test])
    return probs


def scores(flags: np.ndarray, corrupted: np.ndarray) -> tuple[float, float, float]:
    hits = (flags & corrupted).sum()
    precision = hits / max(flags.sum(), 1)
    recall = hits / corrupted.sum()
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


def test_accuracy(features: np.ndarray, labels: np.ndarray, keep: np.ndarray, x_test, y_test) -> float:
    model = logreg()
    model.fit(features[keep], labels[keep])  # type: ignore[attr-defined]
    return float((model.predict(x_test) == y_test).mean())  # type: ignore[attr-defined]


def main() -> None:
    warnings.filterwarnings("ignore")
    features, truth = load_digits(return_X_y=True)
    rows: dict[tuple[float, str], list[tuple[float, ...]]] = {}
    for rate in (0.1, 0.2):
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            x_train, x_test, y_train, y_test = train_test_split(
                features, truth, test_size=0.3, random_state=seed, stratify=truth
            )
            noisy, corrupted = corrupt(y_train, rate, rng)
            everything = np.ones(noisy.size, dtype=bool)
            baseline = test_accuracy(x_train, noisy, everything, x_test, y_test)
            candidates = {
                "cleanlab default, LR probs": cleanlab_find_label_issues(
                    noisy, oos(logreg, x_train, noisy, seed), n_jobs=1
                ),
                "cleanlab default, MLP probs": cleanlab_find_label_issues(
                    noisy, oos(mlp, x_train, noisy, seed), n_jobs=1
                ),
                "naive: LR argmax != label": oos(logreg, x_train, noisy, seed).argmax(axis=1) != noisy,
                "Labelgate recipe (LR C=0.1 + kNN)": find_label_issues_from_features(
                    features=x_train, consensus_label=noisy, n_classes=K, seed=seed
                )[0].is_label_issue,
            }
            for name, flags in candidates.items():
                precision, recall, f1 = scores(flags, corrupted)
                cleaned = test_accuracy(x_train, noisy, ~flags, x_test, y_test)
                rows.setdefault((rate, name), []).append((precision, recall, f1, baseline, cleaned))
    header = f"{'noise':>5s}  {'method':36s} {'prec':>6s} {'recall':>6s} {'F1':>6s} {'acc all':>8s} {'acc kept':>8s}"
    print(header)
    for (rate, name), values in rows.items():
        mean = np.mean(values, axis=0)
        print(
            f"{rate:5.0%}  {name:36s} "
            + " ".join(f"{v:6.3f}" if i < 3 else f"{v:8.3f}" for i, v in enumerate(mean))
        )


if __name__ == "__main__":
    main()
