"""Pages of span and box projects say what their labels, reasons and figures are: the items list reads stored
spans and boxes in words and names the kinds' issue reasons; the quality page shows the kind's own figures
(equal to the API's) with what they count."""

from __future__ import annotations

import base64
import io
import re
from html import unescape

import pytest
from PIL import Image

from annotation.models import Item, Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


def _span(start, end, label, confidence=None):
    span = {"start": start, "end": end, "label": label}
    if confidence is not None:
        span["confidence"] = confidence
    return span


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 160, 90)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _row(html: str, item_id: int) -> str:
    match = re.search(rf'<tr data-item="{item_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for item {item_id}"
    return match.group(1)


def _cell(row: str, css_class: str) -> str:
    match = re.search(rf'<td class="{css_class}">(.*?)</td>', row, re.S)
    assert match, css_class
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _chips(row: str) -> list[str]:
    return [
        unescape(t)
        for t in re.findall(r'<span class="chip reason-chip" data-reason="[^"]+">([^<]*)</span>', row)
    ]


@pytest.fixture
def span_project():
    from ingress.services.bulk import item_bulk_create

    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    result = item_bulk_create(
        project=project,
        rows=[
            {"external_id": "d0", "text": "Ann and Bob live in Oslo"},
            {"external_id": "d1", "text": "nothing"},
        ],
    )
    assert not result.errors, result.errors
    return project, list(Item.objects.filter(project=project).order_by("id"))


def test_items_page_shows_span_labels_in_words_and_names_span_reasons(client, span_project):
    # Given a span item with three consensus spans (two PER, one LOC) and two span reasons, and one whose
    # reviewer settled on no entity
    project, (item, empty) = span_project
    Item.objects.filter(pk=item.pk).update(
        consensus_label=[_span(0, 3, "PER", 0.99), _span(8, 11, "PER", 0.9), _span(20, 24, "LOC", 0.6)],
        consensus_confidence=0.6,
        is_label_issue=True,
        issue_kinds=["missed_entity", "boundary_disagreement", "low_consensus_confidence"],
    )
    Item.objects.filter(pk=empty.pk).update(final_label=[], issue_kinds=["spurious_entity", "type_confusion"])
    client.force_login(add_member(project, Role.REVIEWER))
    # When the reviewer opens the items list
    html = client.get(f"/projects/{project.pk}/items/").content.decode()
    # Then labels read as spans with their labels, never as Python dicts
    assert "{&#x27;start&#x27;" not in html and "'start'" not in html
    assert _cell(_row(html, item.pk), "label-cell") == "3 spans (LOC, PER) (consensus)"
    assert _cell(_row(html, empty.pk), "label-cell") == "no entity"
    # and the reasons in words
    assert _chips(_row(html, item.pk)) == [
        "missed entity",
        "span boundaries differ",
        "low consensus confidence",
    ]
    assert _chips(_row(html, empty.pk)) == ["spurious entity", "entity type differs"]
    # and a span reason is a filter of the list
    filtered = client.get(f"/projects/{project.pk}/items/?issue_kind=missed_entity")
    assert filtered.status_code == 200
    assert re.findall(r'<tr data-item="(\d+)"', filtered.content.decode()) == [str(item.pk)]


def test_items_page_shows_box_labels_in_words_and_names_box_reasons(client, api):
    # Given a box project with one image whose consensus has two iguanas and a rock
    project = make_project(task_type="image_boxes", labels=("iguana", "rock"), k=3)
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/items/bulk/", [{"external_id": "img", "file_b64": _png()}], format="json"
    )
    assert response.status_code in (200, 201), response.json()
    item = Item.objects.get(project=project)
    Item.objects.filter(pk=item.pk).update(
        consensus_label=[
            {"x": 1, "y": 1, "w": 5, "h": 5, "label": "iguana", "confidence": 1.0},
            {"x": 9, "y": 1, "w": 5, "h": 5, "label": "iguana", "confidence": 0.7},
            {"x": 20, "y": 10, "w": 5, "h": 5, "label": "rock", "confidence": 0.5},
        ],
        issue_kinds=["missing_box", "extra_box", "loose_boundary", "class_confusion"],
    )
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/items/").content.decode()
    row = _row(html, item.pk)
    assert _cell(row, "label-cell") == "3 boxes (iguana ×2, rock) (consensus)"
    assert _chips(row) == ["missing box", "extra box", "loose box boundary", "box class differs"]


