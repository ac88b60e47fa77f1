"""Which span and box items a quality run routes to review: only a doubtful consensus (confidence under the
project's threshold, a gold mismatch, an unsure/unusable mark, a routed profile flag) routes; the disagreement
reasons stay on the item as information; the first two routing reasons make the item a label issue. Small
hand-built projects, then the rule checked on every item of seeded simulated runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kinds.boxes.quality_run import BOXES
from kinds.spans.spans_quality import SPANS
from quality.adapters import ProjectAnswers
from quality.services.engine import run_structured_quality

THRESHOLD = 0.6
DISAGREEMENT = {
    "boundary_disagreement",
    "type_confusion",
    "missed_entity",
    "spurious_entity",
    "missing_box",
    "extra_box",
    "class_confusion",
    "loose_boundary",
}


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


def _answers(
    *, task_type, labels, texts, per_annotator, gold=None, unsure=None, unusable=None, flagged=None
) -> ProjectAnswers:
    n = len(texts)
    items, users, values = [], [], []
    for d in range(n):
        for a, source in enumerate(per_annotator):
            items.append(d)
            users.append(a)
            values.append(source[d])
    return ProjectAnswers(
        item_ids=np.arange(101, 101 + n),
        item_status=np.array(["labelled"] * n, dtype=object),
        item_text=texts,
        item_metadata=[{}] * n,
        gold=gold or [None] * n,
        flagged=np.zeros(n, dtype=bool) if flagged is None else np.asarray(flagged, dtype=bool),
        unsure_count=np.zeros(n, dtype=np.int64) if unsure is None else np.asarray(unsure, dtype=np.int64),
        unusable_count=np.zeros(n, dtype=np.int64)
        if unusable is None
        else np.asarray(unusable, dtype=np.int64),
        answer_item=np.array(items),
        answer_user=np.array(users),
        answer_value=values,
        user_ids=np.arange(7, 7 + len(per_annotator)),
        label_values=labels,
        task_type=task_type,
    )


def _run(answers, encoding, *, method="majority_vote", threshold=THRESHOLD, route_profile_flags=True):
    return run_structured_quality(
        answers=answers,
        encoding=encoding,
        requested_method=method,
        review_threshold=threshold,
        route_profile_flags=route_profile_flags,
    ).items


# Span project, three annotators, majority vote: a token's confidence is its winning value's vote share.
SPAN_TEXTS = [
    "Bob went to Rome today",  # 0: annotator 2 extends Rome over "today": that token is O by 2 of 3 → 2/3
    "Carl met Dora",  # 1: Dora is PER, LOC and O once each: 1/3
    "Gus in Hull",  # 2: all agree; gold says Hull is a PER
    "Ann lives in Oslo",  # 3: all agree; one annotator marked it unsure
    "Eve and Finn",  # 4: all agree; profiling flagged it
]
SPAN_A = [
    [_s(0, 3, "PER"), _s(12, 16, "LOC")],
    [_s(0, 4, "PER"), _s(9, 13, "PER")],
    [_s(0, 3, "PER"), _s(7, 11, "LOC")],
    [_s(0, 3, "PER"), _s(13, 17, "LOC")],
    [_s(0, 3, "PER"), _s(8, 12, "PER")],
]
SPAN_B = [SPAN_A[0], [_s(0, 4, "PER"), _s(9, 13, "LOC")], *SPAN_A[2:]]
SPAN_C = [[_s(0, 3, "PER"), _s(12, 22, "LOC")], [_s(0, 4, "PER")], *SPAN_A[2:]]


def _span_project(**kwargs):
    return _answers(
        task_type="text_spans",
        labels=["PER", "LOC"],
        texts=SPAN_TEXTS,
        per_annotator=[SPAN_A, SPAN_B, SPAN_C],
        gold=[None, None, [_s(0, 3, "PER"), _s(7, 11, "PER")], None, None],
        unsure=[0, 0, 0, 1, 0],
        flagged=[False, False, False, False, True],
        **kwargs,
    )


def test_span_boundary_disagreement_above_the_threshold_is_information_not_routing():
    items = _run(_span_project(), SPANS)
    # Then "today" (O, O, LOC) makes the item's confidence 2/3, above 0.6: it keeps its reason, unrouted
    assert items.confidence[0] == pytest.approx(2 / 3)
    assert "boundary_disagreement" in items.reasons[0]
    assert "low_consensus_confidence" not in items.reasons[0]
    assert not items.route[0] and not items.is_issue[0]


def test_span_item_under_the_threshold_is_routed_and_says_why():
    items = _run(_span_project(), SPANS)
    # "Dora" has three different values, one vote each: confidence 1/3 < 0.6
    assert items.confidence[1] == pytest.approx(1 / 3)
    assert "low_consensus_confidence" in items.reasons[1]
    assert items.route[1] and items.is_issue[1]
    # and the same boundary item is routed once the project's threshold is above its 2/3
    strict = _run(_span_project(), SPANS, threshold=0.7)
    assert strict.route[0] and "low_consensus_confidence" in strict.reasons[0]


def test_span_gold_mismatch_unsure_and_profile_flags_route():
    items = _run(_span_project(), SPANS)
    # Unanimous items (confidence 1) are routed by gold, by an unsure mark, by a profile flag
    assert items.confidence[2:].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert items.reasons[2] == ["gold_mismatch"] and items.route[2] and items.is_issue[2]
    assert items.reasons[3] == ["unsure_or_unusable"] and items.route[3]
    assert items.reasons[4] == ["profile_flag"] and items.route[4]
    # of which only the gold mismatch calls the consensus a label issue
    assert items.is_issue[2:].tolist() == [True, False, False]
    # and a flag the project does not route stays on the item without routing it
    quiet = _run(_span_project(), SPANS, route_profile_flags=False)
    assert quiet.reasons[4] == ["profile_flag"] and not quiet.route[4] and not quiet.is_issue[4]


# Box project, three annotators on four images.
CAT = {"x": 0, "y": 0, "w": 100, "h": 100, "label": "cat"}
LOOSE_CAT = {"x": 0, "y": 0, "w": 100, "h": 180, "label": "cat"}  # IoU 0.56 with CAT: matched, but loose
DOG = {"x": 0, "y": 0, "w": 100, "h": 100, "label": "dog"}


def _box_project(**kwargs):
    per_annotator = [
        [[CAT], [CAT], [CAT], [CAT]],
        [[CAT], [LOOSE_CAT], [CAT], [CAT]],
        [[LOOSE_CAT], [], [CAT], [CAT]],
    ]
    return _answers(
        task_type="image_boxes",
        labels=["cat", "dog"],
        texts=[""] * 4,
        per_annotator=per_annotator,
        gold=[None, None, [DOG], None],
        unusable=[0, 0, 0, 1],
        **kwargs,
    )


def test_box_loose_boundary_above_the_threshold_is_not_routed():
    items = _run(_box_project(), BOXES)
    # Image 0: all three drew the cat, one loosely; the fused box keeps full support and a high IoU
    assert "loose_boundary" in items.reasons[0]
    assert items.confidence[0] > THRESHOLD
    assert not items.route[0] and not items.is_issue[0]


def test_box_routing_by_confidence_gold_and_unusable():
    items = _run(_box_project(), BOXES)
    # Image 1: two of three annotators drew the cat, one loosely: support about 2/3 times a mean IoU well under
    # 1 puts the fused box under the threshold, and the item is routed saying so
    assert items.confidence[1] < THRESHOLD
    assert "low_consensus_confidence" in items.reasons[1] and items.route[1] and items.is_issue[1]
    # Image 2: unanimous cat, gold a dog
    assert items.confidence[2] == pytest.approx(1.0)
    assert items.reasons[2] == ["gold_mismatch"] and items.route[2]
    # Image 3: unanimous, one annotation marked unusable
    assert items.reasons[3] == ["unsure_or_unusable"] and items.route[3] and not items.is_issue[3]


# The rule on every item of seeded simulated runs.
def _simulated_spans(seed: int, n_docs: int = 80) -> ProjectAnswers:
    rng = np.random.default_rng(seed)
    labels = ["PER", "LOC", "ORG"]
    texts, sources = [], [[] for _ in range(3)]
    gold: list = []
    for _ in range(n_docs):
        words = [f"w{w}" for w in rng.integers(0, 50, size=12)]
        text = " ".join(words)
        texts.append(text)
        bounds = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        truth = [(t, int(rng.integers(0, 3))) for t in range(0, 12, 3)]
        gold.append([_s(*bounds[t], labels[lab]) for t, lab in truth] if rng.random() < 0.2 else None)
        for source in sources:
            spans = []
            for t, lab in truth:
                if rng.random() < 0.15:
                    continue
                lab = (lab + 1) % 3 if rng.random() < 0.15 else lab
                end = t + 1 if rng.random() < 0.15 else t
                spans.append(_s(bounds[t][0], bounds[end][1], labels[lab]))
            source.append(spans)
    return _answers(
        task_type="text_spans",
        labels=labels,
        texts=texts,
        per_annotator=sources,
        gold=gold,
        unsure=(rng.random(n_docs) < 0.05).astype(int),
        unusable=(rng.random(n_docs) < 0.05).astype(int),
        flagged=rng.random(n_docs) < 0.05,
    )


def _simulated_boxes(seed: int, n_items: int = 80) -> ProjectAnswers:
    rng = np.random.default_rng(seed)
    labels = ["cat", "dog"]
    sources: list[list] = [[] for _ in range(3)]
    gold: list = []
    for _ in range(n_items):
        objects = [
            {"x": float(x), "y": 0.0, "w": 50.0, "h": 50.0, "label": labels[int(rng.integers(0, 2))]}
            for x in range(0, 400, 100)[: int(rng.integers(1, 5))]
        ]
        gold.append(objects if rng.random() < 0.2 else None)
        for source in sources:
            drawn = []
            for box in objects:
                if rng.random() < 0.15:
                    continue
                label = labels[1 - labels.index(box["label"])] if rng.random() < 0.1 else box["label"]
                jitter = rng.normal(0, 6, size=2)
                drawn.append({**box, "x": box["x"] + jitter[0], "w": 50.0 + abs(jitter[1]), "label": label})
            if rng.random() < 0.1:
                drawn.append({"x": 500.0, "y": 200.0, "w": 30.0, "h": 30.0, "label": "cat"})
            source.append(drawn)
    return _answers(
        task_type="image_boxes",
        labels=labels,
        texts=[""] * n_items,
        per_annotator=sources,
        gold=gold,
        unsure=(rng.random(n_items) < 0.05).astype(int),
        unusable=(rng.random(n_items) < 0.05).astype(int),
        flagged=rng.random(n_items) < 0.05,
    )


def _span_set(spans) -> set:
    return {(s["start"], s["end"], s["label"]) for s in spans}


@pytest.mark.parametrize(
    ("kind", "method"),
    [("spans", "majority_vote"), ("spans", "dawid_skene"), ("boxes", "weighted_box_fusion")],
)
@pytest.mark.parametrize("route_profile_flags", [True, False])
def test_every_item_is_routed_exactly_when_its_own_values_say_so(kind, method, route_profile_flags):
    answers = _simulated_spans(seed=3) if kind == "spans" else _simulated_boxes(seed=3)
    encoding = SPANS if kind == "spans" else BOXES
    # A threshold inside the run's confidences, so both sides of it occur
    probe = _run(answers, encoding, method=method)
    threshold = float(np.nanquantile(probe.confidence, 0.3))
    items = _run(
        answers, encoding, method=method, threshold=threshold, route_profile_flags=route_profile_flags
    )
    n_disagreeing_unrouted = 0
    for i in range(items.item_ids.size):
        reasons = set(items.reasons[i])
        confidence = items.confidence[i]
        low = bool(np.isfinite(confidence) and confidence < threshold)
        marked = answers.unsure_count[i] + answers.unusable_count[i] > 0
        flagged = bool(answers.flagged[i])
        if kind == "spans" and answers.gold[i] is not None:
            # Gold mismatch recomputed from the stored consensus spans, not read from the run's reasons
            gold_mismatch = _span_set(items.consensus[i]) != _span_set(answers.gold[i])
            assert ("gold_mismatch" in reasons) == gold_mismatch
        else:
            gold_mismatch = "gold_mismatch" in reasons
            assert not gold_mismatch or answers.gold[i] is not None
        expected = low or gold_mismatch or marked or (flagged and route_profile_flags)
        assert bool(items.route[i]) == expected, (i, reasons, confidence)
        # a label issue is the part of it that doubts the consensus itself
        assert bool(items.is_issue[i]) == (low or gold_mismatch)
        # and the reasons on the item name what routed it
        assert ("low_consensus_confidence" in reasons) == low
        assert ("unsure_or_unusable" in reasons) == marked
        assert ("profile_flag" in reasons) == flagged
        n_disagreeing_unrouted += bool(reasons & DISAGREEMENT) and not expected
    # The simulated crowd disagrees somewhere on many items that the rule leaves unrouted, and routes others
    assert n_disagreeing_unrouted > 0
    assert 0 < int(items.route.sum()) < items.item_ids.size
