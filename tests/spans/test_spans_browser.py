"""Labelling spans in headless Chromium with the live server and the real worker: an annotator tags one document
by keyboard (token caret, Shift to extend, a label key), one by mouse selection (snapped to whole tokens), answers
"No entities" on a third, and tags a 5,000-character document; the offsets stored through the API are the
hand-computed character offsets of the words tagged. Waits are Playwright expectations, never sleeps."""

import pytest

from annotation.models import Item, Role
from ingress.services.bulk import item_bulk_create
from tests.annotation.test_browser_annotate import log_in
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEYBOARD = "Ada Lovelace met Charles Babbage in London"
MOUSE = "Grace Hopper worked at Harvard University in Cambridge"
NONE = "nothing to see here at all"
# A long document: 125 sentences of 40 characters; the entity is the last word of sentence 100.
SENTENCE = "the quick brown fox jumps over the Tyne "
LONG = SENTENCE * 125

# Hand-counted offsets (end exclusive) of the words each document's answer tags.
KEYBOARD_SPANS = [
    {"start": 0, "end": 12, "label": "PER"},  # Ada Lovelace
    {"start": 17, "end": 32, "label": "PER"},  # Charles Babbage
    {"start": 36, "end": 42, "label": "LOC"},  # London
]
MOUSE_SPANS = [
    {"start": 0, "end": 12, "label": "PER"},  # Grace Hopper
    {"start": 23, "end": 41, "label": "LOC"},  # Harvard University
]
LONG_SPANS = [{"start": 35, "end": 39, "label": "LOC"}]  # the first "Tyne"


def test_the_hand_computed_offsets_are_the_words():
    assert [KEYBOARD[s["start"] : s["end"]] for s in KEYBOARD_SPANS] == [
        "Ada Lovelace",
        "Charles Babbage",
        "London",
    ]
    assert [MOUSE[s["start"] : s["end"]] for s in MOUSE_SPANS] == ["Grace Hopper", "Harvard University"]
    assert LONG[35:39] == "Tyne" and len(LONG) == 5000


