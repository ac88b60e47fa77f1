"""Span and box projects through the real worker: the report API serves the intervals, HLP (hand-computed), error
analysis by tag and box α, the quality page shows the same figures saying what they count, and a version frozen
after the run shows the kind's HLP at freeze."""

from __future__ import annotations

import re

import pytest

from annotation.models import Item, Role
from core.models import JobStatus
from tests.conftest import wait_for_job
from tests.factories import add_member, make_project
from tests.quality.test_structured_kind_pages import _run_quality, _text

pytestmark = [pytest.mark.django_db, pytest.mark.worker]


def _interval(value, ci) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} ({ci[0]:.2f}–{ci[1]:.2f})"


def _rows(html: str, table_id: str, attr: str) -> dict[str, list[str]]:
    table = re.search(rf'<table class="table" id="{table_id}">(.*?)</table>', html, re.S)
    assert table, table_id
    body = table.group(1).split("</thead>")[-1]
    return {
        key: [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for key, row in re.findall(rf'<tr {attr}="([^"]+)">(.*?)</tr>', body, re.S)
    }


def _page_equals_api(html: str, report: dict, interval_keys: list[str], label_names: dict[str, str]) -> None:
    intervals = _rows(html, "kind-intervals", "data-metric")
    for key in interval_keys:
        assert intervals[key][1] == _interval(report[key], report[f"{key}_ci"]), key
        assert (
            "95% interval from" in intervals[key][2]
            and f"{report['n_boot']} item resamples" in intervals[key][2]
        )
    table = re.search(r'<table class="table" id="kind-label-intervals">(.*?)</table>', html, re.S).group(1)
    head = [_text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]
    labels = _rows(html, "kind-label-intervals", "data-label")
    for label, row in report["per_label"].items():
        for key in [k[: -len("_ci")] for k in row if k.endswith("_ci")]:
            column = next(i for i, name in enumerate(head) if name == label_names[key])
            assert labels[label][column] == _interval(row[key], row[f"{key}_ci"]), (label, key)
    hlp = report["hlp_f1"]
    rows = _rows(html, "kind-hlp", "data-row")
    assert rows["consensus"][1] == _interval(hlp["consensus"]["f1"], hlp["consensus"]["ci"])
    assert f"{hlp['consensus']['n_judgements']} judgements" in rows["consensus"][2]
    assert rows["model"][1] == "no model yet"
    slices = _rows(html, "kind-hlp-slices", "data-slice")
    for label, row in hlp["consensus"]["per_label"].items():
        assert slices[f"label:{label}"][1] == _interval(row["f1"], row["ci"])
    for tag, row in hlp["consensus"]["per_tag"].items():
        assert slices[f"tag:{tag}"][1] == _interval(row["f1"], row["ci"])
    errors = _rows(html, "kind-errors", "data-tag")
    for row in report["tag_error_analysis"]:
        cells = errors[row["tag"]]
        assert cells[1] == str(row["n_items"])
        assert cells[2] == f"{100 * row['share_of_data']:.1f}%"
        assert cells[3] == _interval(row["f1"], row["f1_ci"])
        assert cells[4] == _interval(row["hlp"], row["hlp_ci"])
        assert cells[6] == f"{100 * row['share_routed']:.1f}% ({row['n_routed']})"


def test_span_project_serves_and_shows_intervals_hlp_error_analysis_and_hlp_at_freeze(client, api, worker):
    from ingress.services.bulk import item_bulk_create
    from tests.spans.test_span_quality_worker import GOOD, TEXTS, THIRD

    # Given the six texts labelled GOOD, GOOD and THIRD by three annotators, texts 1 and 2 tagged "hard"
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    )
    assert not result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    Item.objects.filter(pk__in=[items[1].pk, items[2].pk]).update(tags=["hard"])
    for source in (GOOD, GOOD, THIRD):
        user = add_member(project)
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER)
    # When the real worker runs the quality check
    report, _ = _run_quality(api, worker, project, reviewer)
    # Then the API serves HLP: GOOD answers score 1 against the others (THIRD's own spans are ties), THIRD scores
    # 1, 2/4, 2/4, 2/3, 0, 1 against GOOD → (12 + 11/3) / 18
    hlp = report["hlp_f1"]
    assert hlp["consensus"]["f1"] == pytest.approx(47 / 54)
    assert hlp["gold"] is None and hlp["model_f1"] is None and hlp["model_note"] == "no model yet"
    assert hlp["consensus"]["per_tag"]["hard"]["f1"] == pytest.approx(5 / 6)
    for key in ("mean_pairwise_span_f1", "mean_pairwise_partial_span_f1", "token_krippendorff_alpha"):
        assert report[f"{key}_ci"][0] <= report[key] <= report[f"{key}_ci"][1]
    assert report["per_label"]["PER"]["span_f1_ci"][0] <= report["per_label"]["PER"]["span_f1"]
    # and the error analysis: on the hard texts the pairs score 1, 4/8, 4/8
    (row,) = report["tag_error_analysis"]
    assert row["tag"] == "hard" and row["f1"] == pytest.approx(2 / 3) and row["hlp"] == pytest.approx(5 / 6)
    # and the quality page shows the same figures
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    _page_equals_api(
        html,
        report,
        ["mean_pairwise_span_f1", "mean_pairwise_partial_span_f1", "token_krippendorff_alpha"],
        {
            "span_f1": "Span F1",
            "partial_span_f1": "Partial span F1",
            "token_krippendorff_alpha": "Krippendorff's α (on tokens)",
        },
    )
    # When the manager freezes a version after the run
    manager = project.memberships.get(role="manager").user
    response = api(manager).post(
        f"/api/projects/{project.pk}/dataset-versions/", {"splits": {"train": 1.0}}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    version = api(manager).get(f"/api/projects/{project.pk}/dataset-versions/").json()["results"][0]
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/datasets/{version['id']}/").content.decode()
    # Then its page shows the kind's HLP at freeze, not "no quality run before the freeze"
    assert "no quality run before the freeze" not in page
    row = re.search(r'<tr data-metric="kind-hlp-consensus">(.*?)</tr>', page, re.S)
    assert row, "no HLP at freeze row"
    cells = [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
    assert cells[0] == "HLP vs consensus at freeze"
    assert cells[1] == "F1 " + _interval(hlp["consensus"]["f1"], hlp["consensus"]["ci"])
    assert "no model yet" in cells[2] and "18 judgements on 6 items" in cells[2]


def test_box_project_serves_and_shows_intervals_hlp_alpha_and_error_analysis(client, api, worker):
    from tests.kinds.test_box_quality_api import ANSWERS, box_project

    # Given the six images of the box quality test, boxed by A, B and C, images 4 and 5 tagged "hard"
    pid, manager, items = box_project(api)
    project = items[0].project
    Item.objects.filter(pk__in=[items[4].pk, items[5].pk]).update(tags=["hard"])
    for answers in ANSWERS.values():
        user = add_member(project)
        for item, boxes in zip(items, answers, strict=True):
            response = api(user).post(
                f"/api/projects/{pid}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
            )
            assert response.status_code == 201, response.json()
    # When the real worker runs the quality check
    report, _ = _run_quality(api, worker, project, manager)
    # Then HLP: images 0-3 score 1 for all; on image 4 A and B have only a tied cluster (1 each: nothing
    # settled on either side), C missed the box both others drew (0); image 5 the same with C's rock → 16/18
    hlp = report["hlp_f1"]
    assert hlp["consensus"]["f1"] == pytest.approx(8 / 9)
    assert hlp["consensus"]["per_label"]["iguana"]["f1"] == pytest.approx(12 / 14)
    assert hlp["consensus"]["per_label"]["rock"]["f1"] == pytest.approx(0.0)
    assert hlp["consensus"]["per_tag"]["hard"]["f1"] == pytest.approx(4 / 6)
    # α with 1 − IoU: 7 clusters × 3 values; D_o = (2 + 2.5 + 2) / 21; D_e = 2 × 190.5 / (21 × 20)
    assert report["box_krippendorff_alpha"] == pytest.approx(1 - (6.5 / 21) / (381 / 420))
    assert report["box_alpha_n_units"] == 7 and report["box_alpha_n_values"] == 21
    for key in ("mean_pairwise_box_f1", "mean_matched_iou"):
        assert report[f"{key}_ci"][0] <= report[key] <= report[f"{key}_ci"][1]
    # Error analysis: on images 4 and 5, pair (A, B) scores 4/4 and the pairs with C 0/3 → 1/3
    (row,) = report["tag_error_analysis"]
    assert row["f1"] == pytest.approx(1 / 3) and row["n_items"] == 2
    # and the page shows the same figures, α saying what it counts
    client.force_login(manager)
    html = client.get(f"/projects/{pid}/quality/").content.decode()
    _page_equals_api(
        html,
        report,
        ["mean_pairwise_box_f1", "mean_matched_iou"],
        {"mean_pairwise_box_f1": "Box F1 (IoU ≥ 0.5)", "mean_matched_iou": "Mean matched IoU"},
    )
    alpha = _rows(html, "kind-intervals", "data-metric")["box_krippendorff_alpha"]
    assert alpha[0] == "Krippendorff's α (1 − IoU)"
    assert alpha[1] == f"{report['box_krippendorff_alpha']:.2f}"
    assert "7 matched box clusters" in alpha[2]


def test_span_hlp_is_shown_beside_the_token_models_out_of_sample_f1_naming_the_model(client, api, worker):
    from activelearning.models import ModelVersion
    from ingress.services.bulk import item_bulk_create
    from tests.spans.test_span_quality_worker import GOOD, TEXTS, THIRD

    # Given the six texts labelled GOOD, GOOD and THIRD, and a token model (version 1) whose training job found
    # an out-of-sample exact-span F1 of 0.87 against the consensus
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    assert not item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    ).errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    for source in (GOOD, GOOD, THIRD):
        user = add_member(project)
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    f1 = {"span_f1": 0.87, "token_f1": 0.91, "against": "consensus", "n_items": 6, "model_version": 1}
    ModelVersion.objects.create(
        project=project,
        version=1,
        extractor="token-ngram-cnn/1",
        extractor_name="token-ngram-cnn",
        extractor_version="1",
        strategy="margin",
        n_train=6,
        cv_accuracy=0.9,
        figures={"model_f1": f1},
    )
    reviewer = add_member(project, Role.REVIEWER)
    # When the real worker runs the quality check
    report, _ = _run_quality(api, worker, project, reviewer)
    # Then HLP carries the model's exact-span F1, its version and reference, and the same HLP as without a model
    hlp = report["hlp_f1"]
    assert hlp["consensus"]["f1"] == pytest.approx(47 / 54)
    assert (hlp["model_f1"], hlp["model_version"], hlp["model_against"], hlp["model_note"]) == (
        0.87,
        1,
        "consensus",
        None,
    )
    # and the quality page shows it beside HLP, saying which model and against what
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    model = _rows(html, "kind-hlp", "data-row")["model"]
    assert model[1] == "0.87"
    assert "token model v1" in model[2] and "out of sample" in model[2] and "consensus" in model[2]
