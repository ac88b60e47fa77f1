"""The built-in token model and what is computed from its probabilities, without a database: it learns a labelling
that is a function of the token (out-of-sample span F1 by seqeval), its cross-fitted probabilities let cleanlab's
token-classification module find deliberately wrong labels (checked against cleanlab run directly), and the
selection measures equal numpy formulas on hand-made probabilities."""

import numpy as np
import pytest
from cleanlab.token_classification.filter import find_label_issues
from seqeval.metrics import f1_score

from activelearning.token_checks import io_spans, model_f1, token_label_issues
from activelearning.token_scores import doc_scores
from activelearning.tokenmodel import TokenModel, TokenModelConfig, encode, out_of_sample_proba
from kinds.spans.token_encoding import io_codes, spans_from_codes, token_docs

CITIES = ["Hamburg", "Paris", "Lyon", "Berlin", "Madrid", "Oslo", "Vienna", "Prague", "Lisbon", "Dublin"]
PEOPLE = ["Alice", "Bob", "Carla", "Dmitri", "Erik", "Fatima", "Gustav", "Hana"]
FILLER = "the a went to from met with in on and then later today quickly very old new visit".split()
LABELS = ["LOC", "PER"]


def corpus(n_docs: int, seed: int = 0) -> tuple[list[str], list[list[dict]]]:
    """Texts and their spans: a city is LOC, a person PER, every other word outside (label = f(token))."""
    rng = np.random.default_rng(seed)
    texts, spans = [], []
    for _ in range(n_docs):
        words, doc_spans, position = [], [], 0
        for _ in range(int(rng.integers(6, 18))):
            r = rng.random()
            word = str(rng.choice(CITIES if r < 0.15 else PEOPLE if r < 0.25 else FILLER))
            if r < 0.25:
                doc_spans.append(
                    {"start": position, "end": position + len(word), "label": "LOC" if r < 0.15 else "PER"}
                )
            words.append(word)
            position += len(word) + 1
        texts.append(" ".join(words))
        spans.append(doc_spans)
    return texts, spans


def io_tags(codes) -> list[str]:
    return ["O" if c == 0 else f"I-{LABELS[c - 1]}" for c in np.asarray(codes).tolist()]


@pytest.fixture(scope="module")
def fitted():
    texts, spans = corpus(150)
    # Three documents get a deliberately wrong consensus: their first city is marked PER.
    wrong = [d for d, s in enumerate(spans) if any(x["label"] == "LOC" for x in s)][:3]
    given = [list(s) for s in spans]
    for d in wrong:
        first = next(i for i, x in enumerate(given[d]) if x["label"] == "LOC")
        given[d][first] = {**given[d][first], "label": "PER"}
    docs = token_docs(texts)
    config = TokenModelConfig(seed=3)
    encoded = encode(docs.strings, config=config)
    codes = io_codes(docs, given, LABELS)
    truth = io_codes(docs, spans, LABELS)
    proba, folds = out_of_sample_proba(encoded, codes, n_classes=3, n_folds=5, config=config)
    return texts, spans, given, wrong, docs, encoded, codes, truth, proba, folds


def test_token_encoding_round_trips_spans_through_io_codes():
    # Given a text with two spans; when encoded to IO codes and decoded back; then the same spans come back
    texts = ["Ann lives in New York today"]
    spans = [[{"start": 0, "end": 3, "label": "PER"}, {"start": 13, "end": 21, "label": "LOC"}]]
    docs = token_docs(texts)
    codes = io_codes(docs, spans, ["LOC", "PER"])
    assert codes.tolist() == [2, 0, 0, 1, 1, 0]
    assert docs.strings == [["Ann", "lives", "in", "New", "York", "today"]]
    assert spans_from_codes(docs, 0, codes, ["LOC", "PER"]) == [
        {"start": 0, "end": 3, "label": "PER"},
        {"start": 13, "end": 21, "label": "LOC"},
    ]


def test_model_learns_a_token_labelling_out_of_sample(fitted):
    # Given cross-fitted probabilities on the corpus (every document predicted by a model that never saw it)
    _, _, _, wrong, _, encoded, _, truth, proba, folds = fitted
    assert len(np.unique(folds)) == 5
    # Then against the true spans, out of sample, seqeval's span F1 (IO tags) is at least 0.9
    keep = [d for d in range(encoded.n_docs) if d not in wrong]
    predicted = [io_tags(proba.doc(d).argmax(axis=1)) for d in keep]
    reference = [io_tags(truth[encoded.ptr[d] : encoded.ptr[d + 1]]) for d in keep]
    assert f1_score(reference, predicted) >= 0.9