def _text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _headline(html: str) -> dict[str, tuple[str, str, str]]:
    table = re.search(r'<table class="table" id="headline">(.*?)</table>', html, re.S).group(1)
    rows = {}
    for key, body in re.findall(r'<tr data-metric="([^"]+)">(.*?)</tr>', table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        rows[key] = tuple(_text(c) for c in cells)
    return rows


def _table(html: str, table_id: str, row_attr: str) -> tuple[list[str], dict[str, list[str]]]:
    table = re.search(rf'<table class="table" id="{table_id}">(.*?)</table>', html, re.S).group(1)
    head = [_text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]
    body = table.split("</thead>")[1]
    rows = {
        key: [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for key, row in re.findall(rf'<tr {row_attr}="([^"]+)">(.*?)</tr>', body, re.S)
    }
    return head, rows


def _run_quality(api, worker, project, reviewer):
    from core.models import JobStatus
    from tests.conftest import wait_for_job

    response = api(reviewer).post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    report = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    annotators = api(reviewer).get(f"/api/projects/{project.pk}/annotators/").json()["results"]
    return report, {a["username"]: a for a in annotators}


def _share(value, n) -> str:
    return f"{100 * value:.1f}% · n = {n:,}"


@pytest.mark.worker
def test_box_quality_page_shows_box_figures_equal_to_the_api_and_no_alpha(client, api, worker):
    from tests.kinds.test_box_quality_api import ANSWERS, box_project

    # Given the six-image box project of the box quality test, boxed by three annotators, and a quality run
    pid, manager, items = box_project(api)
    project = items[0].project
    for answers in ANSWERS.values():
        user = add_member(project)
        for item, boxes in zip(items, answers, strict=True):
            response = api(user).post(
                f"/api/projects/{pid}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
            )
            assert response.status_code == 201, response.json()
    report, annotators = _run_quality(api, worker, project, manager)
    # When the manager opens the quality page
    client.force_login(manager)
    html = client.get(f"/projects/{pid}/quality/").content.decode()
    # Then the headline names the box figures and what they count, equal to the API's and to the hand-computed
    # mean pair F1 (1 + 8/11 + 8/11) / 3 = 9/11 and matched IoU 13.5 / 14
    headline = _headline(html)
    name, text, reading = headline["mean_pairwise_box_f1"]
    assert name == "Mean pairwise box F1 (IoU ≥ 0.5)"
    assert text == f"{report['mean_pairwise_box_f1']:.3f}" == "0.818"
    assert f"sharing ≥ {report['cohen_min_overlap']} images" in reading
    name, text, reading = headline["mean_matched_iou"]
    assert name == "Mean matched IoU"
    assert text == f"{report['mean_matched_iou']:.3f}" == f"{13.5 / 14:.3f}"
    assert reading == f"over the {report['n_matched_boxes']} matched box pairs"
    assert headline["n_boxes"][1] == str(report["n_boxes"])
    assert headline["n_consensus_boxes"][1] == str(report["n_consensus_boxes"])
    # and no α/κ row claims too little overlap: boxes compute none
    assert not {"alpha", "fleiss", "cohen", "percent"} & set(headline)
    assert "too little overlap" not in html
    assert headline["issues"][1] == str(report["n_issues"])
    # Per label: the box figures, never a literal None
    head, rows = _table(html, "per-label", "data-label")
    assert head[:5] == ["Label", "Box F1 (IoU ≥ 0.5)", "Mean matched IoU", "Boxes", "Consensus boxes"]
    assert "α (one-vs-rest)" not in head
    for label, row in report["per_label"].items():
        f1, matched = row["mean_pairwise_box_f1"], row["mean_matched_iou"]
        assert rows[label][1:5] == [
            "—" if f1 is None else f"{f1:.3f}",
            "—" if matched is None else f"{matched:.3f}",
            str(row["n_boxes"]),
            str(row["n_consensus_boxes"]),
        ]
        assert "None" not in rows[label]
    # Annotators: their agreement is named a box F1 and equals the API's
    head, rows = _table(html, "annotators", "data-annotator")
    assert head[2:5] == ["box F1 vs consensus", "box F1 vs others", "box F1 vs gold"]
    assert set(rows) == set(annotators)
    for username, a in annotators.items():
        assert rows[username][1] == str(a["n_annotations"])
        assert rows[username][2] == _share(a["agreement_with_consensus"], a["n_agreement_with_consensus"])
        assert rows[username][3] == _share(a["agreement_with_others"], a["n_agreement_with_others"])


@pytest.mark.worker
def test_span_quality_page_shows_span_figures_equal_to_the_api_and_alpha_on_tokens(client, api, worker):
    from ingress.services.bulk import item_bulk_create
    from tests.spans.test_span_quality_worker import GOOD, TEXTS, THIRD

    # Given the six-text span project of the span quality test, labelled by three annotators, and a quality run
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    )
    assert not result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    for source in (GOOD, GOOD, THIRD):
        user = add_member(project)
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER)
    report, annotators = _run_quality(api, worker, project, reviewer)
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    # Then the headline's span F1s name what they count and equal the API's (exact: (1 + 0.7 + 0.7) / 3)
    headline = _headline(html)
    name, text, reading = headline["mean_pairwise_span_f1"]
    assert name == "Mean pairwise span F1"
    assert text == f"{report['mean_pairwise_span_f1']:.3f}" == "0.800"
    assert reading == (
        f"spans match on exact start, end and label; annotator pairs sharing ≥ {report['cohen_min_overlap']} items"
    )
    assert headline["mean_pairwise_partial_span_f1"][1] == f"{report['mean_pairwise_partial_span_f1']:.3f}"
    assert headline["n_tokens"][1] == str(report["n_tokens"])
    # and α and κ are said to be on tokens, with the API's values
    assert headline["alpha"][0] == "Krippendorff's α (on tokens)"
    # with the token α's interval, which the API's shared α interval fields now carry too
    low, high = report["token_krippendorff_alpha_ci"]
    assert (report["krippendorff_alpha_ci_low"], report["krippendorff_alpha_ci_high"]) == (low, high)
    assert headline["alpha"][1] == f"{report['token_krippendorff_alpha']:.3f} [{low:.3f}, {high:.3f}]"
    # and the token κ and percent agreement, which have no interval, leave theirs null
    assert report["fleiss_kappa_ci_low"] is None and report["percent_agreement_ci_low"] is None
    assert headline["fleiss"][0] == "Fleiss' κ (on tokens)"
    assert headline["fleiss"][1] == f"{report['token_fleiss_kappa']:.3f}"
    assert headline["cohen"][1] == f"{report['token_mean_pairwise_cohen_kappa']:.3f}"
    # Per label: span F1s and counts, never None
    head, rows = _table(html, "per-label", "data-label")
    assert head[:6] == [
        "Label",
        "Span F1",
        "Partial span F1",
        "Spans",
        "Consensus spans",
        "α (one-vs-rest, on tokens)",
    ]
    for label, row in report["per_label"].items():
        assert rows[label][1:5] == [
            f"{row['span_f1']:.3f}",
            f"{row['partial_span_f1']:.3f}",
            str(row["n_spans"]),
            str(row["n_consensus_spans"]),
        ]
        assert rows[label][5] == f"{row['token_krippendorff_alpha']:.2f}"
    assert rows["PER"][1] == f"{(1 + 2 * 10 / 13) / 3:.3f}"
    # Annotators: span F1 against the consensus, equal to the API's
    head, rows = _table(html, "annotators", "data-annotator")
    assert head[2] == "span F1 vs consensus"
    for username, a in annotators.items():
        assert rows[username][2] == _share(a["agreement_with_consensus"], a["n_agreement_with_consensus"])


