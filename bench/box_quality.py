"""Box quality engine at scale: 100,000 images × 3 annotators × ~5 boxes.

Times, in one process, what the box kind's ``run`` does with the answers ``quality.adapters.answers`` hands it
(answers → box table, ``kinds.boxes.figures.box_run``: pairwise matching, agreement, two-pass consensus,
annotator figures, item reasons; then the report's rows). Reports wall time and peak resident memory. Reading
the answers from the database and storing the results are not included (see bench/RESULTS.md).

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

from kinds.boxes.figures import box_run  # noqa: E402
from kinds.boxes.quality_run import box_outcome, boxes_from_answers  # noqa: E402
from quality.adapters.answers import ProjectAnswers  # noqa: E402

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


def answers_of(rows) -> ProjectAnswers:
    """The rows as ``quality.adapters.project_answers_load`` hands them to the kind (no gold)."""
    items = np.asarray([row[0] for row in rows], dtype=np.int64)
    users = np.asarray([row[1] for row in rows], dtype=np.int64)
    item_ids, item_pos = np.unique(items, return_inverse=True)
    user_ids, user_pos = np.unique(users, return_inverse=True)
    n = int(item_ids.size)
    return ProjectAnswers(
        item_ids=item_ids,
        item_status=np.full(n, "labelled", dtype=object),
        item_text=[""] * n,
        item_metadata=[{}] * n,
        gold=[None] * n,
        flagged=np.zeros(n, dtype=bool),
        unsure_count=np.zeros(n, dtype=np.int64),
        unusable_count=np.zeros(n, dtype=np.int64),
        answer_item=item_pos.ravel().astype(np.int64),
        answer_user=user_pos.ravel().astype(np.int64),
        answer_value=[row[2] for row in rows],
        user_ids=user_ids,
        label_values=list(LABELS),
        task_type="image_boxes",
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    n_images = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    started = time.perf_counter()
    rows = crowd_rows(n_images)
    print(f"generated {len(rows):,} answers in {time.perf_counter() - started:.1f}s; peak {peak_mb():.0f} MB")
    answers = answers_of(rows)
    baseline_mb = peak_mb()
    t0 = time.perf_counter()
    loaded = boxes_from_answers(answers)
    t1 = time.perf_counter()
    table = loaded.table
    run = box_run(table, min_overlap=5, review_threshold=0.6)
    t2 = time.perf_counter()
    result = box_outcome(loaded, run)
    t3 = time.perf_counter()
    print(
        f"{table.n_items:,} images, {table.answer_item.size:,} answers, {table.n_boxes:,} boxes, "
        f"{table.n_annotators} annotators"
    )
    print(f"answers → box table: {t1 - t0:.1f}s")
    print(f"figures (matching, agreement, two-pass consensus, annotators, reasons): {t2 - t1:.1f}s")
    print(f"report rows (per-item consensus boxes as JSON values, annotator rows): {t3 - t2:.1f}s")
    print(
        f"total: {t3 - t0:.1f}s; peak RSS {peak_mb():.0f} MB (answers in memory before: {baseline_mb:.0f} MB)"
    )
    weights = run.consensus.weights
    print(
        f"mean pairwise box F1 {result.kind_figures['mean_pairwise_box_f1']:.4f}, matched IoU "
        f"{result.kind_figures['mean_matched_iou']:.4f}, {run.consensus.item.size:,} consensus boxes, "
        f"{int(run.is_issue.sum()):,} issues; spammer weight {weights[3]:.3f}, "
        f"others {np.delete(weights, 3).min():.3f}–{np.delete(weights, 3).max():.3f}"
    )


def coco_rate(n_images: int) -> None:
    """The COCO writer's own rate: ``kinds.boxes.exports.stream_coco`` over in-memory entry rows (the two
    streamed passes; the database's share, two ordered reads of the entries, is not in it)."""
    import datetime
    import tracemalloc
    from types import SimpleNamespace

    from kinds.boxes import exports

    rng = np.random.default_rng(1)
    boxes_per_image = rng.integers(3, 8, n_images)

    def rows(version, split=None):
        for n in range(n_images):
            boxes = [
                {"x": 10.0 + j, "y": 20.0, "w": 50.5, "h": 40.25, "label": LABELS[j % 5], "confidence": 0.8}
                for j in range(int(boxes_per_image[n]))
            ]
            row = {"item_id": n + 1, "external_id": f"img-{n}", "split": "train", "boxes": boxes}
            yield row, {"width": 640, "height": 480}, f"items/{n}.jpg"

    version = SimpleNamespace(
        label_schema={"labels": [{"id": i, "value": v} for i, v in enumerate(LABELS)]},
        project=SimpleNamespace(name="bench"),
        number=1,
        created_at=datetime.datetime.now(datetime.UTC),
    )
    exports._rows = rows  # type: ignore[assignment]
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in exports.stream_coco(version=version))
    elapsed = time.perf_counter() - started
    # Memory separately: tracing every allocation slows the writer several times over.
    tracemalloc.start()
    sum(len(chunk) for chunk in exports.stream_coco(version=version))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"COCO writer: {n_images:,} images, {int(boxes_per_image.sum()):,} boxes, {size / 1e6:.0f} MB in "
        f"{elapsed:.1f}s = {n_images / elapsed:,.0f} images/s; traced peak {peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    if "--coco" in sys.argv:
        sys.argv.remove("--coco")
        coco_rate(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    else:
        main()
