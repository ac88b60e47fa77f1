"""The sentence-embedding hook (activelearning/features/embeddings.py) with a fake encoder: batching, the dimension
probe, bad inputs, plug-in discovery, and the fall-back to TF-IDF when no embedding package is installed."""

from importlib.metadata import EntryPoint

import numpy as np
import pytest

from activelearning.features import (
    SentenceEmbeddingExtractor,
    TextFeatureExtractor,
    embeddings,
    extractor_for,
)
from activelearning.features.embeddings import ENTRY_POINT_GROUP, installed_sentence_encoder

DIM = 3
PROBE = "dimension probe"  # what the extractor encodes to learn the width


class FakeEncoder:
    """Deterministic: (characters, words, vowels) per text, as float64; records every batch it is given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.asarray(
            [[len(t), len(t.split()), sum(c in "aeiou" for c in t)] for t in texts], dtype=np.float64
        )


def _batches(encoder: FakeEncoder) -> list[list[str]]:
    return [call for call in encoder.calls if call != [PROBE]]


def fake_factory():
    return "fake-encoder", "2", FakeEncoder()


def broken_factory():
    raise RuntimeError("model files missing")


def _entry_point(target: str) -> EntryPoint:
    return EntryPoint(name=target.rsplit(":", 1)[-1], value=target, group=ENTRY_POINT_GROUP)


@pytest.fixture
def registered(monkeypatch):
    """Replace the installed plug-ins with the given entry points (targets "module:attribute")."""

    def install(*targets: str) -> None:
        points = [_entry_point(target) for target in targets]
        monkeypatch.setattr(
            embeddings, "entry_points", lambda group: points if group == ENTRY_POINT_GROUP else []
        )

    return install


def test_texts_are_embedded_in_batches_in_input_order():
    # Given an extractor with batches of 2 around a fake encoder
    encoder = FakeEncoder()
    extractor = SentenceEmbeddingExtractor(name="fake", version="1", encode=encoder, batch_size=2)
    texts = ["a cat", "the dog sat", "hi", "one two three four", "zebra"]
    # When five texts are transformed
    result = extractor.transform(texts)
    # Then the encoder saw batches of 2, 2 and 1 in order, and the dimension probe once
    assert _batches(encoder) == [texts[0:2], texts[2:4], texts[4:5]]
    assert encoder.calls.count([PROBE]) == 1
    # and the matrix is float32 (5, 3), row i being the encoder's vector of text i, with no errors
    assert result.values.dtype == np.float32 and result.values.shape == (5, DIM)
    assert result.values.tolist() == [[5, 2, 2], [11, 3, 3], [2, 1, 1], [18, 4, 7], [5, 1, 2]]
    assert result.ok.all() and result.errors == (None,) * 5
    assert result.extractor == extractor.identity == "fake/1"


def test_the_dimension_is_probed_once_and_kept():
    encoder = FakeEncoder()
    extractor = SentenceEmbeddingExtractor(name="fake", version="1", encode=encoder)
    assert encoder.calls == []  # nothing is encoded before the dimension is needed
    assert (extractor.dim, extractor.dim) == (DIM, DIM)
    assert encoder.calls == [[PROBE]]
    assert extractor.fit(["anything"]) is extractor and encoder.calls == [[PROBE]]  # stateless


def test_inputs_that_are_not_text_get_a_nan_row_and_a_reason_and_are_never_encoded():
    # Given text mixed with None, bytes and a number
    encoder = FakeEncoder()
    extractor = SentenceEmbeddingExtractor(name="fake", version="1", encode=encoder, batch_size=8)
    # When transformed
    result = extractor.transform(["good text", None, b"bytes", 7, "more"])
    # Then only the two strings reach the encoder, in one batch, and land in their own rows
    assert _batches(encoder) == [["good text", "more"]]
    assert result.ok.tolist() == [True, False, False, False, True]
    assert result.values[[0, 4]].tolist() == [[9, 2, 3], [4, 1, 2]]
    assert np.isnan(result.values[[1, 2, 3]]).all()
    assert result.errors[1:4] == (
        "expected str, got NoneType",
        "expected str, got bytes",
        "expected str, got int",
    )


def test_a_batch_without_any_text_gives_all_nan_rows_of_the_probed_width():
    encoder = FakeEncoder()
    result = SentenceEmbeddingExtractor(name="fake", version="1", encode=encoder).transform([None, b"x"])
    assert result.values.shape == (2, DIM) and np.isnan(result.values).all()
    assert encoder.calls == [[PROBE]]
    assert SentenceEmbeddingExtractor(name="fake", version="1", encode=FakeEncoder()).transform(
        []
    ).values.shape == (0, DIM)


def test_the_first_plug_in_that_loads_is_used_and_broken_ones_are_skipped(registered):
    # Given three registered encoders: one whose factory fails, one whose module is missing, then a working one
    registered(
        "tests.activelearning.test_embeddings:broken_factory",
        "labelgate_no_such_package:factory",
        "tests.activelearning.test_embeddings:fake_factory",
    )
    # When the installed encoder is looked up
    extractor = installed_sentence_encoder()
    # Then the working one is wrapped, with its name and version as the feature-space identity
    assert isinstance(extractor, SentenceEmbeddingExtractor) and extractor.identity == "fake-encoder/2"
    assert extractor.transform(["a b"]).values.tolist() == [[3, 2, 1]]
    # and text projects use it, unless embeddings are turned off
    assert extractor_for("text").identity == "fake-encoder/2"
    assert isinstance(extractor_for("text", prefer_embeddings=False), TextFeatureExtractor)


@pytest.mark.parametrize(
    "targets",
    [(), ("tests.activelearning.test_embeddings:broken_factory",)],
    ids=["nothing installed", "only a broken plug-in"],
)
def test_without_a_working_embedding_package_text_falls_back_to_tfidf(registered, targets):
    registered(*targets)
    assert installed_sentence_encoder() is None
    extractor = extractor_for("text")
    assert isinstance(extractor, TextFeatureExtractor) and extractor.name == "text-tfidf-svd"
    assert isinstance(extractor_for("text"), TextFeatureExtractor)
