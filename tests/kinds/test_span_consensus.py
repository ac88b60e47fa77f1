"""Consensus spans on a simulated crowd (boundary jitter, misses, type confusions, extra spans, a spammer),
and on hand-made cases: adjacent entities stay apart, annotators' exact offsets are kept, confidences are the
mean token posterior."""

import numpy as np
import pytest

from kinds.spans.consensus import span_consensus
from kinds.spans.metrics import reference_scores, span_table, token_values
from quality.metrics.consensus_dawid_skene import dawid_skene
from quality.metrics.table import AnnotationTable

LABELS = ["PER", "ORG", "LOC", "MISC"]


def simulate(
    seed, n_docs=400, honest=4, per_doc=None, miss=0.08, confuse=0.06, jitter=0.08, extra=0.1, spammers=1
):
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for _ in range(n_docs):
        n = int(rng.integers(15, 40))
        words = [f"w{rng.integers(0, 1000)}" for _ in range(n)]
        starts = []
        pos = 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        texts.append(" ".join(words))
        toks = [(s, s + len(w)) for s, w in zip(starts, words, strict=True)]
        spans = []
        t = int(rng.integers(0, 3))
        while t < n:
            length = int(rng.integers(1, 4))
            last = min(t + length, n) - 1
            spans.append((t, last, int(rng.integers(0, len(LABELS)))))
            t = last + 1 + int(rng.integers(0, 6))
        truth.append((toks, spans))
    m = honest + spammers
    annotations = []
    for d, (toks, spans) in enumerate(truth):
        who = range(m) if per_doc is None else rng.choice(m, size=per_doc, replace=False)
        for a in who:
            out = []
            if a >= honest:
                for _ in range(int(rng.integers(0, 5))):
                    t = int(rng.integers(0, len(toks)))
                    last = min(t + int(rng.integers(0, 3)), len(toks) - 1)
                    out.append((t, last, int(rng.integers(0, len(LABELS)))))
            else:
                for f, last_tok, lab in spans:
                    if rng.random() < miss:
                        continue
                    if rng.random() < confuse:
                        lab = int((lab + rng.integers(1, len(LABELS))) % len(LABELS))
                    if rng.random() < jitter:
                        if rng.random() < 0.5 and last_tok > f:
                            last_tok -= 1
                        elif last_tok + 1 < len(toks):
                            last_tok += 1
                    out.append((f, last_tok, lab))
                if rng.random() < extra:
                    t = int(rng.integers(0, len(toks)))
                    out.append((t, t, int(rng.integers(0, len(LABELS)))))
            # drop overlaps of the same label
            out.sort()
            kept = []
            for s in out:
                if any(k[2] == s[2] and k[0] <= s[1] and s[0] <= k[1] for k in kept):
                    continue
                kept.append(s)
            annotations.append(
                (
                    d,
                    int(a),
                    [
                        {"start": toks[f][0], "end": toks[last_tok][1], "label": LABELS[lab]}
                        for f, last_tok, lab in kept
                    ],
                )
            )
    gold = [
        [{"start": toks[f][0], "end": toks[last_tok][1], "label": LABELS[lab]} for f, last_tok, lab in spans]
        for toks, spans in truth
    ]
    return texts, annotations, gold, m


def f1_vs(texts, annotations_like, gold):
    # consensus as annotator 0 against the gold
    t = span_table(
        texts=texts, annotations=[(d, 0, s) for d, s in enumerate(annotations_like)], label_values=LABELS
    )
    g = span_table(texts=texts, annotations=[(d, 0, s) for d, s in enumerate(gold)], label_values=LABELS)
    ref = (g.doc[g.owner], g.start, g.end, g.label)
    return float(reference_scores(t, reference=ref, has_reference=np.ones(len(texts), bool)).f1()[0])


