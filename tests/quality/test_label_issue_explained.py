"""Every label-issue flag is explained by the values shown beside it, after a real quality run on the worker
(quality model and base model both present, some gold items):

* a gold item's confidence is settled by its gold label: 0 where the consensus differs (``gold_mismatch``), 1
  where it equals it, also after the per-item update of a new vote;
* every ``is_label_issue`` item is either a gold mismatch (gold label shown) or cleanlab's pruning on the named
  model's probabilities, shown as that model's probability for the consensus label, which is below 0.5 because
  the model ranks another label first (that label is shown too);
* the review item page shows exactly these values next to the flag.
"""

import base64
import html
import re

import numpy as np
import pytest
from sklearn.datasets import load_digits

from annotation.models import Item
from annotation.services.annotations import AnnotationInput, annotation_submit
from bench.digits_confusions import PARTNERS
from ingress.demo.media import digit_png
from ingress.services.bulk import item_bulk_create
from quality.services.items import item_consensus_update
from tests.conftest import wait_for_job, wait_until_worker_idle
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_flag_model_shown import _items, _wait

pytestmark = [pytest.mark.worker]

N_ITEMS = 240
K = 3
# Items whose three votes all give the true digit but whose gold label is a confusable digit: the consensus is
# certain to differ from gold. The next ones carry their true digit as gold.
N_GOLD_WRONG = 3
N_GOLD_RIGHT = 20


def _run(worker, api):
    digits = load_digits()
    rng = np.random.default_rng(11)
    manager = UserFactory()
    project = make_project(
        manager=manager,
        labels=[str(d) for d in range(10)],
        k=K,
        task_type="image_classification",
        max_annotations_per_item=K,
        rescore_every=0,
        name="digits-gold",
    )
    rows = [
        {"external_id": f"d{i}", "file_b64": base64.b64encode(digit_png(digits.images[i])).decode()}
        for i in range(N_ITEMS)
    ]
    assert not item_bulk_create(project=project, rows=rows).errors
    annotators = [add_member(project) for _ in range(6)]
    items = list(Item.objects.filter(project=project).order_by("id"))
    first_voter = {}
    for n, item in enumerate(items):
        truth = int(digits.target[int(item.external_id[1:])])
        if n < N_GOLD_WRONG + N_GOLD_RIGHT:
            gold = str(PARTNERS[truth][0]) if n < N_GOLD_WRONG else str(truth)
            Item.objects.filter(pk=item.pk).update(is_gold=True, gold_label=gold)
        first_voter[item.pk] = annotators[n % 6]
        for j in range(K):
            noisy = n >= N_GOLD_WRONG and rng.random() < 0.2
            label = int(rng.choice(PARTNERS[truth])) if noisy else truth
            annotation_submit(
                project=project,
                user=annotators[(n + j) % 6],
                data=AnnotationInput(item_id=item.pk, labels=[str(label)]),
            )
    # Gold items take their consensus from the quality run only (votes on them never close them)
    _wait(
        lambda: (
            not Item.objects.filter(project=project, is_gold=False, consensus_label__isnull=True).exists()
        ),
        worker,
    )
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


def _check_api(rows):
    """The invariants on the API's item rows; returns the label-issue rows by basis."""
    by_basis = {"gold": [], "model": []}
    for row in rows:
        gold, consensus = row["gold_label"], row["consensus_label"]
        if gold is not None and consensus is not None:
            assert row["consensus_confidence"] == (1.0 if consensus == gold else 0.0), row
            assert ("gold_mismatch" in row["issue_kinds"]) == (consensus != gold), row
        if not row["is_label_issue"]:
            continue
        if gold is not None and consensus != gold:
            by_basis["gold"].append(row)
            continue
        # Not a gold mismatch: the named model ranks another label first and gives the consensus under 0.5
        assert row["flag_model"], row
        assert row["flag_model_label"] not in (None, consensus), row
        assert row["label_quality"] is not None and row["label_quality"] < 0.5, row
        assert "model_disagrees" in row["issue_kinds"], row
        by_basis["model"].append(row)
    return by_basis


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _row_text(page: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, flags=re.S)
    return _text(match.group(1)) if match else ""


def test_every_label_issue_shows_a_gold_mismatch_or_the_named_models_probability_for_the_consensus(
    worker, api, client
):
    project, manager, first_voter = _run(worker, api)
    rows = _items(api(manager), project.pk)
    assert {row["flag_model"] for row in rows} == {"quality model · run #1"}
    by_basis = _check_api(rows)
    assert len(by_basis["gold"]) >= N_GOLD_WRONG, by_basis["gold"]
    assert by_basis["model"], "the 20 % swaps should leave some labels the quality model flags"

    client.force_login(manager)
    for row in by_basis["gold"] + by_basis["model"]:
        page = client.get(f"/projects/{project.pk}/review/items/{row['id']}/").content.decode()
        why = _row_text(page, "label-issue-row")
        if row in by_basis["gold"]:
            assert (
                why == f"Label issue the consensus {row['consensus_label']} differs from the gold label "
                f"{row['gold_label']}"
            ), why
            consensus_cell = _text(
                re.search(r'<td id="consensus-cell">(.*?)</td>', page, flags=re.S).group(1)
            )
            assert f"confidence 0.00 — differs from the gold label {row['gold_label']} " in consensus_cell
        else:
            assert why == (
                f"Label issue consensus confidence {row['consensus_confidence']:.2f} · the quality model · run #1 "
                f"gives the consensus {row['consensus_label']} {row['label_quality']:.2f} and ranks "
                f"{row['flag_model_label']} first → label issue (cleanlab's pruning on the model's out-of-sample "
                "probabilities)"
            ), why
            flag_row = _row_text(page, "flag-model-row")
            assert flag_row.endswith(f"· gives the consensus {row['label_quality']:.2f} · label issue"), (
                flag_row
            )
    matched = next(r for r in rows if r["gold_label"] is not None and r["gold_label"] == r["consensus_label"])
    page = client.get(f"/projects/{project.pk}/review/items/{matched['id']}/").content.decode()
    assert "confidence 1.00 — matches the gold label" in _text(page)
    assert 'id="label-issue-row"' not in page

    # A changed vote on a gold mismatch (the first voter switches to the gold label: 2 against 1) leaves the
    # consensus, and the per-item update (the per-item pass; votes on gold items do not enqueue it) keeps its
    # confidence settled at 0 instead of the votes' posterior
    target = by_basis["gold"][0]
    annotation_submit(
        project=project,
        user=first_voter[target["id"]],
        data=AnnotationInput(item_id=target["id"], labels=[target["gold_label"]]),
    )
    wait_until_worker_idle(deadline_seconds=120)
    item_consensus_update(project_id=project.pk, item_id=target["id"])
    item = Item.objects.get(pk=target["id"])
    assert item.consensus_label == target["consensus_label"]
    assert item.consensus_confidence == 0.0
    assert item.is_label_issue
    _check_api(_items(api(manager), project.pk))
