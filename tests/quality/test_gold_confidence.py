"""On a gold item the consensus's correctness is known, not estimated: its confidence (shown as the probability
that the consensus is right) is 1 where the consensus equals the gold label and 0 where it differs, in the run
and in the per-item update, and no review reason rests on the posterior the gold label has overruled.

Reproduces what a reviewer saw: ``os.pwrite`` with consensus formats (2 of 3) at confidence 1.00 beside
Gold = files and a ``gold_mismatch`` flag."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from quality.adapters import project_data_for_table
from quality.metrics.consensus_votes import gold_settled_confidence
from quality.metrics.table import AnnotationTable
from quality.services.engine import run_quality


def test_gold_settles_confidence_to_one_or_zero_and_leaves_other_items_alone():
    # Given four items: gold equal, gold different, no gold, no consensus
    label = np.array([2, 1, 0, -1])
    confidence = np.array([0.4, 0.97, 0.61, np.nan])
    gold = np.array([2, 0, -1, 1])
    # When
    settled = gold_settled_confidence(label=label, confidence=confidence, gold=gold)
    # Then (by hand)
    np.testing.assert_array_equal(settled[:3], [1.0, 0.0, 0.61])
    assert np.isnan(settled[3])
    assert confidence[0] == 0.4  # the input is not changed


@given(
    st.lists(
        st.tuples(st.integers(-1, 3), st.integers(-1, 3), st.floats(0, 1, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_a_gold_item_with_a_consensus_reads_one_exactly_when_the_gold_label_agrees(rows):
    label, gold, confidence = (np.array(column) for column in zip(*rows, strict=True))
    settled = gold_settled_confidence(label=label, confidence=confidence.astype(float), gold=gold)
    for lab, g, c, s in zip(label, gold, confidence, settled, strict=True):
        if lab >= 0 and g >= 0:
            assert s == (1.0 if lab == g else 0.0)
        else:
            assert s == c


def _pwrite_run():
    """Three items of labels (files, formats, network); item 0 is os.pwrite: formats ×2, files ×1, gold files;
    item 1 is unanimous network, gold network; item 2 is unanimous files without gold."""
    labels = ["files", "formats", "network"]
    item = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    annotator = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    label = np.array([1, 1, 0, 2, 2, 2, 0, 0, 0])
    table = AnnotationTable(
        item=item,
        annotator=annotator,
        label=label,
        n_items=3,
        n_annotators=3,
        n_classes=3,
        group=np.zeros(9, dtype=np.int64),
    )
    data = replace(project_data_for_table(table=table, label_values=labels), gold=np.array([0, 2, -1]))
    return run_quality(
        data=data, requested_method="dawid_skene", review_threshold=0.6, route_profile_flags=True, n_boot=0
    ).items


def test_a_consensus_that_differs_from_gold_reads_confidence_zero_and_is_a_label_issue():
    items = _pwrite_run()
    assert items.consensus[0] == "formats"
    assert items.confidence[0] == 0.0
    assert items.is_issue[0]
    assert "gold_mismatch" in items.reasons[0]


def test_a_consensus_that_equals_gold_reads_confidence_one_without_a_low_confidence_reason():
    items = _pwrite_run()
    assert items.consensus[1] == "network"
    assert items.confidence[1] == 1.0
    assert "low_consensus_confidence" not in items.reasons[1]
    assert not items.is_issue[1]
    # The item without gold keeps the method's posterior (strictly between 0 and 1 on three votes)
    assert 0.0 < items.confidence[2] < 1.0
