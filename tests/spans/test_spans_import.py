"""Importing span gold labels: JSONL rows with ``spans`` (this API's form) or spaCy-style ``entities`` become the
item's gold span list; bad rows are reported by line with what is wrong (offsets past the text, unknown labels,
overlaps of one label) and not imported; raw text imports as for any text project."""

import json

import pytest

from annotation.models import Item
from ingress.services.bulk import item_bulk_create
from tests.factories import make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London"


def jsonl(*rows: dict) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def test_jsonl_spans_and_spacy_entities_become_gold_and_bad_rows_are_reported():
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=1)
    job = run_import(
        project,
        "ner.jsonl",
        jsonl(
            {
                "id": "a",
                "text": TEXT,
                "spans": [{"start": 36, "end": 42, "label": "LOC"}, {"start": 0, "end": 12, "label": "PER"}],
            },
            {"id": "b", "text": TEXT, "entities": [[17, 32, "PER"]], "source": "spacy"},
            {"id": "c", "text": TEXT},
            {"id": "d", "text": TEXT, "spans": [{"start": 36, "end": 50, "label": "LOC"}]},
            {"id": "e", "text": TEXT, "spans": [{"start": 0, "end": 3, "label": "ORG"}]},
            {
                "id": "f",
                "text": TEXT,
                "spans": [{"start": 0, "end": 12, "label": "PER"}, {"start": 4, "end": 16, "label": "PER"}],
            },
            {"id": "g", "text": TEXT, "spans": []},
        ),
    )
    gold = dict(Item.objects.filter(project=project).values_list("external_id", "gold_label"))
    assert gold == {
        "a": [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}],
        "b": [{"start": 17, "end": 32, "label": "PER"}],
        "c": None,
        "g": [],
    }
    assert Item.objects.get(project=project, external_id="b").metadata == {"source": "spacy"}
    report = {row["line"]: row for row in job.result["report"]}
    assert set(report) == {4, 5, 6}
    assert all(row["field"] == "gold_label" for row in report.values())
    assert "end is past the end of the text (42 characters)" in report[4]["message"]
    assert "unknown label 'ORG'" in report[5]["message"]
    assert "Span 2 (start 4, end 16) overlaps span 1 (start 0, end 12), both 'PER'" in report[6]["message"]


def test_bulk_rows_take_a_gold_span_list_checked_against_their_text():
    project = make_project(task_type="text_spans", labels=("PER",), k=1)
    result = item_bulk_create(
        project=project,
        rows=[
            {"external_id": "ok", "text": TEXT, "gold_label": [{"start": 0, "end": 3, "label": "PER"}]},
            {"external_id": "long", "text": "Ada", "gold_label": [{"start": 0, "end": 12, "label": "PER"}]},
        ],
    )
    assert result.created == 1
    assert [(e.index, e.field) for e in result.errors] == [(1, "gold_label")]
    assert "past the end of the text (3 characters)" in result.errors[0].message
    assert Item.objects.get(project=project, external_id="ok").gold_label == [
        {"start": 0, "end": 3, "label": "PER"}
    ]


def test_a_10_mb_document_is_a_field_error_and_nothing_is_stored():
    project = make_project(task_type="text_spans", labels=("PER",), k=1)
    result = item_bulk_create(project=project, rows=[{"external_id": "huge", "text": "word " * 2_000_000}])
    assert result.created == 0
    assert [(e.index, e.field) for e in result.errors] == [(0, "text")]
    assert "longer than" in result.errors[0].message
    assert not Item.objects.filter(project=project).exists()
