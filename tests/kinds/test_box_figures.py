"""A box run's item reasons, issues and annotator figures on hand-built answers."""

from __future__ import annotations

import numpy as np
import pytest

from kinds.boxes.figures import REASONS, Reference, box_run
from tests.kinds.box_tables import box_table as _table

CAT = (0, 0, 100, 100, 0)


def _reasons(run, item):
    return {REASONS[r] for r in np.flatnonzero(run.item_reasons[item])}


def test_item_reasons():
    # Given four items, three annotators each:
    answers = {
        # item 0: all draw the cat; annotator 2 misses nothing but draws an extra box far away
        (0, 0): [CAT],
        (0, 1): [CAT],
        (0, 2): [CAT, (300, 300, 20, 20, 0)],
        # item 1: annotator 2 misses the cat
        (1, 0): [CAT],
        (1, 1): [CAT],
        (1, 2): [],
        # item 2: annotator 2 calls the cat a dog
        (2, 0): [CAT],
        (2, 1): [CAT],
        (2, 2): [(0, 0, 100, 100, 1)],
        # item 3: annotator 2 draws the cat loosely (IoU with the fused box under 0.75)
        (3, 0): [CAT],
        (3, 1): [CAT],
        (3, 2): [(0, 0, 100, 150, 0)],
    }
    run = box_run(_table(answers, 4, 3, 2), min_overlap=1)
    # Then each item carries its reason, and every item keeps the cat as its consensus
    assert _reasons(run, 0) == {"extra_box"}
    assert _reasons(run, 1) == {"missing_box"}
    assert _reasons(run, 2) == {"missing_box", "class_confusion"}
    assert "loose_boundary" in _reasons(run, 3)
    assert run.consensus.item.tolist() == [0, 1, 2, 3]
    assert set(run.consensus.label.tolist()) == {0}


def test_gold_mismatch_and_annotator_gold_figures():
    # Given two annotators agreeing on a cat, and gold saying the image holds a dog there and a second cat
    answers = {(0, 0): [CAT], (0, 1): [CAT]}
    gold = Reference(
        item=np.array([0, 0]),
        label=np.array([1, 0]),
        xywh=np.array([[0, 0, 100, 100], [200, 200, 50, 50]], dtype=float),
        scope=np.array([True]),
    )
    run = box_run(_table(answers, 1, 2, 2), gold=gold, min_overlap=1)
    # Then the item is a gold mismatch and an issue; each annotator has 0 precision and recall against gold
    assert "gold_mismatch" in _reasons(run, 0)
    assert run.is_issue.tolist() == [True]
    assert run.vs_gold.precision.tolist() == [0.0, 0.0]
    assert run.vs_gold.recall.tolist() == [0.0, 0.0]
    # and full precision and recall against the consensus, at IoU 1
    assert run.vs_consensus.precision.tolist() == [1.0, 1.0]
    assert run.vs_consensus.mean_iou.tolist() == pytest.approx([1.0, 1.0])


def test_unanimous_item_is_no_issue():
    answers = {(0, a): [CAT] for a in range(3)}
    run = box_run(_table(answers, 1, 3, 1), min_overlap=1, review_threshold=0.6)
    assert run.item_confidence.tolist() == pytest.approx([1.0])
    assert not run.is_issue.any()
    assert not run.item_reasons.any()
