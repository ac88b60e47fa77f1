"""Consensus boxes: hand-computed fusion, and a simulated crowd scored by pycocotools' COCOeval against a plain
per-label IoU clustering with majority vote."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from kinds.boxes.consensus import consensus_boxes, fuse_boxes
from kinds.boxes.metrics import iou
from tests.kinds.box_tables import box_table as _table


def test_fusion_hand_computed():
    # Given three annotators on one item: two cats agreeing closely, a third annotator drawing only a dog
    answers = {
        (0, 0): [(10, 10, 20, 20, 0)],
        (0, 1): [(12, 10, 20, 20, 0)],
        (0, 2): [(100, 100, 10, 10, 1)],
    }
    result = fuse_boxes(_table(answers, 1, 3, 2))
    # Then the cat is kept (2 of 3 annotators), its box is the corners' mean (11, 10)–(31, 30); the dog is dropped
    assert result.label.tolist() == [0]
    np.testing.assert_allclose(result.xywh[0], [11, 10, 20, 20])
    # confidence = 2/3 × mean IoU of the two boxes with the fused one (each overlaps 19×20 of a 20×20 pair)
    member_iou = 19 * 20 / (2 * 400 - 19 * 20)
    assert result.confidence[0] == pytest.approx(2 / 3 * member_iou)
    assert result.box_cluster.tolist() == [0, 0, -1]


def test_duplicate_boxes_of_one_annotator_are_split():
    # Given one annotator who drew the same cat twice and a second annotator who drew it once
    answers = {(0, 0): [(0, 0, 10, 10, 0), (1, 0, 10, 10, 0)], (0, 1): [(0, 0, 10, 10, 0)]}
    result = fuse_boxes(_table(answers, 1, 2, 1))
    # Then no consensus box holds two boxes of one annotator
    assert result.n_annotators.max() <= 2
    assert sorted(result.n_annotators.tolist()) == [1, 2]


def _simulate(seed: int, n_images: int = 300):
    """Truth boxes on 640×480 images and a crowd: 4 careful annotators (jitter, misses, extra boxes, class
    confusion) and one spammer (random boxes and labels); 3 of the 5 annotate each image."""
    rng = np.random.default_rng(seed)
    n_labels = 3
    truth: list[list[tuple]] = []
    answers: dict[tuple[int, int], list[tuple]] = {}
    for image in range(n_images):
        objects = []
        for _ in range(rng.integers(1, 6)):
            w, h = rng.uniform(30, 160, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            objects.append((x, y, w, h, int(rng.integers(0, n_labels))))
        truth.append(objects)
        for annotator in rng.choice(5, size=3, replace=False).tolist():
            boxes = []
            if annotator == 4:
                for _ in range(rng.integers(0, 6)):
                    w, h = rng.uniform(20, 200, 2)
                    boxes.append(
                        (rng.uniform(0, 440), rng.uniform(0, 280), w, h, int(rng.integers(0, n_labels)))
                    )
            else:
                for x, y, w, h, label in objects:
                    if rng.random() < 0.12:
                        continue
                    if rng.random() < 0.06:
                        label = int((label + rng.integers(1, n_labels)) % n_labels)
                    jitter = rng.normal(0, 0.05, 4) * [w, h, w, h]
                    boxes.append((x + jitter[0], y + jitter[1], w + jitter[2], h + jitter[3], label))
                if rng.random() < 0.15:
                    w, h = rng.uniform(30, 120, 2)
                    boxes.append(
                        (rng.uniform(0, 500), rng.uniform(0, 350), w, h, int(rng.integers(0, n_labels)))
                    )
            answers[(image, annotator)] = boxes
    return truth, answers, n_labels


def _majority_clusters(answers, n_images: int, n_labels: int) -> list[tuple]:
    """Per image and label: each box joins the first cluster whose first box it overlaps at IoU ≥ 0.5 (one box per
    annotator per cluster); a cluster drawn by more than half of the image's annotators is kept as the mean of
    its boxes, scored by its vote share."""
    out = []
    for image in range(n_images):
        annotators = [a for (i, a) in answers if i == image]
        for label in range(n_labels):
            clusters: list[list[tuple]] = []
            for a in annotators:
                for box in answers[(image, a)]:
                    if box[4] != label:
                        continue
                    for cluster in clusters:
                        seed = np.array([cluster[0][1][:4]])
                        if a not in {m[0] for m in cluster} and iou(np.array([box[:4]]), seed)[0] >= 0.5:
                            cluster.append((a, box))
                            break
                    else:
                        clusters.append([(a, box)])
            for cluster in clusters:
                if 2 * len(cluster) > len(annotators):
                    mean = np.mean([m[1][:4] for m in cluster], axis=0)
                    out.append((image, label, mean, len(cluster) / len(annotators)))
    return out


def _map50(truth, detections) -> float:
    gt = {
        "images": [{"id": i + 1, "width": 640, "height": 480} for i in range(len(truth))],
        "categories": [{"id": c + 1, "name": str(c)} for c in range(3)],
        "annotations": [
            {
                "id": n + 1,
                "image_id": i + 1,
                "category_id": box[4] + 1,
                "bbox": list(box[:4]),
                "area": box[2] * box[3],
                "iscrowd": 0,
            }
            for n, (i, box) in enumerate((i, box) for i, boxes in enumerate(truth) for box in boxes)
        ],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(
            [
                {"image_id": i + 1, "category_id": c + 1, "bbox": [float(v) for v in xywh], "score": float(s)}
                for i, c, xywh, s in detections
            ]
        )
        evaluator = COCOeval(coco_gt, coco_dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[1])


@pytest.mark.parametrize("seed", [1, 2])
def test_consensus_map_at_least_majority_vote_clustering(seed):
    # Given a simulated crowd with jitter, misses, extra boxes, class confusion and a spammer
    truth, answers, n_labels = _simulate(seed)
    table = _table(answers, len(truth), 5, n_labels)
    # When consensus boxes are computed, and the plain majority-vote clustering directly on the same answers
    result = consensus_boxes(table)
    ours = _map50(
        truth,
        [
            (int(i), int(c), xywh, s)
            for i, c, xywh, s in zip(result.item, result.label, result.xywh, result.confidence, strict=True)
        ],
    )
    baseline = _map50(truth, _majority_clusters(answers, len(truth), n_labels))
    # Then the consensus scores at least as well by pycocotools' mAP@0.5, and the spammer weighs least
    assert ours >= baseline
    assert result.weights.argmin() == 4
