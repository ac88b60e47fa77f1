"""Counts of judgements and items read in singular for one and plural otherwise."""

from quality.kind_statistics import _judgements
from quality.services.explain import model_sentence


def test_one_judgement_on_one_item_is_singular():
    assert _judgements({"n_judgements": 1, "n_items": 1}) == "1 judgement on 1 item"
    assert _judgements({"n_judgements": 2, "n_items": 1}) == "2 judgements on 1 item"
    assert _judgements({"n_judgements": 1_200, "n_items": 400}) == "1,200 judgements on 400 items"


def test_model_sentence_says_one_judgement():
    row = {
        "reference": "gold",
        "model": "base model",
        "model_accuracy": 1.0,
        "n_judgements": 1,
        "n_items": 1,
        "hlp": 1.0,
    }
    sentence = model_sentence(row)
    assert "of 1 judgement on 1 item;" in sentence
