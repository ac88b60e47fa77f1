"""The whole span loop in headless Chromium on the real worker: a manager creates a span project with the form and
imports a JSONL of texts from the upload form; three annotators tag every text by keyboard only (the caret moves
by token, Shift extends, a label key tags, "n" answers "No entities"); the manager runs the quality check from its
page, accepts a disputed text on its review page, freezes a version and downloads its CoNLL export.

Expected figures are hand-computed from the answers written below and checked again with seqeval and krippendorff
on the token encoding; the CoNLL file is read with conllu and seqeval against hand-written tags."""

import io
import json
import re
import subprocess
import zipfile

import pytest

from annotation.models import Annotation, Item, ItemStatus
from tests.conftest import wait_until_worker_idle
from tests.datasets.test_exports import _require_hf_python
from tests.e2e import loop_steps as steps
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LABELS = ("PER", "LOC")
HOTKEYS = {"PER": "1", "LOC": "2"}
TEXTS = {
    "d0": "Ann Lee lives in Oslo",
    "d1": "Bob went to Rome today",
    "d2": "Carl met Dora",
    "d3": "Eve and Finn",
    "d4": "nothing to see here",
    "d5": "Gus lives in Hull",
}
# Each annotator's answer per text as (first token, last token, label); None is "No entities". ben stretches
# Rome over "today" (a boundary disagreement); cleo calls Dora a place (type) and misses Finn.
ANNA = {
    "d0": [(0, 1, "PER"), (4, 4, "LOC")],
    "d1": [(0, 0, "PER"), (3, 3, "LOC")],
    "d2": [(0, 0, "PER"), (2, 2, "PER")],
    "d3": [(0, 0, "PER"), (2, 2, "PER")],
    "d4": None,
    "d5": [(0, 0, "PER"), (3, 3, "LOC")],
}
ANSWERS = {
    "anna": ANNA,
    "ben": {**ANNA, "d1": [(0, 0, "PER"), (3, 4, "LOC")]},
    "cleo": {**ANNA, "d2": [(0, 0, "PER"), (2, 2, "LOC")], "d3": [(0, 0, "PER")]},
}
# Exact-span F1 per pair, pooled over the six texts: anna 10 spans, ben 10, cleo 9.
# anna–ben: 9 equal spans (all but Rome) → 18/20; anna–cleo: 8 → 16/19; ben–cleo: 7 → 14/19.
EXACT_F1 = (18 / 20 + 16 / 19 + 14 / 19) / 3
# Partial F1 (same label, overlapping): anna–ben 10 → 20/20; anna–cleo 8 → 16/19; ben–cleo 8 → 16/19.
PARTIAL_F1 = (20 / 20 + 16 / 19 + 16 / 19) / 3
# The disputed text the manager accepts with its consensus (two of three call Dora a person).
REVIEWED = "d2"
# The CoNLL tags the frozen version holds: the majority's spans on every text.
TAGS = {
    "d0": ["B-PER", "I-PER", "O", "O", "B-LOC"],
    "d1": ["B-PER", "O", "O", "B-LOC", "O"],
    "d2": ["B-PER", "O", "B-PER"],
    "d3": ["B-PER", "O", "B-PER"],
    "d4": ["O", "O", "O", "O"],
    "d5": ["B-PER", "O", "O", "B-LOC"],
}


# Reads every split of the Hugging Face zip's layout with ``datasets`` (in its own interpreter, as the export tests
# do): the tag names in order and each row's tokens and tag ids.
HF_SCRIPT = """
import json, sys
import datasets
d = sys.argv[1]
loaded = datasets.load_dataset(d, cache_dir=d + "/cache")
rows, names = {}, None
for split in loaded.values():
    names = split.features["ner_tags"].feature.names
    rows.update({r["external_id"]: [r["tokens"], r["ner_tags"]] for r in split})
print(json.dumps({"names": names, "rows": rows}))
"""


def char_spans(text: str, answer) -> list[dict]:
    """The character offsets (end exclusive) of an answer given in tokens (``\\S+``)."""
    tokens = [m.span() for m in re.finditer(r"\S+", text)]
    return [{"start": tokens[a][0], "end": tokens[b][1], "label": label} for a, b, label in answer or []]


