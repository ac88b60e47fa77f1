"""A span item's review page on a 390 px phone, with what a real flagged item carries (long model spans with
six-decimal confidences, several annotators): the page does not scroll sideways, and the Annotations table says
each answer in the compact span words ("PER 0–7") instead of wrapping a field list one word per line."""

import pytest

from annotation.models import Item, Role
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in
from tests.quality.test_review_spans_browser import ANSWERS, TEXT

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WIDEST = """() => {
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 0.5 && r.width > 0) out.push(el.tagName + '#' + el.id + '.' + el.className + ' ' + Math.round(r.right));
    }
    return out.slice(0, 12);
}"""


def test_span_review_item_fits_a_390_px_phone(page, api, worker, artifacts_dir):
    # Given a span project whose one text three annotators tagged, a quality run by the real worker, and a token
    # model's flag on the item with its long spans
    project = make_project(
        task_type="text_spans",
        labels=("PER", "LOC"),
        k=3,
        max_annotations_per_item=3,
        consensus_method="majority_vote",
    )
    pid = project.pk
    assert not item_bulk_create(project=project, rows=[{"external_id": "d0", "text": TEXT}]).errors
    item = Item.objects.get(project=project)
    for name, spans in ANSWERS.items():
        user = add_member(project, user=UserFactory(username=name))
        response = api(user).post(
            f"/api/projects/{pid}/annotations/", {"item": item.pk, "spans": spans}, format="json"
        )
        assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER, user=UserFactory(username="rhea"))
    response = api(reviewer).post(f"/api/projects/{pid}/quality-runs/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    model_spans = [
        {"start": 0, "end": 7, "label": "LOC", "confidence": 0.999999},
        {"start": 17, "end": 30, "label": "LOC", "confidence": 0.999912},
        {"start": 31, "end": 34, "label": "PER", "confidence": 0.871234},
    ]
    Item.objects.filter(pk=item.pk).update(
        flag_model="token model v1", flag_model_label=model_spans, issue_kinds=["model_disagrees"]
    )

    # When the reviewer opens the item's review page on a 390 px screen
    log_in(page, reviewer.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/projects/{pid}/review/items/{item.pk}/")
    page.locator("#annotations").wait_for()
    page.screenshot(path=str(artifacts_dir / "review_spans_item_390.png"), full_page=True)

    # Then the page does not scroll sideways
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 390, (width, page.evaluate(WIDEST))
    # and each annotator's answer is said in compact span words, one line per span at most
    cells = {
        name: page.locator(f"#annotations tr:has(td:text-is('{name}')) td").nth(1).inner_text()
        for name in ANSWERS
    }
    assert cells == {
        "ann": "PER 0–7; LOC 17–30",
        "bob": "PER 0–7; LOC 17–25",
        "cy": "LOC 0–7; LOC 17–30; PER 31–34",
    }
    # and the table scrolls inside its card rather than past it
    edges = page.evaluate(
        """() => { const t = document.querySelector('#annotations'); const c = t.closest('.card');
                   return {card: c.getBoundingClientRect().right, viewport: window.innerWidth}; }"""
    )
    assert edges["card"] <= edges["viewport"], edges
