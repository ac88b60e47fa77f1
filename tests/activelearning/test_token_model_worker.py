"""A span project's training job with the real Celery worker: the token model trains on the consensus spans, the
items whose consensus is deliberately wrong are flagged through the items API exactly where cleanlab's own
token-classification function (run here on the stored out-of-sample probabilities) flags them, the model API
reports its out-of-sample F1, and the pool is ordered by the token model's scores."""

import numpy as np
import pytest
from cleanlab.token_classification.filter import find_label_issues

from activelearning import priority
from activelearning.models import TokenPrediction
from annotation.models import Item, ItemStatus, Role
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from kinds.spans.token_encoding import io_codes, token_docs
from tests.activelearning.test_token_model import CITIES, corpus
from tests.conftest import wait_for_job
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.worker]

LABELS = ("LOC", "PER")


def test_a_span_training_job_flags_wrong_consensus_spans_through_the_api(worker, api):
    # Given a span project with 80 labelled texts (consensus set as a quality run would), three of them with a
    # city marked PER, and 20 texts still to label
    texts, spans = corpus(100, seed=11)
    project = make_project(task_type="text_spans", labels=LABELS, k=3)
    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(texts)]
    )
    assert not result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    given = [list(s) for s in spans]
    wrong = [d for d in range(80) if any(x["label"] == "LOC" for x in given[d])][:3]
    for d in wrong:
        first = next(i for i, x in enumerate(given[d]) if x["label"] == "LOC")
        given[d][first] = {**given[d][first], "label": "PER"}
    for item, value in zip(items[:80], given[:80], strict=True):
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.LABELLED, consensus_label=value, annotation_count=3, consensus_confidence=1.0
        )
    reviewer = add_member(project, Role.REVIEWER)

    # When the manager starts training through the API and the worker runs it
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/model/train/", {"seed": 2, "strategy": "bald"}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker, deadline_seconds=400)

    # Then the job trained the token model on the 80 labelled items
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["mode"], job.result["model"], job.result["n_train"]) == ("model", "token", 80)

    # and the items it flags are those cleanlab's own function flags on the stored out-of-sample probabilities
    stored = {row.item_id: row for row in TokenPrediction.objects.filter(item__in=items[:80])}
    assert all(row.is_out_of_sample for row in stored.values())
    docs = token_docs(texts[:80])
    codes = io_codes(docs, given[:80], LABELS)
    labels = [codes[docs.tokens.ptr[d] : docs.tokens.ptr[d + 1]].tolist() for d in range(80)]
    probs = [
        np.frombuffer(bytes(stored[item.pk].probs), dtype=np.float32)
        .reshape(len(labels[d]), 3)
        .astype(np.float64)
        for d, item in enumerate(items[:80])
    ]
    expected = {items[d].pk for d, _ in find_label_issues(labels, probs, n_jobs=1)}
    assert set(wrong) <= {d for d, _ in find_label_issues(labels, probs, n_jobs=1)}
    listed = api(reviewer).get(f"/api/projects/{project.pk}/items/", {"page_size": 200}).json()["results"]
    flagged = {row["id"] for row in listed if "model_disagrees" in row["issue_kinds"]}
    assert flagged == expected
    by_id = {row["id"]: row for row in listed}
    for d in wrong:
        row = by_id[items[d].pk]
        assert row["is_label_issue"] and row["flag_model"] == "token model v1"
        assert isinstance(row["flag_model_label"], list)

    # and the token-issues endpoint names the wrongly labelled city in words
    issues = api(reviewer).get(f"/api/projects/{project.pk}/model/token-issues/").json()["results"]
    assert {row["item"] for row in issues} == expected
    for row in issues:
        if row["item"] in {items[d].pk for d in wrong}:
            assert row["reason"].startswith("The model disagrees on token")
            assert any(
                token["token"] in CITIES and token["given"] == "PER" for token in row["flagged_tokens"]
            )

    # and the model API reports its out-of-sample F1 against the consensus
    model = api(reviewer).get(f"/api/projects/{project.pk}/model/").json()
    f1 = model["figures"]["model_f1"]
    assert f1["against"] == "consensus" and f1["model_version"] == 1 and f1["span_f1"] >= 0.8
    assert model["label_values"] == ["O", "LOC", "PER"]

    # and the 20 open items are ordered by their BALD score: all in the diverse batch (20 ≤ its size)
    pool = {row.item_id: row for row in TokenPrediction.objects.filter(item__in=items[80:])}
    assert len(pool) == 20 and all(row.score == row.bald for row in pool.values())
    priorities = dict(Item.objects.filter(pk__in=[i.pk for i in items[80:]]).values_list("pk", "priority"))
    assert all(priority.BAND_BATCH <= value < priority.BAND_BATCH + 1 for value in priorities.values())

    # and the model page says the token model's F1 and links its issues
    from django.test import Client

    page = Client()
    page.force_login(reviewer)
    html = page.get(f"/projects/{project.pk}/model/").content.decode()
    assert 'id="token-model-f1"' in html and "/model/token-issues/" in html


def test_a_token_model_trained_on_random_spans_is_too_weak_to_flag_label_issues(worker, api):
    # Given a span project with 40 labelled texts whose consensus spans are noise: every word is marked LOC or PER
    # at random, a quarter of the words, whatever the word is
    texts, _ = corpus(40, seed=5)
    rng = np.random.default_rng(3)
    noise = []
    for text in texts:
        doc_spans, position = [], 0
        for word in text.split(" "):
            r = rng.random()
            if r < 0.25:
                doc_spans.append(
                    {"start": position, "end": position + len(word), "label": LABELS[int(r < 0.125)]}
                )
            position += len(word) + 1
        noise.append(doc_spans)
    project = make_project(task_type="text_spans", labels=LABELS, k=3)
    assert not item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(texts)]
    ).errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    for item, value in zip(items, noise, strict=True):
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.LABELLED, consensus_label=value, annotation_count=3, consensus_confidence=1.0
        )
    reviewer = add_member(project, Role.REVIEWER)

    # When the model trains through the API on the worker
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/model/train/", {"seed": 2, "strategy": "bald"}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker, deadline_seconds=400)
    assert job.status == JobStatus.SUCCEEDED, job.error

    # Then the model is stored with its (poor) out-of-sample span F1, and cleanlab would have flagged items,
    model = api(reviewer).get(f"/api/projects/{project.pk}/model/").json()
    figures = model["figures"]
    assert figures["model_f1"]["span_f1"] < 0.5
    assert figures["n_model_disagreements"] > 0
    # but no item became a label issue
    assert figures["n_label_issues"] == 0 and figures["label_issue_gate"]["too_weak"].startswith("span F1 ")
    listed = api(reviewer).get(f"/api/projects/{project.pk}/items/", {"page_size": 100}).json()["results"]
    assert len(listed) == 40
    assert not any(row["is_label_issue"] or "model_disagrees" in row["issue_kinds"] for row in listed)

    # and the model page says why
    from django.test import Client

    page = Client()
    page.force_login(reviewer)
    html = page.get(f"/projects/{project.pk}/model/").content.decode()
    assert 'id="token-model-too-weak"' in html and "Too weak to flag label issues (span F1 0." in html