def drag(page, first_token: int, last_token: int) -> None:
    """Select with the mouse from inside token ``first_token`` to inside token ``last_token`` (never at their
    edges, so the span comes from snapping)."""
    tokens = page.locator("#spans-text .unit.tok")
    a = tokens.nth(first_token).bounding_box()
    b = tokens.nth(last_token).bounding_box()
    page.mouse.move(a["x"] + a["width"] * 0.4, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.6, b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()


def test_an_annotator_tags_spans_by_keyboard_and_mouse_and_the_api_stores_their_offsets(page, api, worker):
    from playwright.sync_api import expect

    # Given a span project (k=1) with four documents and an annotator on its labelling page
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=1, name="People and places")
    rows = [
        {"external_id": name, "text": text}
        for name, text in [("keyboard", KEYBOARD), ("mouse", MOUSE), ("none", NONE), ("long", LONG)]
    ]
    assert not item_bulk_create(project=project, rows=rows).errors
    annotator = add_member(project, Role.ANNOTATOR)
    keys = dict(project.labels.values_list("value", "hotkey"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#spans-text")
    listed = page.locator("#spans-list li")

    seen = []
    for _ in range(4):
        expect(shown).to_be_visible()
        text = shown.text_content()
        seen.append(text)
        if text == KEYBOARD:
            # When they tag by keyboard: → selects "Ada", Shift+→ extends to "Lovelace", the PER key tags it
            page.keyboard.press("ArrowRight")
            page.keyboard.press("Shift+ArrowRight")
            page.keyboard.press(keys["PER"])
            expect(listed).to_have_count(1)
            # "met" → "Charles", Shift+→ "Babbage", PER; then "in" → "London", LOC
            for key in [
                "ArrowRight",
                "ArrowRight",
                "Shift+ArrowRight",
                keys["PER"],
                "ArrowRight",
                "ArrowRight",
            ]:
                page.keyboard.press(key)
            page.keyboard.press(keys["LOC"])
            expect(listed).to_have_count(3)
        elif text == MOUSE:
            # When they drag from inside "Grace" to inside "Hopper" and press PER
            drag(page, 0, 1)
            page.keyboard.press(keys["PER"])
            # And drag over "Harvard University" and click the LOC button
            drag(page, 4, 5)
            page.locator(".span-label-btn[data-value=LOC]").click()
            expect(listed).to_have_count(2)
            # And tag "Harvard" PER as well: a different label may overlap, both stay visible (two underlines)
            drag(page, 4, 4)
            page.keyboard.press(keys["PER"])
            expect(listed).to_have_count(3)
            harvard = page.locator("#spans-text .unit.tok").nth(4).locator(".seg")
            assert harvard.evaluate("el => el.style.boxShadow.split('inset').length - 1") == 2
            # Then a click picks the shortest span under it (PER Harvard) and a second click removes it
            harvard.click()
            expect(page.locator("#spans-text .seg.picked")).to_have_count(1)
            harvard.click()
            expect(listed).to_have_count(2)
        elif text == NONE:
            # Enter without an answer is refused; "No entities" is the explicit answer
            page.keyboard.press("Enter")
            expect(page.locator("#status-line")).to_contain_text("No entities")
            page.keyboard.press("n")
            expect(page.locator("#spans-none")).to_have_attribute("aria-pressed", "true")
        else:
            assert text == LONG
            # The first "Tyne" is token 7: eight → presses select it
            for _ in range(8):
                page.keyboard.press("ArrowRight")
            page.keyboard.press(keys["LOC"])
            expect(listed).to_have_count(1)
            timings = page.evaluate("performance.getEntriesByName('span-tag').map((e) => e.duration)")
            print(f"span-tag on a {len(LONG)}-character document: {timings[-1]:.1f} ms")
        page.keyboard.press("Enter")
        if len(seen) < 4:
            expect(shown).not_to_have_text(text)
    expect(page.locator("#empty-state")).to_be_visible()
    assert sorted(seen) == sorted([KEYBOARD, MOUSE, NONE, LONG])

    # Then the API shows each document's spans at the hand-computed offsets, and [] for "No entities"
    recent = api(annotator).get(f"/api/projects/{project.pk}/my-recent/").json()
    by_item = {row["item"]["external_id"]: row["spans"] for row in recent}
    assert by_item == {"keyboard": KEYBOARD_SPANS, "mouse": MOUSE_SPANS, "none": [], "long": LONG_SPANS}
    manager = project.memberships.get(role="manager").user
    item = Item.objects.get(project=project, external_id="mouse")
    detail = api(manager).get(f"/api/projects/{project.pk}/items/{item.pk}/").json()
    assert [a["spans"] for a in detail["annotations"]] == [MOUSE_SPANS]


def drag_chars(page, token: int, first: int, last: int) -> None:
    """Select with the mouse from before character ``first`` to after character ``last`` of token ``token``
    (positions measured in the page from a DOM range over the token's text)."""
    box = page.evaluate(
        """([token, first, last]) => {
            const text = document.querySelectorAll('#spans-text .unit.tok')[token].querySelector('.seg').firstChild;
            const r = document.createRange();
            r.setStart(text, first); r.setEnd(text, first + 1);
            const a = r.getBoundingClientRect();
            r.setStart(text, last); r.setEnd(text, last + 1);
            const b = r.getBoundingClientRect();
            return {ax: a.left + 1, ay: a.top + a.height / 2, bx: b.right - 1, by: b.top + b.height / 2};
        }""",
        [token, first, last],
    )
    page.mouse.move(box["ax"], box["ay"])
    page.mouse.down()
    page.mouse.move(box["bx"], box["by"], steps=5)
    page.mouse.up()


def test_character_level_selection_relabel_and_going_back_to_an_earlier_answer(page, api, worker):
    from playwright.sync_api import expect

    # Given a span project that labels characters (no snapping to tokens) with two documents
    project = make_project(
        task_type="text_spans", labels=("PER", "LOC"), k=1, name="Characters", span_snap_tokens=False
    )
    rows = [{"external_id": "one", "text": KEYBOARD}, {"external_id": "two", "text": MOUSE}]
    assert not item_bulk_create(project=project, rows=rows).errors
    annotator = add_member(project, Role.ANNOTATOR)
    keys = dict(project.labels.values_list("value", "hotkey"))
    log_in(page, annotator.username)
    page.goto(f"/projects/{project.pk}/label/")
    shown = page.locator("#spans-text")
    listed = page.locator("#spans-list li")
    expect(shown).to_be_visible()
    first_text = shown.text_content()
    # When they select characters 1-3 of the first word ("da" of "Ada", "ra" of "Grace") with the mouse and
    # press PER: the span is those characters, not the word
    drag_chars(page, 0, 1, 2)
    page.keyboard.press(keys["PER"])
    expect(listed).to_have_count(1)
    # And click the span and press LOC: it is relabelled, not duplicated
    page.locator("#spans-text .seg.ent").first.click()
    expect(page.locator("#spans-text .seg.picked")).to_have_count(1)
    page.keyboard.press(keys["LOC"])
    expect(listed).to_have_count(1)
    expect(listed.first).to_have_attribute("data-label", "LOC")
    page.keyboard.press("Enter")
    expect(shown).not_to_have_text(first_text)
    # When they go back, their spans are shown again; Delete on a picked span removes it, and Enter saves the change
    page.keyboard.press("Backspace")
    expect(shown).to_have_text(first_text)
    expect(listed).to_have_count(1)
    page.locator("#spans-text .seg.ent").first.click()
    page.keyboard.press("Delete")
    expect(listed).to_have_count(0)
    page.keyboard.press("n")
    page.keyboard.press("Enter")
    expect(page.locator("#status-line")).to_have_text("Change saved.")

    # Then the first answer stored characters 1-3 as LOC, and the change superseded it with "no entities"
    external_id = "one" if first_text == KEYBOARD else "two"
    item = Item.objects.get(project=project, external_id=external_id)
    votes = list(item.annotations.order_by("id").values_list("labels", "is_live"))
    assert votes == [([{"start": 1, "end": 3, "label": "LOC"}], False), ([], True)]