def _plain_token_dawid_skene(table):
    """The baseline: Dawid–Skene on the token values, contiguous tokens of one label read as one span with
    token offsets (written here, not taken from the module under test)."""
    values = token_values(table)
    tokens = table.tokens
    n_units = int(tokens.start.size)
    fit = dawid_skene(
        table=AnnotationTable(
            item=values.unit,
            annotator=values.annotator,
            label=values.value,
            n_items=n_units,
            n_annotators=table.n_annotators,
            n_classes=table.n_labels + 1,
        )
    ).consensus
    out = []
    for d in range(tokens.n_docs):
        spans, current = [], None
        for u in range(tokens.ptr[d], tokens.ptr[d + 1]):
            value = int(fit.label[u])
            if current is not None and value == current["value"]:
                current["end"] = int(tokens.end[u])
                continue
            if current is not None:
                spans.append(current)
                current = None
            if value > 0:
                current = {"start": int(tokens.start[u]), "end": int(tokens.end[u]), "value": value}
        if current is not None:
            spans.append(current)
        out.append([{"start": s["start"], "end": s["end"], "label": LABELS[s["value"] - 1]} for s in spans])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_consensus_beats_plain_token_dawid_skene_and_reaches_095(seed):
    texts, annotations, gold, m = simulate(seed)
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS, n_annotators=m)
    g = span_table(texts=texts, annotations=[(d, 0, s) for d, s in enumerate(gold)], label_values=LABELS)
    individual = reference_scores(
        table, reference=(g.doc[g.owner], g.start, g.end, g.label), has_reference=np.ones(len(texts), bool)
    ).f1()
    assert (individual[:4] >= 0.8).all() and individual[4] < 0.1  # the crowd the claim is about

    consensus = span_consensus(table, method="dawid_skene")
    ours = f1_vs(texts, consensus.as_values(LABELS), gold)
    baseline = f1_vs(texts, _plain_token_dawid_skene(table), gold)
    assert ours >= 0.95
    assert ours >= baseline
    # The spammer's token accuracy is estimated below every honest annotator's.
    assert consensus.annotator_quality[4] < consensus.annotator_quality[:4].min()


def test_adjacent_entities_of_one_label_stay_two_spans_and_exact_offsets_are_kept():
    text = "Paris London, Berlin"
    spans = [
        {"start": 0, "end": 5, "label": "LOC"},
        {"start": 6, "end": 12, "label": "LOC"},  # "London" without the comma
        {"start": 14, "end": 20, "label": "LOC"},
    ]
    annotations = [(0, a, spans) for a in range(3)]
    table = span_table(texts=[text], annotations=annotations, label_values=LABELS)
    for method in ("dawid_skene", "majority_vote"):
        consensus = span_consensus(table, method=method)
        assert consensus.as_values(LABELS)[0] == [
            {**span, "confidence": pytest.approx(consensus.confidence[i], abs=1e-6)}
            for i, span in enumerate(spans)
        ]
    assert span_consensus(table, method="majority_vote").confidence.tolist() == [1.0, 1.0, 1.0]


def test_majority_confidence_is_the_mean_vote_share_of_the_span_tokens():
    text = "New York City hall"
    annotations = [
        (0, 0, [{"start": 0, "end": 13, "label": "LOC"}]),
        (0, 1, [{"start": 0, "end": 13, "label": "LOC"}]),
        (0, 2, [{"start": 0, "end": 8, "label": "LOC"}]),
    ]
    table = span_table(texts=[text], annotations=annotations, label_values=LABELS)
    consensus = span_consensus(table, method="majority_vote")
    # New 3/3, York 3/3, City 2/3 → one span "New York City", mean share (1 + 1 + 2/3) / 3
    assert consensus.as_values(LABELS)[0] == [
        {"start": 0, "end": 13, "label": "LOC", "confidence": pytest.approx((1 + 1 + 2 / 3) / 3, abs=1e-6)}
    ]
    assert consensus.doc_confidence[0] == pytest.approx(2 / 3)


