"""CoNLL/BIO files read as documents with gold spans: a file written by hand, its text rebuilt from the tokens
with single spaces, spans at those offsets (checked by hand and against seqeval's own reading of the tags), I-
without B- starting a span as seqeval does, -DOCSTART- skipped, bad tags reported by line; and how uploads of
CoNLL files are told apart from CSV."""

import io
import json

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from ingress.readers import FileError, RawRow, RowError, detect_format, read_conll
from ingress.readers.conllreader import text_and_spans

# CoNLL-2003 style: token, POS, chunk, NER tag; columns in between are ignored. Line numbers on the right.
FILE = (
    "-DOCSTART- -X- -X- O\n"  # 1
    "\n"  # 2
    "Ada NNP B-NP B-PER\n"  # 3
    "Lovelace NNP I-NP I-PER\n"  # 4
    "met VBD B-VP O\n"  # 5
    "Babbage NNP B-NP B-PER\n"  # 6
    "in IN B-PP O\n"  # 7
    "London NNP B-NP B-LOC\n"  # 8
    "\n"  # 9
    "# external_id = doc-2\n"  # 10
    "Acme\tI-ORG\n"  # 11  I- without B-: starts a span
    "Corp\tI-ORG\n"  # 12
    "hired\tO\n"  # 13
    "Jo\tB-PER\n"  # 14
    "Jo\tB-PER\n"  # 15  B- after B-: a second span
    "\n"  # 16
    "\n"  # 17
    "Bad\tE-PER\n"  # 18  not BIO
    "line\tO\n"  # 19
    "\n"  # 20
    "alone\n"  # 21  a token without a tag
)


def _rows(data: str) -> list:
    return list(read_conll(io.BytesIO(data.encode())))


def test_a_hand_written_file_reads_as_documents_with_spans_at_the_rebuilt_offsets():
    rows = _rows(FILE)
    assert [type(row) for row in rows] == [RawRow, RawRow, RowError, RowError]
    first, second, bad_tag, no_tag = rows
    # "Ada Lovelace met Babbage in London": Ada Lovelace 0–12, Babbage 17–24, London 28–34
    assert first.text == "Ada Lovelace met Babbage in London"
    assert first.line == 3 and first.external_id is None
    assert json.loads(first.gold_label) == [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 17, "end": 24, "label": "PER"},
        {"start": 28, "end": 34, "label": "LOC"},
    ]
    # "Acme Corp hired Jo Jo": Acme Corp 0–9 (I- I-), Jo 16–18, Jo 19–21
    assert second.text == "Acme Corp hired Jo Jo" and second.external_id == "doc-2" and second.line == 11
    assert json.loads(second.gold_label) == [
        {"start": 0, "end": 9, "label": "ORG"},
        {"start": 16, "end": 18, "label": "PER"},
        {"start": 19, "end": 21, "label": "PER"},
    ]
    assert (bad_tag.line, bad_tag.field) == (18, "tag")
    assert "tag 'E-PER' is not BIO" in bad_tag.message
    assert (no_tag.line, no_tag.field) == (21, "tag") and "'alone' alone" in no_tag.message


@pytest.mark.parametrize(
    "tags",
    [
        ["B-PER", "I-PER", "O", "B-LOC"],
        ["I-PER", "I-PER", "O", "I-LOC"],
        ["B-PER", "I-LOC", "I-LOC", "O"],
        ["O", "I-PER", "B-PER", "I-PER"],
        ["B-PER", "B-PER", "I-PER", "I-PER"],
    ],
)
def test_spans_cover_the_tokens_seqeval_reads_as_entities(tags):
    tokens = ["aa", "b", "cccc", "dd"]
    text, spans = text_and_spans(tokens, tags)
    starts = [0, 3, 5, 10]  # offsets of the tokens in "aa b cccc dd"
    assert text == "aa b cccc dd"
    # seqeval: (label, first token, last token); end = the last token's start + its length
    expected = [
        {"start": starts[first], "end": starts[last] + len(tokens[last]), "label": label}
        for label, first, last in get_entities(tags)
    ]
    assert spans == expected


def test_our_own_conll_export_reads_back_with_its_external_ids():
    exported = "# item_id = 7\n# external_id = a b\nAcme\tB-ORG\nhired\tO\n\n"
    (row,) = _rows(exported)
    assert row.external_id == "a b" and row.text == "Acme hired"
    assert json.loads(row.gold_label) == [{"start": 0, "end": 4, "label": "ORG"}]


def test_a_binary_file_is_one_file_error():
    rows = list(read_conll(io.BytesIO(b"\x89PNG\x00\x00\x00\x00" * 100)))
    assert len(rows) == 1 and isinstance(rows[0], FileError)


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("ner.conll", b"Ada\tB-PER\n", "conll"),
        ("ner.bio", b"Ada B-PER\n", "conll"),
        ("ner.txt", b"-DOCSTART- -X- O O\n\nAda NNP B-NP B-PER\nmet VBD B-VP O\n", "conll"),
        ("notes.txt", b"text\nhello world\n", "csv"),
        ("notes.txt", b"external_id,text\nx,Ada B-PER\n", "csv"),
    ],
)
def test_conll_files_are_told_from_csv_by_name_and_first_lines(name, head, fmt):
    assert detect_format(name, head) == fmt
