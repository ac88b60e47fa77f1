"""One model per screen: after a real quality run (worker) on a project with both a base model and the quality
model, ``model_disagrees`` holds exactly where the named model's top label differs from the consensus, and the
review queue, the item page and the items browser show that model's label, named, next to the flag (and the
base model's prediction under its own name)."""

import base64
import html
import re
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

from annotation.models import Item
from annotation.services.annotations import AnnotationInput, annotation_submit
from bench.digits_confusions import PARTNERS
from ingress.demo.media import digit_png
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job, wait_until_worker_idle
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.worker]

N_ITEMS = 240
K = 3


def _wait(predicate, worker, seconds=300):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"condition not met\n{worker.log_tail()}")


def _project_after_a_quality_run(worker, api):
    """240 digits, three votes each from six simulated annotators who swap 20 % of labels to a confusable digit;
    base model trained and quality run started through the API. Returns (project, manager, first voter of
    each item by item id)."""
    digits = load_digits()
    rng = np.random.default_rng(7)
    manager = UserFactory()
    project = make_project(
        manager=manager,
        labels=[str(d) for d in range(10)],
        k=K,
        task_type="image_classification",
        max_annotations_per_item=K,
        rescore_every=0,
        name="digits",
    )
    rows = [
        {"external_id": f"d{i}", "file_b64": base64.b64encode(digit_png(digits.images[i])).decode()}
        for i in range(N_ITEMS)
    ]
    assert not item_bulk_create(project=project, rows=rows).errors
    annotators = [add_member(project) for _ in range(6)]
    items = list(Item.objects.filter(project=project).order_by("id"))
    first_voter = {item.pk: annotators[n % 6] for n, item in enumerate(items)}
    for n, item in enumerate(items):
        truth = int(digits.target[int(item.external_id[1:])])
        for j in range(K):
            label = int(rng.choice(PARTNERS[truth])) if rng.random() < 0.2 else truth
            annotation_submit(
                project=project,
                user=annotators[(n + j) % 6],
                data=AnnotationInput(item_id=item.pk, labels=[str(label)]),
            )
    _wait(lambda: not Item.objects.filter(project=project, consensus_label__isnull=True).exists(), worker)
    boss = api(manager)
    for path, body in (
        (f"/api/projects/{project.pk}/model/train/", {}),
        (f"/api/projects/{project.pk}/quality-runs/", {"n_boot": 0}),
    ):
        response = boss.post(path, body, format="json")
        assert response.status_code == 202, response.content[:300]
        job = wait_for_job(response.json()["job"], deadline_seconds=900, worker=worker)
        assert job.status == "succeeded", job.error
    return project, manager, first_voter


def _items(client, pid):
    response = client.get(f"/api/projects/{pid}/items/?page_size=1000")
    assert response.status_code == 200
    return response.json()["results"]


def _cells(page: str, css_class: str) -> dict[str, str]:
    """``data-item`` id → the text of the row's cell with ``css_class`` (tags stripped)."""
    out = {}
    for item_id, body in re.findall(r'<tr data-item="(\d+)"[^>]*>(.*?)</tr>', page, flags=re.S):
        cell = re.search(rf'<td class="{css_class}"[^>]*>(.*?)</td>', body, flags=re.S)
        if cell:
            out[item_id] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell.group(1))).split())
    return out


def test_model_disagrees_is_the_named_models_label_against_the_consensus_on_every_page(
    worker, api, client, page
):
    project, manager, first_voter = _project_after_a_quality_run(worker, api)
    rows = _items(api(manager), project.pk)
    # The run used the quality model (features exist) while a base model exists too
    names = {row["flag_model"] for row in rows}
    assert names == {"quality model · run #1"}, names
    assert all(row["predicted_label"] is not None for row in rows)

    # Invariant, every item: model_disagrees <=> the named model's top label differs from the consensus
    for row in rows:
        differs = row["flag_model_label"] is not None and row["flag_model_label"] != row["consensus_label"]
        assert ("model_disagrees" in row["issue_kinds"]) == differs, row
        # A label issue without gold is cleanlab's pruning, which only flags labels the model ranks below another
        assert not row["is_label_issue"] or "model_disagrees" in row["issue_kinds"], row
    disagreeing = [row for row in rows if "model_disagrees" in row["issue_kinds"]]
    assert disagreeing, "the simulation should leave some consensus labels the model contradicts"
    # The base model and the quality model disagree somewhere, so showing the base model would contradict a flag
    assert any(row["predicted_label"] != row["flag_model_label"] for row in rows)

    by_id = {str(row["id"]): row for row in rows}
    client.force_login(manager)
    # Review queue: the Model column is the flagging model's label and names it; the base model has its own
    # column, named with its version
    queue = client.get(f"/projects/{project.pk}/review/?page=1").content.decode()
    model_cells = _cells(queue, "model-cell")
    base_cells = _cells(queue, "base-model-cell")
    assert model_cells and "Base model v1" in queue
    for item_id, text in model_cells.items():
        row = by_id[item_id]
        assert text == f"{row['flag_model_label']} quality model · run #1", (text, row)
        assert base_cells[item_id] == row["predicted_label"]
    shown_flagged = [i for i in model_cells if "model_disagrees" in by_id[i]["issue_kinds"]]
    assert shown_flagged
    # Items browser: the same
    browser = client.get(f"/projects/{project.pk}/items/").content.decode()
    for item_id, text in _cells(browser, "model-cell").items():
        assert text == f"{by_id[item_id]['flag_model_label']} quality model · run #1"
    # Item page of a flagged item: the flag's model row shows its label and name, the base model is named apart
    row = by_id[shown_flagged[0]]
    item_html = client.get(f"/projects/{project.pk}/review/items/{row['id']}/").content.decode()
    flag_row = re.search(r'<tr id="flag-model-row">(.*?)</tr>', item_html, flags=re.S).group(1)
    flag_text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", flag_row)).split())
    assert flag_text.startswith(f"Model the flags use {row['flag_model_label']} quality model · run #1")
    base_row = re.search(r'<tr id="base-model-row">(.*?)</tr>', item_html, flags=re.S).group(1)
    assert "Base model v1" in base_row and row["predicted_label"] in base_row

    # In the browser, the queue row of a flagged item shows the same label and name beside the flag
    from playwright.sync_api import expect

    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/review/")
    row_el = page.locator(f'tr[data-item="{row["id"]}"]')
    expect(
        row_el.locator(".reason-chip[data-reason='model_disagrees']", has_text="model disagrees")
    ).to_be_visible()
    expect(row_el.locator(".model-cell .model-label")).to_have_text(row["flag_model_label"])
    expect(row_el.locator(".model-cell .model-name")).to_have_text("quality model · run #1")
    expect(page.locator("#queue-table thead")).to_contain_text("Base model v1")

    # After an annotator changes a vote, the per-item update keeps the invariant against the same stored label
    target = next(r for r in rows if r["flag_model_label"] not in (None, r["consensus_label"]))
    annotation_submit(
        project=project,
        user=first_voter[target["id"]],
        data=AnnotationInput(item_id=target["id"], labels=[target["flag_model_label"]]),
    )
    wait_until_worker_idle(deadline_seconds=120)
    for row in _items(api(manager), project.pk):
        differs = row["flag_model_label"] is not None and row["flag_model_label"] != row["consensus_label"]
        assert ("model_disagrees" in row["issue_kinds"]) == differs, row
