"""Span agreement figures against hand-computed cases and independent libraries (krippendorff, sklearn,
statsmodels, seqeval), on the token encoding the API defines (``\\S+`` tokens, label of the span covering the
token's first character, else "O")."""

import itertools
import re

import krippendorff
import numpy as np
import pytest
from seqeval.metrics import f1_score as seqeval_f1
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from kinds.spans.metrics import (
    pairwise_span_f1,
    reference_scores,
    span_table,
    token_agreement,
    token_values,
)

LABELS = ["PER", "ORG", "LOC"]


def _tokens_of(text):
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def _reference_token_labels(text, spans):
    """Written independently of the module: loop over tokens, first covering span in sorted order."""
    out = []
    ordered = sorted(spans, key=lambda s: (s["start"], s["end"], LABELS.index(s["label"])))
    for start, _ in _tokens_of(text):
        label = "O"
        for span in ordered:
            if span["start"] <= start < span["end"]:
                label = span["label"]
                break
        out.append(label)
    return out


def _reference_bio(text, spans):
    tags = []
    previous = None
    ordered = sorted(spans, key=lambda s: (s["start"], s["end"], LABELS.index(s["label"])))
    for start, _ in _tokens_of(text):
        covering = next((i for i, s in enumerate(ordered) if s["start"] <= start < s["end"]), None)
        if covering is None:
            tags.append("O")
        else:
            prefix = "I" if covering == previous else "B"
            tags.append(f"{prefix}-{ordered[covering]['label']}")
        previous = covering
    return tags


def _random_doc(rng, n_tokens):
    words = ["".join(rng.choice(list("abcdefg"), size=rng.integers(1, 6))) for _ in range(n_tokens)]
    seps = [" " * int(rng.integers(1, 3)) for _ in range(n_tokens)]
    text = "".join(w + s for w, s in zip(words, seps, strict=True))
    return text


def _random_spans(rng, text, n):
    """Non-overlapping spans on token boundaries (some with sub-token offsets)."""
    toks = _tokens_of(text)
    spans = []
    position = 0
    while len(spans) < n and position < len(toks):
        position += int(rng.integers(0, 3))
        if position >= len(toks):
            break
        length = int(rng.integers(1, 3))
        last = min(position + length, len(toks)) - 1
        start, end = toks[position][0], toks[last][1]
        if rng.random() < 0.1 and end - start > 1:
            end -= 1
        spans.append({"start": start, "end": end, "label": LABELS[int(rng.integers(0, len(LABELS)))]})
        position = last + 1
    return spans


def _crowd(seed, n_docs=40, n_annotators=3, missing=0.0):
    rng = np.random.default_rng(seed)
    texts = [_random_doc(rng, int(rng.integers(3, 15))) for _ in range(n_docs)]
    truth = [_random_spans(rng, text, int(rng.integers(0, 4))) for text in texts]
    annotations = []
    for d, text in enumerate(texts):
        for a in range(n_annotators):
            if rng.random() < missing:
                continue
            spans = [dict(s) for s in truth[d] if rng.random() > 0.2]
            for span in spans:
                if rng.random() < 0.2:
                    span["label"] = LABELS[int(rng.integers(0, len(LABELS)))]
            if rng.random() < 0.3:
                spans = _random_spans(rng, text, 2)
            spans.sort(key=lambda s: (s["start"], s["end"], s["label"]))
            # Same-label overlaps are refused by the API; drop them as it would.
            kept = []
            for span in spans:
                if any(
                    k["label"] == span["label"] and k["start"] < span["end"] and span["start"] < k["end"]
                    for k in kept
                ):
                    continue
                kept.append(span)
            annotations.append((d, a, kept))
    return texts, annotations


def test_token_values_match_a_loop_over_tokens():
    texts, annotations = _crowd(1)
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS)
    values = token_values(table)
    for a, (d, _, spans) in enumerate(annotations):
        got = values.value[values.ptr[a] : values.ptr[a + 1]]
        expected = [0 if v == "O" else LABELS.index(v) + 1 for v in _reference_token_labels(texts[d], spans)]
        assert got.tolist() == expected
        bio = values.bio()[values.ptr[a] : values.ptr[a + 1]]
        expected_bio = _reference_bio(texts[d], spans)
        names = ["O"] + [f"{p}-{label}" for label in LABELS for p in ("B", "I")]
        assert [names[code] for code in bio.tolist()] == expected_bio


