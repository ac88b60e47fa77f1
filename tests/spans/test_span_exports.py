"""Span exports of a frozen version: JSONL rows with spans, CoNLL BIO read back by conllu and seqeval, the zip
loaded by Hugging Face ``datasets`` as tokens + ner_tags (ClassLabel O, B-/I- per label in label order)."""

import io
import json
import subprocess
import zipfile

import conllu
import pytest
from seqeval.metrics import classification_report

from annotation.models import Item, ItemStatus
from kinds.spans.export import stream
from tests.datasets.builders import body, freeze
from tests.datasets.test_exports import _require_hf_python
from tests.factories import make_project

pytestmark = pytest.mark.django_db

LABELS = ("ORG", "PER")  # project order, not alphabetical
ROWS = {
    "a": (
        "Acme hired Jo Smith, today",
        [
            {"start": 0, "end": 4, "label": "ORG", "confidence": 0.9},
            {"start": 11, "end": 19, "label": "PER", "confidence": 0.8},
        ],
    ),
    "b": ("no entity here", []),
    "c": (
        "Big Co Ltd and Ann",
        [
            {"start": 0, "end": 10, "label": "ORG", "confidence": 1.0},
            {"start": 15, "end": 18, "label": "PER", "confidence": 1.0},
        ],
    ),
}
# Hand-written tags; ids: O 0, B-ORG 1, I-ORG 2, B-PER 3, I-PER 4.
TAGS = {
    "a": ["B-ORG", "O", "B-PER", "I-PER", "O"],
    "b": ["O", "O", "O"],
    "c": ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER"],
}


@pytest.fixture
def version():
    from ingress.services.bulk import item_bulk_create

    project = make_project(task_type="text_spans", labels=LABELS, name="NER export")
    result = item_bulk_create(
        project=project, rows=[{"external_id": key, "text": text} for key, (text, _) in ROWS.items()]
    )
    assert not result.errors
    for key, (_, spans) in ROWS.items():
        Item.objects.filter(project=project, external_id=key).update(
            status=ItemStatus.LABELLED, consensus_label=spans, consensus_confidence=0.8
        )
    return freeze(project, splits={"train": 1.0})


def test_jsonl_rows_carry_spans_without_confidences(version):
    rows = {
        row["external_id"]: row
        for row in map(
            json.loads, body(stream(fmt="jsonl", version=version, split=None)).decode().splitlines()
        )
    }
    assert rows["a"]["spans"] == [{k: v for k, v in s.items() if k != "confidence"} for s in ROWS["a"][1]]
    assert rows["b"]["spans"] == []


def test_conll_reads_back_with_conllu_and_seqeval(version):
    text = body(stream(fmt="conll", version=version, split=None)).decode()
    sentences = conllu.parse(text, fields=("form", "tag"))
    by_id = {s.metadata["external_id"]: s for s in sentences}
    for key, (raw, _) in ROWS.items():
        assert [t["form"] for t in by_id[key]] == raw.split()
        assert [t["tag"] for t in by_id[key]] == TAGS[key]
    report = classification_report(
        [TAGS[k] for k in ROWS], [[t["tag"] for t in by_id[k]] for k in ROWS], output_dict=True
    )
    assert report["ORG"]["support"] == 2 and report["PER"]["support"] == 2


def test_a_format_span_versions_lack_is_a_field_error(version):
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        stream(fmt="csv", version=version, split=None)


HF_SCRIPT = """
import json, sys
import datasets
d = sys.argv[1]
z = datasets.load_dataset(d, cache_dir=d + "/cache")
train = z["train"]
print(json.dumps({
    "names": train.features["ner_tags"].feature.names,
    "rows": {r["external_id"]: [r["tokens"], r["ner_tags"]] for r in train},
}))
"""


def test_hugging_face_loads_the_zip_as_tokens_and_ner_tags(version, tmp_path):
    python = _require_hf_python()
    zipfile.ZipFile(io.BytesIO(body(stream(fmt="zip", version=version, split=None)))).extractall(tmp_path)
    result = subprocess.run(
        [python, "-I", "-c", HF_SCRIPT, str(tmp_path)], capture_output=True, text=True, cwd="/", timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    names = ["O", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert loaded["names"] == names
    for key, (raw, _) in ROWS.items():
        assert loaded["rows"][key] == [raw.split(), [names.index(tag) for tag in TAGS[key]]]
