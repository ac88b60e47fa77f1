"""A span project through the REST contract with the real Celery worker: three annotators post spans, a quality
run job computes the figures (checked against the krippendorff package on the token encoding and against
hand-computed span F1), the item shows its consensus spans, the version freezes and its
CoNLL export reads back with conllu and seqeval, its JSONL with spans."""

import json
import re

import conllu
import krippendorff
import numpy as np
import pytest
from seqeval.metrics import f1_score

from annotation.models import Item, ItemStatus, Role
from core.models import JobStatus
from tests.conftest import wait_for_job
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.worker]

LABELS = ("PER", "LOC")
TEXTS = [
    "Ann lives in Oslo",
    "Bob went to Rome today",
    "Carl met Dora",
    "Eve and Finn",
    "nothing to see",
    "Gus in Hull",
]


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


GOOD = [
    [_s(0, 3, "PER"), _s(13, 17, "LOC")],
    [_s(0, 3, "PER"), _s(12, 16, "LOC")],
    [_s(0, 4, "PER"), _s(9, 13, "PER")],
    [_s(0, 3, "PER"), _s(8, 12, "PER")],
    [],
    [_s(0, 3, "PER"), _s(7, 11, "LOC")],
]
THIRD = [
    GOOD[0],
    [_s(0, 3, "PER"), _s(12, 22, "LOC")],  # boundary: "Rome today"
    [_s(0, 4, "PER"), _s(9, 13, "LOC")],  # type: Dora as LOC
    [_s(0, 3, "PER")],  # missed Finn
    [_s(11, 14, "PER")],  # spurious "see"
    GOOD[5],
]


def _token_values(text, spans):
    out = []
    for token in re.finditer(r"\S+", text):
        cover = [s for s in spans if s["start"] <= token.start() < s["end"]]
        out.append(0 if not cover else 1 + LABELS.index(cover[0]["label"]))
    return out


def test_span_quality_run_consensus_freeze_and_conll_export(worker, api):
    # Given a span project with six texts, labelled by three annotators through the API
    project = make_project(task_type="text_spans", labels=LABELS, k=3, max_annotations_per_item=3)
    from ingress.services.bulk import item_bulk_create

    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    )
    assert not result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    for user, source in zip(annotators, (GOOD, GOOD, THIRD), strict=True):
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    # When a reviewer runs quality through the API and the worker runs the job
    reviewer = add_member(project, Role.REVIEWER)
    response = api(reviewer).post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error

    # Then the report's figures equal independent computations
    body = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    assert body["cohen_min_overlap"] == 5
    # Pairs: (1, 2) identical → 1; (1, 3) and (2, 3): 10 + 10 spans, 7 exact matches → 14/20.
    assert body["mean_pairwise_span_f1"] == pytest.approx((1 + 0.7 + 0.7) / 3, abs=1e-9)
    reliability = np.array(
        [
            [v for text, spans in zip(TEXTS, source, strict=True) for v in _token_values(text, spans)]
            for source in (GOOD, GOOD, THIRD)
        ],
        dtype=float,
    )
    alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert body["token_krippendorff_alpha"] == pytest.approx(alpha, abs=1e-6)
    loc = krippendorff.alpha(
        reliability_data=(reliability == 2).astype(float), level_of_measurement="nominal"
    )
    assert body["per_label"]["LOC"]["token_krippendorff_alpha"] == pytest.approx(loc, abs=1e-6)
    # PER: (1, 2) identical → 1; (1, 3) and (2, 3): 7 + 6 PER spans, exact matches Ann, Bob, Carl, Eve, Gus → 10/13.
    assert body["per_label"]["PER"]["span_f1"] == pytest.approx((1 + 2 * 10 / 13) / 3)

    # and the quality page renders the span report with its sentence on span F1
    from django.test import Client

    page = Client()
    page.force_login(reviewer)
    html = page.get(f"/projects/{project.pk}/quality/")
    assert html.status_code == 200
    assert "exact-span F1" in html.content.decode()

    # and annotators are scored against the consensus
    rows = {
        row["user"]: row
        for row in api(reviewer).get(f"/api/projects/{project.pk}/annotators/").json()["results"]
    }
    assert rows[annotators[2].pk]["span_precision"] == pytest.approx(7 / 10)
    assert rows[annotators[0].pk]["span_f1"] == pytest.approx(1.0)

    # and each item shows its consensus spans with confidences, and its reasons
    detail = api(reviewer).get(f"/api/projects/{project.pk}/items/{items[1].pk}/").json()
    assert [(s["start"], s["end"], s["label"]) for s in detail["consensus_spans"]] == [
        (0, 3, "PER"),
        (12, 16, "LOC"),
    ]
    assert all(0 < s["confidence"] <= 1 for s in detail["consensus_spans"])
    assert "boundary_disagreement" in Item.objects.get(pk=items[1].pk).issue_kinds
    assert "type_confusion" in Item.objects.get(pk=items[2].pk).issue_kinds
    # and, every consensus clearing the project's review threshold, those reasons route nothing
    stored = list(Item.objects.filter(project=project))
    assert all(item.consensus_confidence >= project.review_confidence_threshold for item in stored)
    assert {item.status for item in stored} == {ItemStatus.LABELLED}

    # When a version is frozen (annotators' disagreements do not route an item by themselves, and every item's
    # consensus clears the review threshold here, so none waits for a review)
    manager = project.memberships.get(role="manager").user
    response = api(manager).post(
        f"/api/projects/{project.pk}/dataset-versions/", {"splits": {"train": 1.0}}, format="json"
    )
    assert response.status_code == 202, response.json()
    freeze_job = wait_for_job(response.json()["job"], worker=worker)
    assert freeze_job.status == JobStatus.SUCCEEDED, freeze_job.error
    version = api(manager).get(f"/api/projects/{project.pk}/dataset-versions/").json()["results"][0]

    # Then the JSONL rows carry spans and the CoNLL file reads back with conllu, its tags with seqeval
    jsonl = api(manager).get(f"/api/dataset-versions/{version['id']}/export/?format=jsonl")
    assert jsonl.status_code == 200
    rows = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    by_external = {row["external_id"]: row for row in rows}
    assert set(by_external) == {f"d{i}" for i in range(len(TEXTS))}
    assert by_external["d0"]["spans"] == GOOD[0]
    conll = api(manager).get(f"/api/dataset-versions/{version['id']}/export/?format=conll")
    assert conll.status_code == 200
    sentences = conllu.parse(b"".join(conll.streaming_content).decode(), fields=("form", "tag"))
    by_id = {s.metadata["external_id"]: s for s in sentences}
    assert [t["form"] for t in by_id["d0"]] == TEXTS[0].split()
    assert [t["tag"] for t in by_id["d0"]] == ["B-PER", "O", "O", "B-LOC"]
    truth = [["B-PER", "O", "O", "B-LOC"]]
    assert f1_score(truth, [[t["tag"] for t in by_id["d0"]]]) == 1.0
