"""Span gold from CoNLL/BIO files and Label Studio ``labels`` results, uploaded through the API and imported by
the real worker: the documents' spans become gold, bad documents are reported by line in words, and the job's
report and the batch add up (rows read = created + duplicates + errors)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Item
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import make_project

pytestmark = pytest.mark.worker


def _upload(worker, api, project, name: str, data: bytes, **fields):
    client = api(project.created_by)
    response = client.post(
        f"/api/projects/{project.pk}/imports/",
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    batches = client.get(f"/api/projects/{project.pk}/batches/").json()["results"]
    (batch,) = [b for b in batches if b["job"] == str(job.pk)]
    return job.result, batch


def _adds_up(result: dict, batch: dict) -> None:
    assert result["rows"] == result["created"] + result["duplicates"] + result["errors"], result
    assert (batch["n_created"], batch["n_duplicates"], batch["n_errors"]) == (
        result["created"],
        result["duplicates"],
        result["errors"],
    )


CONLL = (
    "-DOCSTART- O\n"  # 1
    "\n"  # 2
    "# external_id = d1\n"  # 3
    "Ada\tB-PER\n"  # 4
    "Lovelace\tI-PER\n"  # 5
    "met\tO\n"  # 6
    "Babbage\tI-PER\n"  # 7  I- without B-: a span of its own
    "\n"  # 8
    "# external_id = d2\n"  # 9
    "Acme\tB-ORG\n"  # 10  ORG is no label of the project
    "hired\tO\n"  # 11
    "\n"  # 12
    "# external_id = d3\n"  # 13
    "London\tS-LOC\n"  # 14  not BIO
    "\n"  # 15
    "# external_id = old\n"  # 16
    "already\tO\n"  # 17  this id is in the project already
    "\n"  # 18
    "# external_id = d4\n"  # 19
    "in\tO\n"  # 20
    "Paris\tB-LOC\n"  # 21
)


def test_a_conll_file_imports_documents_with_gold_spans_and_reports_the_bad_ones(worker, api):
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=1)
    assert not item_bulk_create(project=project, rows=[{"external_id": "old", "text": "before"}]).errors

    result, batch = _upload(worker, api, project, "ner.conll", CONLL.encode())

    # 5 documents = 2 created (d1, d4) + 1 duplicate (old) + 2 refused (d2, d3)
    assert (result["rows"], result["created"], result["duplicates"], result["errors"]) == (5, 2, 1, 2)
    assert result["outcome"] == "completed_with_errors"
    _adds_up(result, batch)
    report = {row["line"]: row for row in result["report"]}
    assert set(report) == {10, 14}
    assert report[10]["field"] == "gold_label" and "unknown label 'ORG'" in report[10]["message"]
    assert report[14]["field"] == "tag" and "tag 'S-LOC' is not BIO" in report[14]["message"]
    items = {i.external_id: i for i in Item.objects.filter(project=project)}
    # "Ada Lovelace met Babbage": Ada Lovelace 0–12, Babbage 17–24
    assert items["d1"].text == "Ada Lovelace met Babbage"
    assert items["d1"].gold_label == [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 17, "end": 24, "label": "PER"},
    ]
    assert items["d4"].text == "in Paris" and items["d4"].gold_label == [
        {"start": 3, "end": 8, "label": "LOC"}
    ]
    assert items["old"].text == "before"


def _task(task_id, text, *annotations):
    return {
        "id": task_id,
        "data": {"text": text},
        "annotations": [{"id": 10 * task_id + n, "result": result} for n, result in enumerate(annotations)],
    }


def _region(start, end, label, text=None, quote=None):
    value = {"start": start, "end": end, "labels": [label]}
    if quote is not None or text is not None:
        value["text"] = quote if quote is not None else text[start:end]
    return {"from_name": "label", "to_name": "text", "type": "labels", "value": value}


TEXT = "Ada Lovelace met Charles Babbage in London"


def test_label_studio_labels_results_import_as_gold_spans_with_bad_regions_reported(worker, api):
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=1)
    emoji = "I 😀 Ann"  # "Ann" is characters 4–7, UTF-16 positions 5–8
    tasks = [
        # Two annotators agree: gold
        _task(1, TEXT, [_region(0, 12, "PER", TEXT)], [_region(0, 12, "PER", TEXT)]),
        # Label Studio offsets (UTF-16) read back as characters, by the quoted text
        _task(2, emoji, [_region(5, 8, "PER", quote="Ann")]),
        # Past the end of the text
        _task(3, TEXT, [_region(36, 50, "LOC")]),
        # Unknown label
        _task(4, TEXT, [_region(0, 3, "ORG", TEXT)]),
        # Overlapping spans of one label
        _task(5, TEXT, [_region(0, 12, "PER", TEXT), _region(4, 16, "PER", TEXT)]),
        # Two labels on one region
        _task(
            6,
            TEXT,
            [
                {
                    "type": "labels",
                    "from_name": "label",
                    "to_name": "text",
                    "value": {"start": 0, "end": 3, "labels": ["PER", "LOC"]},
                }
            ],
        ),
        # Annotators differ: no gold, the text still imports
        _task(7, TEXT, [_region(0, 12, "PER", TEXT)], [_region(36, 42, "LOC", TEXT)]),
    ]

    result, batch = _upload(
        worker, api, project, "ls.json", json.dumps(tasks).encode(), labelstudio_annotations="gold"
    )

    # 7 tasks = 3 created (1, 2, 7) + 4 refused (3, 4, 5, 6)
    assert (result["rows"], result["created"], result["duplicates"], result["errors"]) == (7, 3, 0, 4)
    _adds_up(result, batch)
    report = {row["line"]: row["message"] for row in result["report"]}
    assert set(report) == {3, 4, 5, 6}
    assert "end is past the end of the text (42 characters)" in report[3]
    assert "unknown label 'ORG'" in report[4]
    assert "overlaps span 1 (start 0, end 12), both 'PER'" in report[5]
    assert "Label Studio region 1: needs exactly one label, has 2." in report[6]
    gold = dict(Item.objects.filter(project=project).values_list("external_id", "gold_label"))
    assert gold == {
        "1": [{"start": 0, "end": 12, "label": "PER"}],
        "2": [{"start": 4, "end": 7, "label": "PER"}],
        "7": None,
    }
