"""The dashboard of span and box projects shows the kind's own panels (entities or boxes per label, agreement per
label, disagreement reasons, box sizes, IoU of matched boxes), each figure equal to the API's and to values
computed by hand on a tiny project after a real quality run; the class-label panels, which would read 0 or
"none yet" for such projects, are not shown."""

from __future__ import annotations

import base64
import csv
import io
import re
from html import unescape

import pytest
from PIL import Image

from annotation.models import Item, Role
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

# Span project: three annotators, five texts; a and b agree everywhere, c misses "Bob" (missed entity), calls
# "Paris" a person (type confusion) and marks only "York" of "New York" (boundary). The last two texts have no
# entity for anyone (so every pair shares five items, the runs' minimum for pair figures).
TEXTS = ["Ann met Bob in Oslo", "Kim flew to Paris today", "New York is big", "nothing here", "still nothing"]


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


SPANS_AB = [
    [_s(0, 3, "PER"), _s(8, 11, "PER"), _s(15, 19, "LOC")],
    [_s(0, 3, "PER"), _s(12, 17, "LOC")],
    [_s(0, 8, "LOC")],
    [],
    [],
]
SPANS_C = [
    [_s(0, 3, "PER"), _s(15, 19, "LOC")],
    [_s(0, 3, "PER"), _s(12, 17, "PER")],
    [_s(4, 8, "LOC")],
    [],
    [],
]

# Box project: five 200 x 150 images. img0: a cat, a and b identical 100 x 100, c 100 x 85 (IoU 0.85); img1: a
# 40 x 40 dog, b shifted 2 px (IoU 1520/1680), c 8 px (IoU with a 1280/1920, with b 1360/1840); img2: a small
# 20 x 20 cat by a and b, missed by c; img3, img4: nothing to box.
W, H = 200, 150


def _b(x, y, w, h, label):
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


BOXES = {
    "a": [[_b(10, 10, 100, 100, "cat")], [_b(50, 50, 40, 40, "dog")], [_b(5, 5, 20, 20, "cat")], [], []],
    "b": [[_b(10, 10, 100, 100, "cat")], [_b(52, 50, 40, 40, "dog")], [_b(5, 5, 20, 20, "cat")], [], []],
    "c": [[_b(10, 10, 100, 85, "cat")], [_b(58, 50, 40, 40, "dog")], [], [], []],
}
MATCHED_IOUS = {"cat": [1.0, 0.85, 0.85, 1.0], "dog": [1520 / 1680, 1280 / 1920, 1360 / 1840]}


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (W, H), (120, 160, 90)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def span_project(api):
    from ingress.services.bulk import item_bulk_create

    project = make_project(
        name="People and places",
        task_type="text_spans",
        labels=("PER", "LOC"),
        k=3,
        max_annotations_per_item=3,
    )
    result = item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    )
    assert not result.errors, result.errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    for source in (SPANS_AB, SPANS_AB, SPANS_C):
        user = add_member(project)
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    return project


def box_project(api):
    project = make_project(name="Pets", task_type="image_boxes", labels=("cat", "dog"), k=3)
    rows = [{"external_id": f"img-{i}", "file_b64": _png()} for i in range(5)]
    bulk = api(project.created_by).post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
    assert bulk.status_code in (200, 201), bulk.json()
    items = list(Item.objects.filter(project=project).order_by("id"))
    for name in ("a", "b", "c"):
        user = add_member(project)
        for item, boxes in zip(items, BOXES[name], strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "boxes": boxes}, format="json"
            )
            assert response.status_code == 201, response.json()
    return project