def test_model_f1_equals_seqeval_on_io_tags(fitted):
    _, _, _, _, _, encoded, codes, _, proba, _ = fitted
    predicted = [proba.doc(d).argmax(axis=1) for d in range(encoded.n_docs)]
    reference = [codes[encoded.ptr[d] : encoded.ptr[d + 1]] for d in range(encoded.n_docs)]
    result = model_f1(predicted=predicted, reference=reference, n_labels=2)
    assert result.span_f1 == pytest.approx(
        f1_score([io_tags(r) for r in reference], [io_tags(p) for p in predicted]), abs=1e-9
    )
    # token F1 by hand: 2·(tokens with the same entity class) / (entity tokens predicted + entity tokens given)
    flat_p, flat_r = np.concatenate(predicted), np.concatenate(reference)
    hand = 2 * ((flat_p == flat_r) & (flat_r > 0)).sum() / ((flat_p > 0).sum() + (flat_r > 0).sum())
    assert result.token_f1 == pytest.approx(hand)


def test_wrong_consensus_labels_are_flagged_as_cleanlab_flags_them(fitted):
    # Given the cross-fitted probabilities and the consensus with three cities marked PER
    _, _, _, wrong, docs, encoded, codes, _, proba, _ = fitted
    labels = [codes[encoded.ptr[d] : encoded.ptr[d + 1]] for d in range(encoded.n_docs)]
    probs = proba.docs()
    # When the wrapper checks them
    issues = token_label_issues(labels=labels, pred_probs=probs)
    # Then the documents it flags, and their tokens, are exactly those of cleanlab's own function
    direct = find_label_issues(
        [lab.tolist() for lab in labels], [p.astype(np.float64) for p in probs], n_jobs=1
    )
    assert set(np.flatnonzero(issues.is_issue).tolist()) == {d for d, _ in direct}
    assert {(d, t) for d, flagged in enumerate(issues.flagged) for t in flagged} == set(direct)
    # and every deliberately wrong document is among them, on the relabelled city
    for d in wrong:
        assert issues.is_issue[d]
        assert any(docs.strings[d][t] in CITIES for t in issues.flagged[d])


def test_io_spans_are_runs_of_one_code():
    assert io_spans(np.array([0, 1, 1, 2, 0, 2])) == [(1, 3, 0), (3, 4, 1), (5, 6, 1)]


def test_selection_measures_equal_numpy_formulas():
    # Given two documents of 2 and 3 tokens over 3 classes, and 4 MC-dropout samples
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.4, 0.35, 0.25], [0.34, 0.33, 0.33], [1.0, 0.0, 0.0], [0.6, 0.3, 0.1]]
    )
    ptr = np.array([0, 2, 5])
    rng = np.random.default_rng(1)
    samples = rng.dirichlet(np.ones(3), size=(4, 5))
    # When scored
    scores = doc_scores(proba=proba, ptr=ptr, samples=samples)

    # Then each measure equals its formula written here
    def entropy(p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)

    h = entropy(proba)
    sorted_p = np.sort(proba, axis=1)[:, ::-1]
    token_margin = 1 - (sorted_p[:, 0] - sorted_p[:, 1])
    token_bald = entropy(samples.mean(axis=0)) - entropy(samples).mean(axis=0)
    docs = [slice(0, 2), slice(2, 5)]
    np.testing.assert_allclose(scores["mean_entropy"], [h[s].mean() for s in docs])
    np.testing.assert_allclose(scores["max_entropy"], [h[s].max() for s in docs])
    np.testing.assert_allclose(scores["margin"], [token_margin[s].max() for s in docs])
    np.testing.assert_allclose(scores["bald"], [token_bald[s].max() for s in docs])


def test_a_document_without_tokens_scores_nan():
    scores = doc_scores(proba=np.array([[0.5, 0.5]]), ptr=np.array([0, 0, 1]))
    assert np.isnan(scores["mean_entropy"][0]) and scores["mean_entropy"][1] == pytest.approx(np.log(2))


def test_training_is_deterministic_for_a_seed_and_mc_dropout_varies():
    texts, spans = corpus(30, seed=5)
    docs = token_docs(texts)
    config = TokenModelConfig(seed=7, epochs=3)
    encoded = encode(docs.strings, config=config)
    codes = io_codes(docs, spans, LABELS)
    a = TokenModel(config=config).fit(encoded, codes, n_classes=3).predict_proba(encoded).values
    b = TokenModel(config=config).fit(encoded, codes, n_classes=3).predict_proba(encoded).values
    np.testing.assert_array_equal(a, b)
    model = TokenModel(config=config).fit(encoded, codes, n_classes=3)
    samples = model.mc_dropout_proba(encoded, n_samples=3, seed=1)
    assert samples.shape == (3, len(codes), 3)
    assert not np.allclose(samples[0], samples[1])
    np.testing.assert_array_equal(samples, model.mc_dropout_proba(encoded, n_samples=3, seed=1))