def test_overlapping_spans_of_different_labels_take_the_first_in_order():
    text = "Acme Corp Paris office"
    spans = [{"start": 0, "end": 9, "label": "ORG"}, {"start": 5, "end": 16, "label": "LOC"}]
    table = span_table(texts=[text], annotations=[(0, 0, spans)], label_values=LABELS)
    values = token_values(table)
    # Tokens Acme, Corp (ORG, first char 5 is covered by both: ORG starts first), Paris (LOC), office (O)
    assert values.value.tolist() == [2, 2, 3, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_token_alpha_equals_the_krippendorff_package(seed):
    texts, annotations = _crowd(seed, missing=0.2)
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS, n_annotators=3)
    n_units = sum(len(_tokens_of(t)) for t in texts)
    reliability = np.full((3, n_units), np.nan)
    offsets = np.cumsum([0] + [len(_tokens_of(t)) for t in texts])
    for d, a, spans in annotations:
        labels = _reference_token_labels(texts[d], spans)
        reliability[a, offsets[d] : offsets[d + 1]] = [0 if v == "O" else LABELS.index(v) + 1 for v in labels]
    result = token_agreement(table)
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert result.krippendorff_alpha == pytest.approx(expected, abs=1e-6)
    for i in range(len(LABELS)):
        binary = np.where(np.isnan(reliability), np.nan, (reliability == i + 1).astype(float))
        expected_label = krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal")
        assert result.per_label_krippendorff_alpha[i] == pytest.approx(expected_label, abs=1e-6)


def test_token_fleiss_and_cohen_equal_statsmodels_and_sklearn():
    texts, annotations = _crowd(4)
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS, n_annotators=3)
    rows = {a: [] for a in range(3)}
    for d, a, spans in sorted(annotations, key=lambda r: (r[1], r[0])):
        rows[a] += [0 if v == "O" else LABELS.index(v) + 1 for v in _reference_token_labels(texts[d], spans)]
    matrix = np.array([rows[a] for a in range(3)]).T
    result = token_agreement(table, min_overlap=1)
    counts, _ = aggregate_raters(matrix, n_cat=len(LABELS) + 1)
    assert result.fleiss_kappa == pytest.approx(fleiss_kappa(counts, method="fleiss"), abs=1e-6)
    kappas = [cohen_kappa_score(matrix[:, i], matrix[:, j]) for i, j in itertools.combinations(range(3), 2)]
    assert result.mean_pairwise_cohen_kappa == pytest.approx(np.mean(kappas), abs=1e-6)
    for label in range(len(LABELS)):
        binary = (matrix == label + 1).astype(int)
        label_kappas = [
            cohen_kappa_score(binary[:, i], binary[:, j]) for i, j in itertools.combinations(range(3), 2)
        ]
        assert result.per_label_cohen_kappa[label] == pytest.approx(np.mean(label_kappas), abs=1e-6)
        counts, _ = aggregate_raters(binary, n_cat=2)
        assert result.per_label_fleiss_kappa[label] == pytest.approx(
            fleiss_kappa(counts, method="fleiss"), abs=1e-6
        )


def test_pairwise_span_f1_hand_computed():
    texts = ["John Smith works at Acme in Paris", "nothing here", "Bob met Alice"]
    a = [
        (0, 0, [{"start": 0, "end": 10, "label": "PER"}, {"start": 20, "end": 24, "label": "ORG"}]),
        (1, 0, []),
        (2, 0, [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 13, "label": "PER"}]),
        # annotator 1: boundary differs on John Smith, type differs on Acme, Paris extra, Bob+Alice same
        (
            0,
            1,
            [
                {"start": 0, "end": 4, "label": "PER"},
                {"start": 20, "end": 24, "label": "LOC"},
                {"start": 28, "end": 33, "label": "LOC"},
            ],
        ),
        (1, 1, []),
        (2, 1, [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 13, "label": "PER"}]),
        # annotator 2 only on doc 0, same as annotator 0
        (0, 2, [{"start": 0, "end": 10, "label": "PER"}, {"start": 20, "end": 24, "label": "ORG"}]),
    ]
    table = span_table(texts=texts, annotations=a, label_values=LABELS, n_annotators=3)
    result = pairwise_span_f1(table, min_overlap=1)
    pairs = {
        (int(x), int(y)): i
        for i, (x, y) in enumerate(zip(result.annotator_a, result.annotator_b, strict=True))
    }
    f1 = result.f1()
    partial = result.partial_f1()
    # (0, 1): spans 4 + 5 = 9, exact matches Bob, Alice = 2 → 4/9; overlapping: annotator 0: John Smith, Bob,
    # Alice (3); annotator 1: John, Bob, Alice (3) → 6/9
    assert f1[pairs[(0, 1)]] == pytest.approx(4 / 9)
    assert partial[pairs[(0, 1)]] == pytest.approx(6 / 9)
    # (0, 2) on doc 0 only: 2 + 2 spans, 2 matches → 1.0; (1, 2): 3 + 2 spans, 0 matches
    assert f1[pairs[(0, 2)]] == pytest.approx(1.0)
    assert f1[pairs[(1, 2)]] == pytest.approx(0.0)
    assert result.mean_f1 == pytest.approx((4 / 9 + 1.0 + 0.0) / 3)
    # Per label PER: (0,1): spans 3 + 3 = 6, matches 2 → 4/6; (0,2): 1+1, 1 → 1; (1,2): 1+1, 0 → 0
    assert result.per_label_f1()[0] == pytest.approx((4 / 6 + 1 + 0) / 3)
    # min_overlap 2 keeps only pair (0, 1) (shares 3 documents)
    assert pairwise_span_f1(table, min_overlap=2).mean_f1 == pytest.approx(4 / 9)


