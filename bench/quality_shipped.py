"""The quality run as the app ships it: ``quality.services.engine.run_quality`` with the project's cached features.

``quality_accuracy.py`` and ``label_issues.py`` measure the pure recipes; this script measures the engine that a
quality job calls, fed the way the job feeds it (``ProjectData`` with ``features`` from the feature cache), on
the same simulations:

1. consensus accuracy and annotator-quality Spearman with 3 and 2 annotations per item (50 simulated annotators,
   ``quality_accuracy.simulate``), method ``auto``;
2. label-issue F1 (``is_label_issue``) with one label per item and 10 % / 20 % confusable-digit noise
   (``label_issues.corrupt``), method ``auto`` (Dawid–Skene: no item has two labels).

Two feature sets: the raw 8×8 pixels, and the app's own image extractor on the demo's PNG renders of the digits
(what a training run caches for the demo image project). Means over 5 seeds.

Run: .venv/bin/python bench/quality_shipped.py
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from activelearning.features import extractor_for  # noqa: E402
from bench.digits_confusions import SEEDS, K  # noqa: E402
from bench.label_issues import corrupt  # noqa: E402
from bench.quality_accuracy import simulate  # noqa: E402
from ingress.demo.media import digit_png  # noqa: E402
from quality.adapters import ProjectData, project_data_for_table  # noqa: E402
from quality.metrics.table import AnnotationTable  # noqa: E402
from quality.services.engine import run_quality  # noqa: E402


def project_data(table: AnnotationTable, features: np.ndarray) -> ProjectData:
    """What ``project_data_load`` + ``item_features_load`` return for a project holding ``table``."""
    return project_data_for_table(table=table, label_values=[str(d) for d in range(K)], features=features)


def run(data: ProjectData):
    return run_quality(
        data=data, requested_method="auto", review_threshold=0.6, route_profile_flags=True, n_boot=0
    )


def consensus_rows(feature_sets: dict[str, np.ndarray]) -> None:
    print("consensus accuracy / annotator-quality Spearman (method auto)")
    for per_item in (3, 2):
        for name, features in feature_sets.items():
            accuracy, reviewed, overridden, rho, seconds = [], [], [], [], []
            for seed in SEEDS:
                _, truth, table, true_accuracy = simulate(seed, per_item)
                table = AnnotationTable(
                    item=table.item,
                    annotator=table.annotator,
                    label=table.label,
                    n_items=table.n_items,
                    n_annotators=table.n_annotators,
                    n_classes=K,
                    group=np.zeros(table.n_annotations, dtype=np.int64),
                )
                started = time.perf_counter()
                outcome = run(project_data(table, features))
                seconds.append(time.perf_counter() - started)
                label = np.array([int(value) for value in outcome.items.consensus])
                accuracy.append((label == truth).mean())
                # The stored consensus is always a voted label; where the method's pick had no vote it is a
                # suggestion a reviewer sees on the item. "reviewed" counts those suggestions as accepted.
                picked = np.array(
                    [c if s is None else int(s) for c, s in zip(label, outcome.items.suggestion, strict=True)]
                )
                reviewed.append((picked == truth).mean())
                overridden.append(np.mean(["model_overrides_annotators" in r for r in outcome.items.reasons]))
                rho.append(
                    spearmanr([row["quality_score"] for row in outcome.annotators], true_accuracy).statistic
                )
            print(
                f"  {per_item}/item  {name:28s} method={outcome.method:12s} accuracy {np.mean(accuracy):.3f}  "
                f"with suggestions {np.mean(reviewed):.3f}  overridden {np.mean(overridden):.1%}  "
                f"spearman {np.mean(rho):.3f}  run {np.mean(seconds):.1f} s"
            )


def issue_rows(feature_sets: dict[str, np.ndarray], truth: np.ndarray) -> None:
    print("label issues, one label per item (is_label_issue)")
    for rate in (0.1, 0.2):
        for name, features in feature_sets.items():
            scores = []
            for seed in SEEDS:
                rng = np.random.default_rng(seed)
                noisy, corrupted = corrupt(truth, rate, rng)
                n = truth.size
                table = AnnotationTable(
                    item=np.arange(n),
                    annotator=rng.integers(0, 20, n),
                    label=noisy,
                    n_items=n,
                    n_annotators=20,
                    n_classes=K,
                    group=np.zeros(n, dtype=np.int64),
                )
                outcome = run(project_data(table, features))
                flags = np.asarray(outcome.items.is_issue, dtype=bool)
                hits = (flags & corrupted).sum()
                precision, recall = hits / max(flags.sum(), 1), hits / corrupted.sum()
                scores.append((precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)))
            p, r, f1 = np.mean(scores, axis=0)
            print(
                f"  {rate:4.0%}  {name:28s} method={outcome.method:12s} precision {p:.3f} recall {r:.3f} F1 {f1:.3f}"
            )


def main() -> None:
    digits = load_digits()
    pixels, truth = digits.data, digits.target
    started = time.perf_counter()
    app = extractor_for("image").transform([digit_png(image, gain=1.0) for image in digits.images])
    print(
        f"app image features: {app.values.shape} in {time.perf_counter() - started:.1f} s ({app.extractor})"
    )
    feature_sets = {"raw pixels": pixels, "app extractor on demo PNGs": app.values}
    consensus_rows(feature_sets)
    issue_rows(feature_sets, truth)


if __name__ == "__main__":
    main()