def bio(text: str, answer) -> list[str]:
    tags = ["O"] * len(text.split())
    for a, b, label in answer or []:
        tags[a] = f"B-{label}"
        for t in range(a + 1, b + 1):
            tags[t] = f"I-{label}"
    return tags


def test_the_hand_written_answers_and_tags_say_what_the_comments_say():
    assert [TEXTS["d0"][s["start"] : s["end"]] for s in char_spans(TEXTS["d0"], ANNA["d0"])] == [
        "Ann Lee",
        "Oslo",
    ]
    assert [TEXTS["d1"][s["start"] : s["end"]] for s in char_spans(TEXTS["d1"], ANSWERS["ben"]["d1"])] == [
        "Bob",
        "Rome today",
    ]
    assert {doc: bio(TEXTS[doc], ANNA[doc]) for doc in TEXTS} == TAGS


def tag_by_keyboard(page, answer) -> None:
    """Tags an answer's spans (sorted by token) with the caret: → moves to the next token (the first → selects
    token 0), Shift+→ extends the selection, the label key tags it; "n" is "No entities"."""
    from playwright.sync_api import expect

    listed = page.locator("#spans-list li")
    if answer is None:
        page.keyboard.press("n")
        expect(page.locator("#spans-none")).to_have_attribute("aria-pressed", "true")
        return
    caret = -1
    for n, (first, last, label) in enumerate(answer, start=1):
        for _ in range(first - caret):
            page.keyboard.press("ArrowRight")
        for _ in range(last - first):
            page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press(HOTKEYS[label])
        expect(listed).to_have_count(n)
        caret = last


