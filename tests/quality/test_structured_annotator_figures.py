"""The Annotators table of span and box projects: the median lead time and the F1 vs others come from the stored
answers through the real worker, equal the API's and hand-computed values, and an empty cell says why."""

from __future__ import annotations

import re
from html import unescape

import pytest

from annotation.models import Item, Role
from tests.factories import add_member, make_project
from tests.quality.test_structured_kind_pages import _headline, _run_quality, _share, _table

pytestmark = [pytest.mark.django_db, pytest.mark.worker]

# Per annotator, lead_time_ms of its six answers (None: not measured).
LEADS = [
    [1000, 3000, 2000, 5000, None, 4000],  # known 1, 2, 3, 4, 5 s: median 3.0 s
    [2000, 2000, 8000, 6000, 1000, 3000],  # 1, 2, 2, 3, 6, 8 s: median (2 + 3) / 2 = 2.5 s
    [None] * 6,  # no time known
]


def _post(api, pid, user, item, body, lead):
    response = api(user).post(
        f"/api/projects/{pid}/annotations/",
        {"item": item.pk, **body, **({} if lead is None else {"lead_time_ms": lead})},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_span_annotators_median_lead_time_and_f1_vs_others(client, api, worker):
    from ingress.services.bulk import item_bulk_create
    from tests.spans.test_span_quality_worker import GOOD, TEXTS, THIRD

    # Given the six-text span project of the span quality test: two annotators agree exactly (pair F1 1), the
    # third agrees with each of them at exact-span F1 0.7; each posts its answers with known lead times
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    assert not item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    ).errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    users = []
    for source, leads in zip((GOOD, GOOD, THIRD), LEADS, strict=True):
        user = add_member(project)
        users.append(user.username)
        for item, spans, lead in zip(items, source, leads, strict=True):
            _post(api, project.pk, user, item, {"spans": spans}, lead)
    reviewer = add_member(project, Role.REVIEWER)
    # When a quality run finishes
    _, annotators = _run_quality(api, worker, project, reviewer)
    # Then the API's median lead times are the hand-computed medians (None where no time is known)
    assert [annotators[u]["median_lead_time_s"] for u in users] == [3.0, 2.5, None]
    # and F1 vs others is the mean of the annotator's pair F1s: (1 + 0.7) / 2, (1 + 0.7) / 2, (0.7 + 0.7) / 2
    others = [annotators[u]["agreement_with_others"] for u in users]
    assert others == pytest.approx([0.85, 0.85, 0.7])
    assert [annotators[u]["n_agreement_with_others"] for u in users] == [2, 2, 2]
    # and the page shows the same figures
    client.force_login(reviewer)
    _, rows = _table(
        client.get(f"/projects/{project.pk}/quality/").content.decode(), "annotators", "data-annotator"
    )
    assert [rows[u][3] for u in users] == [_share(v, 2) for v in (0.85, 0.85, 0.7)]
    assert [rows[u][6] for u in users] == ["3.0 s", "2.5 s", "—"]

    # HLP is one value everywhere: the API's shared hlp fields are the kind's F1 HLP vs consensus and gold
    report = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    kind_hlp = report["kind_figures"]["hlp_f1"]["consensus"]
    assert report["hlp"] == kind_hlp["f1"] is not None
    assert [report["hlp_ci_low"], report["hlp_ci_high"]] == kind_hlp["ci"]
    gold = report["kind_figures"]["hlp_f1"]["gold"]
    assert report["hlp_gold"] == (None if gold is None else gold["f1"])
    shown = f"{kind_hlp['f1']:.2f} ({kind_hlp['ci'][0]:.2f}–{kind_hlp['ci'][1]:.2f})"
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    assert (
        re.search(r'data-row="consensus"><th>HLP vs consensus \(F1\)</th><td class="num">([^<]*)<', html)[1]
        == shown
    )
    # the Per label table's HLP column is each label's HLP slice
    head, rows = _table(html, "per-label", "data-label")
    column = head.index("HLP vs consensus")
    for label, row in kind_hlp["per_label"].items():
        assert report["per_label"][label]["hlp"] == row["f1"]
        assert rows[label][column] == f"{row['f1']:.2f} ({row['ci'][0]:.2f}–{row['ci'][1]:.2f})"
    # the project overview shows the same value, named the span F1 HLP
    overview = client.get(f"/projects/{project.pk}/").content.decode()
    assert f"HLP <strong>{shown} (span F1 vs consensus)</strong>" in unescape(overview)
    # the dashboard draws HLP per label rather than saying the run has none
    dashboard = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert "no HLP or model figures per label" not in dashboard
    assert 'id="chart-hlp-label"' in dashboard
    # and no empty "Per guideline version" table: a note points to the HLP slices, which have the version row
    assert 'id="per-version"' not in html and 'id="per-version-note"' in html
    assert 'data-slice="version:1"' in html


def test_box_annotators_median_lead_time_and_empty_f1_vs_others_in_words(client, api, worker):
    from tests.kinds.box_fixtures import box_project_create, png_b64
    from tests.kinds.test_box_quality_api import HEIGHT, IGUANA, WIDTH

    # Given a box project of two images (fewer than the 5 shared images a pair figure needs), boxed by three
    # annotators with known lead times
    box = box_project_create(api, images=[png_b64(WIDTH, HEIGHT)] * 2)
    project = box.items[0].project
    users = []
    for leads in ([1000, 4000], [2000, None], [None, None]):
        user = add_member(project)
        users.append(user.username)
        for item, lead in zip(box.items, leads, strict=True):
            _post(api, box.pid, user, item, {"boxes": [IGUANA]}, lead)
    # When a quality run finishes
    _, annotators = _run_quality(api, worker, project, box.manager)
    # Then the median lead times are (1 + 4) / 2 s, 2 s and none
    assert [annotators[u]["median_lead_time_s"] for u in users] == [2.5, 2.0, None]
    assert all(annotators[u]["agreement_with_others"] is None for u in users)
    client.force_login(box.manager)
    _, rows = _table(
        client.get(f"/projects/{box.pid}/quality/").content.decode(), "annotators", "data-annotator"
    )
    assert [rows[u][6] for u in users] == ["2.5 s", "2.0 s", "—"]
    # and the empty F1 vs others says why, never "n/a · n = 0"
    for u in users:
        assert rows[u][3] == "— (shares 5 items with no other annotator yet)"
    # and the pair figures say no pair shares the minimum of images, never "over the 0 matched box pairs"
    html = client.get(f"/projects/{box.pid}/quality/").content.decode()
    headline = _headline(html)
    why = "no annotator pair shares 5 images yet (the minimum for pair figures)"
    assert headline["mean_matched_iou"][1:] == ("—", why)
    assert headline["n_box_pairs"][1:] == ("0", why)
    assert "over the 0 matched" not in html
    # while the dashboard's IoU histogram counts the 3 annotator pairs × 2 images = 6 matched pairs and says it
    # counts every pair, so the two cannot read as a contradiction
    panels = api(box.manager).get(f"/api/projects/{box.pid}/dashboard/kind-panels/").json()
    histogram = next(p for p in panels["panels"] if p["name"] == "iou_histogram")
    assert sum(row["matched_pairs"] for row in histogram["rows"]) == 6
    assert histogram["note"].startswith(
        "6 matched pairs in all, from every annotator pair however few images"
    )
