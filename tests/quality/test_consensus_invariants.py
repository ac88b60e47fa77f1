"""Property: whatever the votes and model probabilities, the consensus a quality run stores is a label one of the
item's annotators chose, unless the item's reasons say the method overrode them; a label nobody chose only ever
appears as the suggestion, on an item with that reason."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quality.adapters import project_data_for_table
from quality.metrics.table import AnnotationTable
from quality.services.engine import run_quality

OVERRIDE = "model_overrides_annotators"


@st.composite
def crowds(draw, *, with_probs: bool):
    """A small table of votes (every item labelled by 1..all annotators, at least one item twice) and, when asked,
    model probabilities that are often near certain about an arbitrary class."""
    n_classes = draw(st.integers(2, 4))
    n_annotators = draw(st.integers(2, 5))
    n_items = draw(st.integers(3, 10))
    item, annotator, label = [], [], []
    for i in range(n_items):
        who = draw(st.lists(st.integers(0, n_annotators - 1), min_size=1, max_size=n_annotators, unique=True))
        if i == 0 and len(who) < 2:
            who = [0, 1]
        for a in who:
            item.append(i)
            annotator.append(a)
            label.append(draw(st.integers(0, n_classes - 1)))
    table = AnnotationTable(
        item=np.array(item),
        annotator=np.array(annotator),
        label=np.array(label),
        n_items=n_items,
        n_annotators=n_annotators,
        n_classes=n_classes,
        group=np.zeros(len(item), dtype=np.int64),
    )
    data = project_data_for_table(table=table, label_values=[f"c{c}" for c in range(n_classes)])
    if with_probs:
        rows = []
        for _ in range(n_items):
            favourite = draw(st.integers(0, n_classes - 1))
            strength = draw(st.floats(1.0 / n_classes, 0.999))
            row = np.full(n_classes, (1.0 - strength) / (n_classes - 1))
            row[favourite] = strength
            rows.append(row)
        data = replace(data, pred_probs=np.array(rows), has_probs=np.ones(n_items, dtype=bool))
    return data


def _check(data, method: str) -> None:
    outcome = run_quality(
        data=data, requested_method=method, review_threshold=0.6, route_profile_flags=True, n_boot=0
    )
    counts = data.table.counts()
    values = data.label_values
    items = outcome.items
    for i in range(data.table.n_items):
        voted = {values[c] for c in np.flatnonzero(counts[i])}
        overridden = OVERRIDE in items.reasons[i]
        if voted:
            assert items.consensus[i] in voted or overridden, (i, items.consensus[i], voted, items.reasons[i])
        suggestions = getattr(items, "suggestion", None)
        suggestion = suggestions[i] if suggestions is not None else None
        if suggestion is not None:
            assert suggestion not in voted and overridden and items.consensus[i] in voted


PROPERTY = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("method", ["majority_vote", "dawid_skene", "crowdlab"])
@PROPERTY
@given(data=crowds(with_probs=False))
def test_consensus_is_voted_or_overridden_without_model_probabilities(method, data):
    _check(data, method)


@pytest.mark.parametrize("method", ["crowdlab", "auto"])
@PROPERTY
@given(data=crowds(with_probs=True))
def test_consensus_is_voted_or_overridden_with_model_probabilities(method, data):
    _check(data, method)
