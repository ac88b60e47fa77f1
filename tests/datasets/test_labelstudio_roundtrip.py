"""Label Studio JSON export of span and box versions, read back by Labelgate's own Label Studio importer into a
new project of the same kind: the version's spans come back as gold with the same offsets, its boxes within
1e-6 px; the regions and the labelling config are Label Studio's (labels / rectanglelabels, names matching)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from annotation.models import Item, ItemStatus
from ingress.readers.labelstudio_config import parse_config
from kinds.registry import kind_for
from tests.datasets.builders import body, freeze
from tests.factories import UserFactory, make_project
from tests.ingress.ingress_fixtures import run_import

LABELS = ("ORG", "PER")
# (text, the version's spans); "😀" is one character but two UTF-16 positions in Label Studio
SPAN_ROWS = {
    "a": ("Acme hired Jo Smith, today", [(0, 4, "ORG"), (11, 19, "PER")]),
    "b": ("no entity here", []),
    "c": ("Jo 😀 met Ann at Big Co", [(0, 2, "PER"), (9, 12, "PER"), (16, 22, "ORG")]),
}


def _spans(triples, confidence=None):
    out = []
    for start, end, label in triples:
        span = {"start": start, "end": end, "label": label}
        if confidence is not None:
            span["confidence"] = confidence
        out.append(span)
    return out


def _export(version, fmt, base_url="") -> bytes:
    return body(
        kind_for(version.project).export_part.stream(fmt=fmt, version=version, split=None, base_url=base_url)
    )


@pytest.mark.django_db
def test_span_version_round_trips_through_label_studio_json():
    from ingress.services.bulk import item_bulk_create

    project = make_project(task_type="text_spans", labels=LABELS, name="NER out")
    rows = [{"external_id": key, "text": text} for key, (text, _) in SPAN_ROWS.items()]
    assert not item_bulk_create(project=project, rows=rows).errors
    for key, (_, triples) in SPAN_ROWS.items():
        Item.objects.filter(project=project, external_id=key).update(
            status=ItemStatus.LABELLED, consensus_label=_spans(triples, 0.8), consensus_confidence=0.8
        )
    # A reviewer's spans win over the consensus
    Item.objects.filter(project=project, external_id="a").update(
        status=ItemStatus.ACCEPTED, final_label=_spans([(0, 4, "ORG"), (11, 13, "PER")])
    )
    version = freeze(project, splits={"train": 1.0})
    expected = {key: _spans(triples) for key, (_, triples) in SPAN_ROWS.items()}
    expected["a"] = _spans([(0, 4, "ORG"), (11, 13, "PER")])

    tasks = json.loads(_export(version, "labelstudio"))
    config = _export(version, "labelstudio-config").decode()

    # The regions are Label Studio labels quoting the text, named as the config names the control and object
    parsed = parse_config(config)
    assert (parsed.control, parsed.target, parsed.data_key, parsed.choices) == (
        "label",
        "text",
        "text",
        LABELS,
    )
    assert '<Labels name="label" toName="text">' in config and '<Text name="text" value="$text"/>' in config
    by_id = {task["data"]["external_id"]: task for task in tasks}
    (truth,) = [a for a in by_id["c"]["annotations"] if a["ground_truth"]]
    assert [r["value"] for r in truth["result"]] == [
        {"start": 0, "end": 2, "text": "Jo", "labels": ["PER"]},
        # "Ann" is characters 9–12, UTF-16 positions 10–13 (the emoji at 3 counts twice there)
        {"start": 10, "end": 13, "text": "Ann", "labels": ["PER"]},
        {"start": 17, "end": 23, "text": "Big Co", "labels": ["ORG"]},
    ]
    assert all(
        (r["from_name"], r["to_name"], r["type"]) == ("label", "text", "labels") for r in truth["result"]
    )

    # Read back into a new span project, the config given as a Label Studio user would
    target = make_project(task_type="text_spans", labels=LABELS, name="NER in")
    job = run_import(
        target,
        "ls.json",
        json.dumps(tasks).encode(),
        labelstudio_annotations="gold",
        labelstudio_config=config,
    )
    assert job.result["rows"] == job.result["created"] == 3, job.result
    gold = dict(Item.objects.filter(project=target).values_list("external_id", "gold_label"))
    assert gold == expected
    texts = dict(Item.objects.filter(project=target).values_list("external_id", "text"))
    assert texts == {key: text for key, (text, _) in SPAN_ROWS.items()}


WIDTH, HEIGHT = 333, 217  # sizes whose percentages are not exact binary fractions
BOXES = {
    "img-0": [{"x": 10.25, "y": 20.5, "w": 100.125, "h": 50.0, "label": "iguana", "confidence": 0.9}],
    "img-1": [
        {"x": 0.0, "y": 0.0, "w": 33.3, "h": 21.7, "label": "rock", "confidence": 1.0},
        {"x": 160.1, "y": 120.7, "w": 172.9, "h": 96.3, "label": "iguana", "confidence": 0.5},
    ],
    "img-2": [],
}


def _png(n: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), (40 * n, 100, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _box_project(api, name: str) -> int:
    response = api(UserFactory(project_creator=True)).post(
        "/api/projects/",
        {"name": name, "task_type": "image_boxes", "labels": [{"value": v} for v in ("iguana", "rock")]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_box_version_round_trips_through_label_studio_json(api, media_roots, live_server, settings):
    pid = _box_project(api, "Desert out")
    from annotation.models import Project

    project = Project.objects.get(pk=pid)
    rows = [{"external_id": key, "file_b64": _png(n)} for n, key in enumerate(BOXES)]
    assert api(project.created_by).post(
        f"/api/projects/{pid}/items/bulk/", rows, format="json"
    ).status_code in (
        200,
        201,
    )
    for key, boxes in BOXES.items():
        Item.objects.filter(project=project, external_id=key).update(
            status=ItemStatus.LABELLED, consensus_label=boxes, consensus_confidence=0.8
        )
    version = freeze(project, splits={"train": 1.0})

    tasks = json.loads(_export(version, "labelstudio", base_url=live_server.url + "/"))
    config = _export(version, "labelstudio-config").decode()

    assert (
        '<RectangleLabels name="label" toName="image">' in config
        and '<Image name="image" value="$image"/>' in config
    )
    by_id = {task["data"]["external_id"]: task for task in tasks}
    (truth,) = [a for a in by_id["img-0"]["annotations"] if a["ground_truth"]]
    (region,) = truth["result"]
    assert (region["type"], region["original_width"], region["original_height"]) == (
        "rectanglelabels",
        WIDTH,
        HEIGHT,
    )
    assert region["value"]["x"] == pytest.approx(10.25 / WIDTH * 100, abs=1e-12)
    assert region["value"]["height"] == pytest.approx(50.0 / HEIGHT * 100, abs=1e-12)
    assert region["value"]["rectanglelabels"] == ["iguana"]

    # Read back into a new box project; the images come from the export's signed links
    settings.LABELGATE_LS_FETCH_URLS = True
    target = Project.objects.get(pk=_box_project(api, "Desert in"))
    job = run_import(
        target,
        "ls.json",
        json.dumps(tasks).encode(),
        labelstudio_annotations="gold",
        labelstudio_config=config,
    )
    assert job.result["rows"] == job.result["created"] == 3, job.result
    gold = dict(Item.objects.filter(project=target).values_list("external_id", "gold_label"))
    assert set(gold) == set(BOXES)
    for key, boxes in BOXES.items():
        back = sorted(gold[key], key=lambda b: (b["label"], b["x"]))
        sent = sorted(boxes, key=lambda b: (b["label"], b["x"]))
        assert [b["label"] for b in back] == [b["label"] for b in sent]
        for got, want in zip(back, sent, strict=True):
            for field in ("x", "y", "w", "h"):
                assert abs(got[field] - want[field]) <= 1e-6, (key, field, got, want)
