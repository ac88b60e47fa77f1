"""A span project's quality run through the engine's structured seam, on answers held in memory: figures against
independent computations, reasons on the items they describe, annotators against consensus and gold."""

import re

import krippendorff
import numpy as np
import pytest

from kinds.spans.spans_quality import SPANS
from quality.adapters import ProjectAnswers
from quality.services.engine import run_structured_quality

LABELS = ["PER", "LOC"]
TEXTS = [
    "Ann lives in Oslo",  # 0: all agree
    "Bob went to Rome today",  # 1: annotator 2 extends Rome to "Rome today" (boundary)
    "Carl met Dora",  # 2: annotator 2 calls Dora LOC (type confusion)
    "Eve and Finn",  # 3: annotator 2 misses Finn
    "nothing to see",  # 4: annotator 2 marks "see" (spurious)
    "Gus in Hull",  # 5: all agree, gold disagrees (Hull as PER)
]


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


GOOD = [
    [_s(0, 3, "PER"), _s(13, 17, "LOC")],
    [_s(0, 3, "PER"), _s(12, 16, "LOC")],
    [_s(0, 4, "PER"), _s(9, 13, "PER")],
    [_s(0, 3, "PER"), _s(8, 12, "PER")],
    [],
    [_s(0, 3, "PER"), _s(7, 11, "LOC")],
]
THIRD = [
    GOOD[0],
    [_s(0, 3, "PER"), _s(12, 22, "LOC")],
    [_s(0, 4, "PER"), _s(9, 13, "LOC")],
    [_s(0, 3, "PER")],
    [_s(11, 14, "PER")],
    GOOD[5],
]


def _answers(gold=None):
    items, users, values = [], [], []
    for d in range(len(TEXTS)):
        for a, source in enumerate((GOOD, GOOD, THIRD)):
            items.append(d)
            users.append(a)
            values.append(source[d])
    n = len(TEXTS)
    return ProjectAnswers(
        item_ids=np.arange(101, 101 + n),
        item_status=np.array(["labelled"] * n, dtype=object),
        item_text=TEXTS,
        item_metadata=[{}] * n,
        gold=gold or [None] * n,
        flagged=np.zeros(n, dtype=bool),
        unsure_count=np.zeros(n, dtype=np.int64),
        unusable_count=np.zeros(n, dtype=np.int64),
        answer_item=np.array(items),
        answer_user=np.array(users),
        answer_value=values,
        user_ids=np.array([7, 8, 9]),
        label_values=LABELS,
        task_type="text_spans",
    )


def _run(answers, method="dawid_skene"):
    return run_structured_quality(
        answers=answers,
        encoding=SPANS,
        requested_method=method,
        review_threshold=0.6,
        route_profile_flags=True,
    )


def test_report_figures_equal_independent_computations():
    outcome = _run(_answers(), method="majority_vote")
    figures = outcome.kind_figures
    # Pairs (7, 8): identical, 10 spans each → F1 1. (7, 9) and (8, 9): 10 + 10 spans, matches: doc0 2, doc1 1,
    # doc2 1, doc3 1, doc5 2 = 7 → 14/20.
    assert figures["mean_pairwise_span_f1"] == pytest.approx((1 + 14 / 20 + 14 / 20) / 3)
    assert figures["cohen_min_overlap"] == 5
    # Token α with the krippendorff package on the token values written out by hand.
    rows = []
    for source in (GOOD, GOOD, THIRD):
        row = []
        for text, spans in zip(TEXTS, source, strict=True):
            for token in re.finditer(r"\S+", text):
                cover = [s for s in spans if s["start"] <= token.start() < s["end"]]
                row.append(0 if not cover else 1 + LABELS.index(cover[0]["label"]))
        rows.append(row)
    reliability = np.array(rows, dtype=float)
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert figures["token_krippendorff_alpha"] == pytest.approx(expected, abs=1e-6)
    assert outcome.scalars["krippendorff_alpha"] == pytest.approx(expected, abs=1e-6)
    per = krippendorff.alpha(
        reliability_data=(reliability == 2).astype(float), level_of_measurement="nominal"
    )
    assert outcome.per_label["LOC"]["token_krippendorff_alpha"] == pytest.approx(per, abs=1e-6)


def test_consensus_spans_and_reasons_on_the_items_they_describe():
    outcome = _run(_answers(gold=[None] * 5 + [[_s(0, 3, "PER"), _s(7, 11, "PER")]]))
    items = outcome.items
    assert [{k: v for k, v in s.items() if k != "confidence"} for s in items.consensus[1]] == GOOD[1]
    assert all(0 < s["confidence"] <= 1 for s in items.consensus[1])
    reasons = dict(zip(items.item_ids.tolist(), items.reasons, strict=True))
    assert reasons[101] == []
    assert "boundary_disagreement" in reasons[102]
    assert "type_confusion" in reasons[103]
    assert "missed_entity" in reasons[104]
    assert "spurious_entity" in reasons[105]
    assert "gold_mismatch" in reasons[106]
    assert items.is_issue.tolist()[5]
    by_user = {row["user_id"]: row for row in outcome.annotators}
    # Annotator 9 against the consensus (= the others' spans): 10 spans, 7 match, 10 consensus spans.
    assert by_user[9]["kind_figures"]["span_precision"] == pytest.approx(7 / 10)
    assert by_user[9]["kind_figures"]["span_recall"] == pytest.approx(7 / 10)
    # Gold on item 106 only: annotator 7's two spans, one matches the two gold spans.
    assert by_user[7]["kind_figures"]["gold_span_f1"] == pytest.approx(0.5)
    assert by_user[7]["n_gold"] == 1