def test_dashboard_counts_items_by_the_span_reasons_in_words(client, span_project):
    import csv
    import io as _io

    from core.jobs import job_create
    from quality.job_kinds import QUALITY_JOB
    from quality.models import QualityReport

    # Given a span project after a quality run whose first item was missed an entity by someone
    project, (item, other) = span_project
    Item.objects.filter(pk=item.pk).update(issue_kinds=["missed_entity", "boundary_disagreement"])
    Item.objects.filter(pk=other.pk).update(issue_kinds=["missed_entity"])
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={})
    QualityReport.objects.create(
        project=project, job=job, consensus_method="span", n_items=2, n_annotations=6, n_annotators=3
    )
    client.force_login(project.created_by)
    # When the manager downloads the "items by review reason" chart
    response = client.get(f"/projects/{project.pk}/dashboard/?csv=issue_kinds")
    rows = {row[0]: row[1:] for row in csv.reader(_io.StringIO(response.content.decode()))}
    # Then the span reasons are rows in words, counted
    assert rows["missed entity"][0] == "2"
    assert rows["span boundaries differ"][0] == "1"
    assert rows["spurious entity"][0] == "0"
    # and the page links each to the items carrying it
    assert "issue_kind=missed_entity" in client.get(f"/projects/{project.pk}/dashboard/").content.decode()