@pytest.mark.parametrize("seed", [5, 6])
def test_pair_f1_equals_seqeval_on_bio_when_spans_sit_on_token_boundaries(seed):
    rng = np.random.default_rng(seed)
    texts = [_random_doc(rng, int(rng.integers(3, 15))) for _ in range(30)]

    def snapped(text):
        toks = _tokens_of(text)
        return [
            s
            for s in _random_spans(rng, text, int(rng.integers(0, 4)))
            if any(t[0] == s["start"] for t in toks) and any(t[1] == s["end"] for t in toks)
        ]

    first = [snapped(t) for t in texts]
    second = [snapped(t) if rng.random() < 0.5 else list(first[i]) for i, t in enumerate(texts)]
    annotations = [(d, 0, s) for d, s in enumerate(first)] + [(d, 1, s) for d, s in enumerate(second)]
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS)
    result = pairwise_span_f1(table, min_overlap=1)
    y_true = [_reference_bio(t, s) for t, s in zip(texts, first, strict=True)]
    y_pred = [_reference_bio(t, s) for t, s in zip(texts, second, strict=True)]
    assert result.mean_f1 == pytest.approx(seqeval_f1(y_true, y_pred, average="micro"), abs=1e-9)


def test_reference_scores_precision_recall_f1():
    texts = ["a b c d", "e f"]
    annotations = [
        (0, 0, [{"start": 0, "end": 1, "label": "PER"}, {"start": 2, "end": 3, "label": "ORG"}]),
        (1, 0, [{"start": 0, "end": 1, "label": "PER"}]),
        (0, 1, []),
    ]
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS)
    reference = (np.array([0, 0]), np.array([0, 4]), np.array([1, 5]), np.array([0, 0]))
    scores = reference_scores(table, reference=reference, has_reference=np.array([True, False]))
    # annotator 0 on doc 0 only: 2 spans, 1 match, 2 reference spans
    assert scores.precision()[0] == pytest.approx(0.5)
    assert scores.recall()[0] == pytest.approx(0.5)
    assert scores.f1()[0] == pytest.approx(0.5)
    # annotator 1: no spans, 2 reference spans → recall 0, F1 0, precision undefined
    assert np.isnan(scores.precision()[1]) and scores.f1()[1] == 0


def test_tokenize_finds_what_the_regex_finds_including_unicode_whitespace():
    from kinds.spans.metrics import tokenize

    texts = [
        "  Ada\u00a0Lovelace\tmet\u2003Babbage\u3000in London.\n",
        "",
        "   ",
        "é ünïcødé\u2028line\u200bzero-width-is-not-space",
        "x",
    ]
    tokens = tokenize(texts)
    for d, text in enumerate(texts):
        got = list(
            zip(
                tokens.start[tokens.ptr[d] : tokens.ptr[d + 1]].tolist(),
                tokens.end[tokens.ptr[d] : tokens.ptr[d + 1]].tolist(),
                strict=True,
            )
        )
        assert got == _tokens_of(text)


def test_pairwise_f1_is_the_same_whatever_the_chunk_of_document_pairs(monkeypatch):
    from kinds.spans import metrics

    texts, annotations = _crowd(8, missing=0.2)
    table = span_table(texts=texts, annotations=annotations, label_values=LABELS, n_annotators=3)
    whole = pairwise_span_f1(table, min_overlap=1)
    monkeypatch.setattr(metrics, "PAIR_CHUNK", 3)
    chunked = pairwise_span_f1(table, min_overlap=1)
    np.testing.assert_array_equal(whole.label_matches, chunked.label_matches)
    np.testing.assert_array_equal(whole.label_partial, chunked.label_partial)
    assert whole.mean_f1 == chunked.mean_f1 and whole.mean_partial_f1 == chunked.mean_partial_f1