def test_no_entities_is_an_empty_consensus_and_unannotated_documents_have_none():
    table = span_table(texts=["a b", "c d"], annotations=[(0, 0, []), (0, 1, [])], label_values=LABELS)
    consensus = span_consensus(table, method="dawid_skene")
    assert consensus.as_values(LABELS) == [[], None]


@pytest.mark.parametrize("min_annotator_items", [0, 20, 10**9])
@pytest.mark.parametrize("uneven", [False, True])
def test_pattern_dawid_skene_equals_the_engine_dawid_skene_on_every_token(min_annotator_items, uneven):
    from kinds.spans.consensus import token_patterns, weighted_dawid_skene

    texts, annotations, _, m = simulate(3, n_docs=60, per_doc=3)
    if uneven:
        # Some documents with 1 or 2 annotations: patterns of several lengths.
        annotations = [row for i, row in enumerate(annotations) if i % 7 not in (1, 4)]
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS, n_annotators=m)
    values = token_values(table)
    n_units, k = int(table.tokens.start.size), len(LABELS) + 1
    reference = dawid_skene(
        table=AnnotationTable(
            item=values.unit,
            annotator=values.annotator,
            label=values.value,
            n_items=n_units,
            n_annotators=m,
            n_classes=k,
        ),
        min_annotator_items=min_annotator_items,
    )
    unit_pattern, rows, weights = token_patterns(values, n_units, k)
    assert weights.size < n_units / 5  # the point: far fewer patterns than tokens
    posteriors, quality = weighted_dawid_skene(
        pattern_rows=rows, weights=weights, n_annotators=m, k=k, min_annotator_items=min_annotator_items
    )
    np.testing.assert_allclose(posteriors[unit_pattern], reference.consensus.posteriors, atol=1e-9)
    np.testing.assert_allclose(quality, reference.consensus.annotator_quality, atol=1e-9)


def test_a_one_against_one_split_of_two_annotators_is_half_certain_not_dawid_skenes_runaway():
    # Two annotators agree on 40 documents ("Paris" is LOC); on one more, A marks "Hamburg" as LOC and B marks
    # nothing. Nothing but the fitted confusion matrices could break that tie, so the token (and with it the
    # document, its least certain token) is as certain as the vote share for the chosen value: 1 of 2.
    agreed = [("Paris is nice", [{"start": 0, "end": 5, "label": "LOC"}])] * 40
    texts = [text for text, _ in agreed] + ["Hamburg is far"]
    annotations = [(d, a, spans) for d, (_, spans) in enumerate(agreed) for a in (0, 1)]
    annotations += [(40, 0, [{"start": 0, "end": 7, "label": "LOC"}]), (40, 1, [])]
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS)
    consensus = span_consensus(table, method="dawid_skene")
    assert consensus.doc_confidence[40] == pytest.approx(0.5)
    # Unanimous documents keep Dawid–Skene's posterior, far above a coin toss.
    assert consensus.doc_confidence[:40].min() > 0.9


def test_a_real_majority_keeps_the_dawid_skene_posterior():
    # Three annotators, 2 against 1 on "Hamburg": a strict majority, so the confidence is the posterior, which
    # is above the 2/3 vote share here (the two agreeing annotators agree everywhere else too).
    agreed = [("Paris is nice", [{"start": 0, "end": 5, "label": "LOC"}])] * 40
    texts = [text for text, _ in agreed] + ["Hamburg is far"]
    annotations = [(d, a, spans) for d, (_, spans) in enumerate(agreed) for a in (0, 1, 2)]
    hamburg = [{"start": 0, "end": 7, "label": "LOC"}]
    annotations += [(40, 0, hamburg), (40, 1, hamburg), (40, 2, [])]
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS)
    consensus = span_consensus(table, method="dawid_skene")
    assert consensus.as_values(LABELS)[40][0]["label"] == "LOC"
    assert consensus.doc_confidence[40] > 2 / 3
