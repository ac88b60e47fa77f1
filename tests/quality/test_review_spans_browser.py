"""Reviewing a span item in headless Chromium with the live server and the real worker: after a quality run the
reviewer sees the consensus and each annotator's spans aligned over the same text, with what differs said in
words beside them; they open the editor on a copy of the consensus, change one boundary by keyboard, accept, and
the API shows exactly the spans they left (offsets counted by hand)."""

import pytest

from annotation.models import Item, ItemStatus, Role
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.conftest import wait_for_job
from tests.factories import UserFactory, add_member, make_project
from tests.quality.test_review_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Tokens and their offsets: Ann 0-3, Lee 4-7, lives 8-13, in 14-16, New 17-20, York 21-25, City 26-30, now 31-34
TEXT = "Ann Lee lives in New York City now"


def _s(start, end, label):
    return {"start": start, "end": end, "label": label}


# ann agrees with what the majority says; bob ends the place after "York"; cy calls Ann Lee a place and tags "now".
ANSWERS = {
    "ann": [_s(0, 7, "PER"), _s(17, 30, "LOC")],
    "bob": [_s(0, 7, "PER"), _s(17, 25, "LOC")],
    "cy": [_s(0, 7, "LOC"), _s(17, 30, "LOC"), _s(31, 34, "PER")],
}
# Token by token, two of three annotators agree on PER for Ann and Lee, LOC for New, York and City, and O for now.
CONSENSUS = [_s(0, 7, "PER"), _s(17, 30, "LOC")]
# The reviewer's answer: the consensus with the place ending after "York" (New 17 to York's end 25).
EDITED = [_s(0, 7, "PER"), _s(17, 25, "LOC")]


def test_reviewer_sees_each_annotators_spans_edits_a_boundary_and_accepts(page, api, worker, artifacts_dir):
    from playwright.sync_api import expect

    # Given a span project whose one text three annotators tagged, and a quality run by the real worker
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
    detail = api(reviewer).get(f"/api/projects/{pid}/items/{item.pk}/").json()
    assert [{k: s[k] for k in ("start", "end", "label")} for s in detail["consensus_spans"]] == CONSENSUS
    keys = dict(project.labels.values_list("value", "hotkey"))

    # When the reviewer opens the item's review page
    log_in(page, reviewer.username)
    page.goto(f"/projects/{pid}/review/items/{item.pk}/")

    # Then there are no class buttons, but a consensus row and one row per annotator with their spans
    expect(page.locator("#span-review")).to_be_visible()
    expect(page.locator(".label-btn:visible")).to_have_count(0)
    expect(page.locator(".span-row[data-row='consensus']")).to_have_attribute("data-spans", "2")
    annotator_rows = page.locator(".span-row[data-row='annotator']")
    expect(annotator_rows).to_have_count(3)
    for name, spans in ANSWERS.items():
        row = page.locator(f".span-row[data-annotator='{name}']")
        expect(row).to_have_attribute("data-spans", str(len(spans)))
        # each span's first piece starts at the span's offset and carries its label
        for span in spans:
            expect(row.locator(f".seg.ent[data-start='{span['start']}']")).to_contain_text(
                TEXT[span["start"] : span["start"] + 1]
            )
    # and what differs from the consensus is said in words beside the span it concerns
    ann = page.locator(".span-row[data-annotator='ann'] .span-row-notes")
    expect(ann).to_contain_text("same as the consensus")
    bob = page.locator(".span-row[data-annotator='bob'] .span-note")
    expect(bob).to_have_count(1)
    expect(bob).to_have_attribute("data-reason", "boundary_disagreement")
    expect(bob).to_contain_text("span boundaries differ")
    expect(bob).to_contain_text("“New York” 17–25")
    expect(bob).to_contain_text("(consensus LOC 17–30)")
    cy = page.locator(".span-row[data-annotator='cy'] .span-note")
    expect(cy).to_have_count(2)
    expect(cy.nth(0)).to_contain_text("entity type differs")
    expect(cy.nth(0)).to_contain_text("“Ann Lee” 0–7")
    expect(cy.nth(1)).to_contain_text("spurious entity")
    expect(cy.nth(1)).to_contain_text("“now” 31–34")
    # and the rows are aligned: "New" (offset 17) starts at the same place in every row
    xs = [
        page.locator(f".span-row[data-row='{kind}'] .seg[data-start='17']").first.bounding_box()
        for kind in ("consensus", "annotator")
    ] + [
        page.locator(f".span-row[data-annotator='{n}'] .seg[data-start='17']").bounding_box() for n in ANSWERS
    ]
    assert max(b["x"] for b in xs) - min(b["x"] for b in xs) < 1
    assert max(b["y"] for b in xs[2:]) > min(b["y"] for b in xs[2:])  # (on separate rows)
    # and the confidence is explained as the span consensus computes it, not as a class method
    expect(page.locator("#confidence-meaning")).to_contain_text("least certain token")
    page.screenshot(path=str(artifacts_dir / "review_spans_item.png"), full_page=True)

    # When they open the editor (m): it holds the consensus spans
    page.keyboard.press("m")
    expect(page.locator("#review-edit")).to_be_visible()
    listed = page.locator("#spans-list li")
    expect(listed).to_have_count(2)
    expect(listed.nth(1)).to_have_attribute("data-end", "30")
    # and select "New York" by keyboard (Home: "Ann", → four times: "New", Shift+→: "York") and tag it LOC,
    # which replaces the overlapping LOC span "New York City"
    page.keyboard.press("Home")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press(keys["LOC"])
    expect(listed).to_have_count(2)
    expect(listed.nth(1)).to_have_attribute("data-end", "25")
    page.screenshot(path=str(artifacts_dir / "review_spans_edit.png"), full_page=True)
    # and accept with Enter
    with page.expect_response(lambda r: r.url.endswith("/reviews/") and r.request.method == "POST") as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201, sent.value.json()
    assert sent.value.request.post_data_json["spans"] == EDITED

    # Then the API shows the item accepted with exactly the reviewer's spans
    detail = api(reviewer).get(f"/api/projects/{pid}/items/{item.pk}/").json()
    assert detail["item"]["status"] == ItemStatus.ACCEPTED
    assert detail["item"]["final_label"] == EDITED
    assert detail["decisions"][-1]["action"] == "accept"