def test_a_span_project_runs_the_whole_loop_by_keyboard_in_the_browser(
    browser, live_server, worker, api, tmp_path
):
    import conllu
    import krippendorff
    import numpy as np
    from playwright.sync_api import expect
    from seqeval.metrics import f1_score

    manager = UserFactory(username="maya", project_creator=True)
    for name in ANSWERS:
        UserFactory(username=name)
    context, page = steps.open_page(browser, live_server, manager.username)
    try:
        # Given a span project created with the form (k=3, capped at 3), its three annotators added with the
        # members form, and six texts imported from a JSONL file with the upload form
        pid = steps.create_project(
            page,
            name="People and places",
            task_type="text_spans",
            labels="\n".join(f"{label} | {HOTKEYS[label]}" for label in LABELS),
            k=3,
        )
        steps.set_max_annotations(page, pid, 3)
        for name in ANSWERS:
            steps.add_member(page, pid, name)
        jsonl = "".join(json.dumps({"external_id": doc, "text": text}) + "\n" for doc, text in TEXTS.items())
        figures = steps.import_file(
            page, pid, name="texts.jsonl", mime="application/x-ndjson", data=jsonl.encode()
        )
        # Then the page's report says all six rows were imported
        assert figures == {"Rows": 6, "Created": 6, "Duplicates": 0, "Errors": 0}
    finally:
        context.close()
    ids = dict(Item.objects.filter(project_id=pid).values_list("external_id", "pk"))
    assert set(ids) == set(TEXTS)
    doc_of_text = {text: doc for doc, text in TEXTS.items()}

    # When each annotator tags every text by keyboard, in whatever order the queue serves them
    for name, answers in ANSWERS.items():
        context, page = steps.open_page(browser, live_server, name)
        try:
            steps.open_labelling(page, pid)
            shown = page.locator("#spans-text")
            for done in range(len(TEXTS)):
                expect(shown).to_be_visible()
                text = shown.text_content()
                tag_by_keyboard(page, answers[doc_of_text[text]])
                page.keyboard.press("Enter")
                if done < len(TEXTS) - 1:
                    expect(shown).not_to_have_text(text)
            expect(page.locator("#empty-state")).to_be_visible()
        finally:
            context.close()
    # Then the server stored each answer at the hand-computed character offsets
    stored = {
        (user, doc): spans
        for user, doc, spans in Annotation.objects.filter(project_id=pid, is_live=True).values_list(
            "annotator__username", "item__external_id", "labels"
        )
    }
    assert stored == {
        (name, doc): char_spans(TEXTS[doc], answer)
        for name, answers in ANSWERS.items()
        for doc, answer in answers.items()
    }
    wait_until_worker_idle(120)

    context, page = steps.open_page(browser, live_server, manager.username)
    try:
        # When the manager runs the quality check from its page
        steps.run_quality(page, pid)
        report = api(manager).get(f"/api/projects/{pid}/quality/").json()
        # Then the mean exact-span F1 is the hand-computed one, and seqeval's on the BIO encoding
        docs = list(TEXTS)
        encoded = {name: [bio(TEXTS[d], answers[d]) for d in docs] for name, answers in ANSWERS.items()}
        names = list(ANSWERS)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        seqeval_mean = sum(f1_score(encoded[a], encoded[b]) for a, b in pairs) / len(pairs)
        assert seqeval_mean == pytest.approx(EXACT_F1, abs=1e-12)
        assert report["mean_pairwise_span_f1"] == pytest.approx(EXACT_F1, abs=1e-6)
        assert report["mean_pairwise_partial_span_f1"] == pytest.approx(PARTIAL_F1, abs=1e-6)
        # and token α is krippendorff's on the token encoding (value: the label covering the token, else O)
        values = {"O": 0, "PER": 1, "LOC": 2}
        reliability = np.array(
            [[values[tag.split("-")[-1]] for doc in encoded[name] for tag in doc] for name in names],
            dtype=float,
        )
        alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        assert report["token_krippendorff_alpha"] == pytest.approx(alpha, abs=1e-6)
        assert report["n_tokens"] == reliability.shape[1] == 24
        # and the page shows the API's figures
        assert steps.headline_text(page, "mean_pairwise_span_f1") == f"{report['mean_pairwise_span_f1']:.3f}"
        assert steps.headline_text(page, "mean_pairwise_span_f1") == f"{EXACT_F1:.3f}"
        assert steps.headline_text(page, "mean_pairwise_partial_span_f1") == f"{PARTIAL_F1:.3f}"
        assert steps.headline_text(page, "n_tokens") == "24"
        # and the disputed text carries its reason
        assert "type_confusion" in Item.objects.get(pk=ids[REVIEWED]).issue_kinds

        # When the manager accepts the disputed text on its review page
        steps.accept_on_review_page(page, pid, ids[REVIEWED])
        # Then it is accepted with the majority's spans
        item = Item.objects.get(pk=ids[REVIEWED])
        assert item.status == ItemStatus.ACCEPTED
        assert item.final_label == char_spans(TEXTS[REVIEWED], ANNA[REVIEWED])

        # When they freeze a version from the datasets page and download its CoNLL export
        wait_until_worker_idle(120)
        steps.freeze_version(page, pid)
        expect(page.locator("#n-entries")).to_have_text(str(len(TEXTS)))
        conll = steps.download(page, "conll").decode()
        hf_zip = steps.download(page, "zip", link="Hugging Face layout")
    finally:
        context.close()

    # Then conllu reads every text with its tokens, and its tags are the hand-written ones
    sentences = conllu.parse(conll, fields=("form", "tag"))
    by_doc = {s.metadata["external_id"]: s for s in sentences}
    assert set(by_doc) == set(TEXTS)
    for doc, text in TEXTS.items():
        assert [t["form"] for t in by_doc[doc]] == text.split()
    exported = {doc: [t["tag"] for t in by_doc[doc]] for doc in TEXTS}
    assert exported == TAGS
    # and seqeval scores the export against those tags as a perfect match
    assert f1_score([TAGS[d] for d in docs], [exported[d] for d in docs]) == 1.0

    # and Hugging Face datasets reads the zip as tokens and ner_tags, tag names in label order
    python = _require_hf_python()
    zipfile.ZipFile(io.BytesIO(hf_zip)).extractall(tmp_path)
    result = subprocess.run(
        [python, "-I", "-c", HF_SCRIPT, str(tmp_path)], capture_output=True, text=True, cwd="/", timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert loaded["names"] == names
    assert loaded["rows"] == {
        doc: [text.split(), [names.index(tag) for tag in TAGS[doc]]] for doc, text in TEXTS.items()
    }
