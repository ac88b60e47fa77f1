"""Would gating ``is_label_issue`` on a model-aware consensus posterior below 0.5 keep F1 >= 0.82?

The digits protocol of ``label_issues.py`` (70/30 split, 10 % / 20 % of labels swapped to a confusable digit, one
label per item from one of ten annotators), offline: Dawid–Skene consensus (what the shipped path runs with one
label per item), the quality model's out-of-sample probabilities on the raw 8x8 pixels (the API path uses the
image extractor's features), cleanlab ``prune_by_noise_rate``. Gates compared, each ANDed with the pruning:

* none: the shipped flag;
* DS + model prior: posterior of the consensus under Dawid–Skene refitted with the model's probabilities as
  each item's prior (the CROWDLAB path's confidence);
* one Bayes step: the annotator-only posterior reweighted by model / class prior.

Run: .venv/bin/python bench/label_issue_gate.py
"""

from __future__ import annotations

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from bench.label_issues import corrupt, scores  # noqa: E402
from quality.metrics.consensus import dawid_skene  # noqa: E402
from quality.metrics.consensus_oos import cross_val_pred_probs  # noqa: E402
from quality.metrics.label_issues import find_label_issues  # noqa: E402
from quality.metrics.table import AnnotationTable  # noqa: E402


def main() -> None:
    warnings.filterwarnings("ignore")
    features, truth = load_digits(return_X_y=True)
    print("| noise | seed | gate | precision | recall | F1 |\n|---|---|---|---|---|---|")
    for rate in (0.1, 0.2):
        for seed in (0, 1):
            rng = np.random.default_rng(seed)
            x_train, _, y_train, _ = train_test_split(
                features, truth, test_size=0.3, random_state=seed, stratify=truth
            )
            noisy, corrupted = corrupt(y_train, rate, rng)
            n = noisy.size
            table = AnnotationTable(
                item=np.arange(n),
                annotator=rng.integers(0, 10, n),
                label=noisy,
                n_items=n,
                n_annotators=10,
                n_classes=10,
            )
            fit = dawid_skene(table=table)
            label = fit.consensus.label
            probs = cross_val_pred_probs(features=x_train, labels=label, n_classes=10, seed=0)
            pruned = find_label_issues(consensus_label=label, pred_probs=probs).is_label_issue
            rows = np.arange(n)
            with_prior = dawid_skene(table=table, item_prior=probs).consensus.posteriors[rows, label]
            step = fit.consensus.posteriors * probs / fit.priors[None, :]
            step = (step / step.sum(axis=1, keepdims=True))[rows, label]
            for name, flags in (
                ("none (shipped)", pruned),
                ("DS + model prior < 0.5", pruned & (with_prior < 0.5)),
                ("one Bayes step < 0.5", pruned & (step < 0.5)),
            ):
                precision, recall, f1 = scores(flags, corrupted)
                print(f"| {rate:.0%} | {seed} | {name} | {precision:.3f} | {recall:.3f} | {f1:.3f} |")


if __name__ == "__main__":
    main()