def run_quality(api, worker, project):
    from core.models import JobStatus
    from tests.conftest import wait_for_job

    reviewer = add_member(project, Role.REVIEWER)
    response = api(reviewer).post(f"/api/projects/{project.pk}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    report = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    panels = api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json()
    return reviewer, report, panels


def api_figures(panels: dict) -> dict[str, dict[str, dict[str, object]]]:
    """panel → figure column → row name → value, from the API."""
    out: dict = {}
    for panel in panels["panels"]:
        first = panel["columns"][0]
        out[panel["name"]] = {
            f["column"]: {row[first]: row[f["column"]] for row in panel["rows"]} for f in panel["figures"]
        }
    return out


def _text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def page_figures(html: str) -> dict[str, dict[str, dict[str, str]]]:
    """panel → figure column → bar label → the value written beside the bar, from the page."""
    out: dict = {}
    for name, body in re.findall(r'data-panel="([^"]+)">(.*?)(?=data-panel="|</section>)', html, re.S):
        panel = out.setdefault(name, {})
        for column, figure in re.findall(
            r'<div class="kind-figure" data-figure="([^"]+)">(.*?)</svg>', body, re.S
        ):
            rows = re.findall(
                r'<text class="axis-label"[^>]*>(.*?)</text>.*?<text class="value"[^>]*>(.*?)</text>',
                figure,
                re.S,
            )
            panel[column] = {_text(label): _text(value) for label, value in rows}
    return out


def page_readings(html: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(panel, figure column) → (the figure's name, what it says it counts), from the page."""
    readings = {}
    for name, body in re.findall(r'data-panel="([^"]+)">(.*?)(?=data-panel="|</section>)', html, re.S):
        for column, figure, counts in re.findall(
            r'data-figure="([^"]+)">\s*<p class="small figure-reading"><strong>(.*?)</strong>: '
            r'<span class="counts">(.*?)</span>',
            body,
            re.S,
        ):
            readings[(name, column)] = (_text(figure), _text(counts))
    return readings


def shown(value, fraction: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if fraction else f"{int(value):,}"


def assert_page_equals_api(html: str, panels: dict) -> None:
    page = page_figures(html)
    readings = page_readings(html)
    for panel in panels["panels"]:
        first = panel["columns"][0]
        for figure in panel["figures"]:
            expected = {row[first]: shown(row[figure["column"]], figure["fraction"]) for row in panel["rows"]}
            assert page[panel["name"]][figure["column"]] == expected, (panel["name"], figure["column"])
            # and says what it counts
            assert readings[(panel["name"], figure["column"])] == (figure["name"], figure["counts"])
            assert figure["counts"]


def assert_no_class_panels(html: str) -> None:
    assert "No consensus labels yet" not in html
    for panel in ("panel-labels", "panel-labels-by-annotator", "panel-confusion"):
        assert f'id="{panel}"' not in html


@pytest.mark.worker
def test_span_dashboard_shows_entities_agreement_and_reasons_equal_to_the_api_and_by_hand(
    client, api, worker
):
    # Given the five-text span project after a quality run by the real worker
    project = span_project(api)
    reviewer, report, panels = run_quality(api, worker, project)
    figures = api_figures(panels)
    # Then the API counts entities per label as computed by hand: the consensus is a's (= b's) spans
    entities = figures["entities_per_label"]
    assert entities["consensus_spans"] == {"PER": 3, "LOC": 3}
    # a and b: 3 PER, 3 LOC each; c: Ann, Kim, Paris as PER, Oslo and York as LOC
    assert entities["annotator_spans"] == {"PER": 9, "LOC": 8}
    # equal to the quality run's own counts
    for label in ("PER", "LOC"):
        assert entities["consensus_spans"][label] == report["per_label"][label]["n_consensus_spans"]
        assert entities["annotator_spans"][label] == report["per_label"][label]["n_spans"]
    # agreement per label: PER pairs (1, 2/3, 2/3) exact and partial; LOC exact (1, 2/5, 2/5), partial (1, 4/5, 4/5)
    agreement = figures["span_agreement_per_label"]
    assert agreement["span_f1"]["PER"] == pytest.approx(7 / 9)
    assert agreement["partial_span_f1"]["PER"] == pytest.approx(7 / 9)
    assert agreement["span_f1"]["LOC"] == pytest.approx(1.8 / 3)
    assert agreement["partial_span_f1"]["LOC"] == pytest.approx(2.6 / 3)
    for label in ("PER", "LOC"):
        assert agreement["span_f1"][label] == report["per_label"][label]["span_f1"]
        assert agreement["partial_span_f1"][label] == report["per_label"][label]["partial_span_f1"]
    # reasons: d2 boundary (York), d1 type (Paris), d0 missed (Bob), nothing spurious
    assert figures["span_disagreement"]["items"] == {
        "span boundaries differ": 1,
        "entity type differs": 1,
        "missed entity": 1,
        "spurious entity": 0,
    }
    # When the reviewer opens the dashboard
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    # Then every kind figure on it equals the API's and says what it counts, and no class panel reads 0
    assert_page_equals_api(html, panels)
    assert_no_class_panels(html)
    # and α and κ are said to be on tokens; the annotators' agreement is named a span F1
    assert "on tokens (quality run of" in html
    assert "span F1 vs consensus" in html
    # and the CSV of a panel holds the same numbers
    response = client.get(f"/projects/{project.pk}/dashboard/?csv=entities_per_label")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["label", "consensus_spans", "annotator_spans"], ["PER", "3", "9"], ["LOC", "3", "8"]]


@pytest.mark.worker
def test_box_dashboard_shows_boxes_sizes_agreement_and_iou_equal_to_the_api_and_by_hand(
    client, api, worker, media_roots
):
    # Given the five-image box project after a quality run by the real worker
    project = box_project(api)
    reviewer, report, panels = run_quality(api, worker, project)
    figures = api_figures(panels)
    # Then boxes per label: the consensus keeps the three clusters (two cats, a dog); drawn: 5 cats, 3 dogs
    assert figures["boxes_per_label"]["consensus_boxes"] == {"cat": 2, "dog": 1}
    assert figures["boxes_per_label"]["annotator_boxes"] == {"cat": 5, "dog": 3}
    for label in ("cat", "dog"):
        assert (
            figures["boxes_per_label"]["consensus_boxes"][label]
            == report["per_label"][label]["n_consensus_boxes"]
        )
        assert figures["boxes_per_label"]["annotator_boxes"][label] == report["per_label"][label]["n_boxes"]
    # sizes by COCO's areas: drawn 400, 400 (small); 1600 ×3 and c's 8500 (medium); 10000 ×2 (large); the
    # consensus has one of each (the fused cat is at least 100 x 94 = 9,400 px²)
    sizes = figures["box_sizes"]
    assert sizes["annotator_boxes"] == {
        "small (< 32² px)": 2,
        "medium (32² to 96² px)": 4,
        "large (≥ 96² px)": 2,
    }
    assert sizes["consensus_boxes"] == {
        "small (< 32² px)": 1,
        "medium (32² to 96² px)": 1,
        "large (≥ 96² px)": 1,
    }
    # agreement per label: cat pairs (1, 2/3, 2/3), dog (1, 1, 1); matched IoU means by hand
    agreement = figures["box_agreement_per_label"]
    assert agreement["mean_pairwise_box_f1"] == {"cat": pytest.approx(7 / 9), "dog": pytest.approx(1.0)}
    for label, ious in MATCHED_IOUS.items():
        assert agreement["mean_matched_iou"][label] == pytest.approx(sum(ious) / len(ious))
        assert agreement["mean_matched_iou"][label] == report["per_label"][label]["mean_matched_iou"]
        assert agreement["mean_pairwise_box_f1"][label] == report["per_label"][label]["mean_pairwise_box_f1"]
    # IoU histogram of the seven matched pairs: 0.667 | 0.739 | 0.85, 0.85 | 0.905, 1, 1
    assert figures["iou_histogram"]["matched_pairs"] == {
        "0.5–0.6": 0,
        "0.6–0.7": 1,
        "0.7–0.8": 1,
        "0.8–0.9": 2,
        "0.9–1.0 (incl.)": 3,
    }
    # When the reviewer opens the dashboard
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    # Then every kind figure equals the API's and says what it counts; no class panel, no α/κ headline
    assert_page_equals_api(html, panels)
    assert_no_class_panels(html)
    assert 'id="headline-alpha"' not in html
    assert "The latest quality run has no α or κ for this project" in html
    assert "box F1 vs consensus" in html


def test_class_project_api_has_no_kind_panels_and_keeps_its_label_panels(client, api):
    # Given a classification project
    project = make_project(task_type="text_classification", labels=("a", "b"))
    reviewer = add_member(project, Role.REVIEWER)
    # Then the API lists no kind panels and the page keeps the class panels
    body = api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json()
    assert body == {"kind": "classification", "quality_run": None, "computed_at": None, "panels": []}
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert 'id="panel-labels"' in html and 'id="kind-panels"' not in html


def test_span_dashboard_before_a_run_counts_annotators_spans_and_says_consensus_comes_with_a_run(client, api):
    # Given the span project labelled but never run
    project = span_project(api)
    reviewer = add_member(project, Role.REVIEWER)
    figures = api_figures(api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json())
    # Then the annotators' spans are counted, the consensus is missing (null), not 0
    assert figures["entities_per_label"]["annotator_spans"] == {"PER": 9, "LOC": 8}
    assert figures["entities_per_label"]["consensus_spans"] == {"PER": None, "LOC": None}
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert "Consensus spans appear after the first quality run." in html
    assert page_figures(html)["entities_per_label"]["consensus_spans"] == {"PER": "—", "LOC": "—"}


def test_a_large_span_projects_panels_are_reused_for_a_few_minutes_and_say_as_of_when(
    client, api, monkeypatch
):
    from django.core.cache import cache

    from quality.dashboard import selectors

    # Given the span project counted as large (its panels read every answer)
    cache.clear()
    monkeypatch.setattr(selectors, "LARGE_COUNT", 1)
    project = span_project(api)
    reviewer = add_member(project, Role.REVIEWER)
    first = api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json()
    assert first["computed_at"] is not None
    assert api_figures(first)["entities_per_label"]["annotator_spans"] == {"PER": 9, "LOC": 8}
    # When a new text arrives and an annotator marks two PER spans in it
    from ingress.services.bulk import item_bulk_create

    assert not item_bulk_create(project=project, rows=[{"external_id": "d5", "text": "Eve met Max"}]).errors
    item = Item.objects.get(project=project, external_id="d5")
    user = add_member(project)
    response = api(user).post(
        f"/api/projects/{project.pk}/annotations/",
        {"item": item.pk, "spans": [_s(0, 3, "PER"), _s(8, 11, "PER")]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    # Then the panels stay those of their time, and the page says as of when
    again = api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json()
    assert again == first
    client.force_login(reviewer)
    assert (
        "recomputed every few minutes on large projects"
        in client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    )
    # and once the stored panels expire they count the new spans
    cache.clear()
    fresh = api(reviewer).get(f"/api/projects/{project.pk}/dashboard/kind-panels/").json()
    assert api_figures(fresh)["entities_per_label"]["annotator_spans"] == {"PER": 11, "LOC": 8}
