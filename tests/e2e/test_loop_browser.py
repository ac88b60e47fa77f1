"""The whole loop in headless Chromium on the real worker: annotators label, a manager runs the quality check from
its page, reviews in the queue, freezes a version and downloads it; "Train now" on the model page; an import
from the upload form.

Every page is read against figures computed by hand from the votes entered here (or by an independent library)
and against the API's figures for the same things. Each job is started from its page while the worker is held,
so the page is seen in its waiting state; the worker is then released and the test waits, on page state with a
deadline, for the same document to show the result (a marker set on the page proves it was never reloaded).
"""

import csv
import io
import re
from collections import Counter
from contextlib import contextmanager

import pytest
from django.conf import settings

from annotation.models import Annotation, Item, ItemStatus, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from tests.conftest import queue_held, wait_until_worker_idle
from tests.factories import PASSWORD, UserFactory, add_items, add_member, make_project

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A generous bound for one job on a loaded 2-core machine; the test moves on as soon as the page shows the result.
JOB_DEADLINE_MS = 240_000

ANNOTATORS = ("anna", "ben", "cleo")
# Votes of anna, ben and cleo on items t0..t8 (add_items gives item t<i> the text "text number <i>").
# Three unanimous items, three 2-to-1 items (each annotator in the minority once) and three three-way splits
# (each annotator gives each label once), so every label gets 9 of the 27 votes.
VOTES = {
    "t0": ("pos", "pos", "pos"),
    "t1": ("neg", "neg", "neg"),
    "t2": ("neutral", "neutral", "neutral"),
    "t3": ("pos", "pos", "neg"),
    "t4": ("neg", "neutral", "neg"),
    "t5": ("pos", "neutral", "neutral"),
    "t6": ("pos", "neg", "neutral"),
    "t7": ("neg", "neutral", "pos"),
    "t8": ("neutral", "pos", "neg"),
}
UNANIMOUS = {"t0": "pos", "t1": "neg", "t2": "neutral"}
MAJORITY = {"t3": "pos", "t4": "neg", "t5": "neutral"}
SPLIT = ("t6", "t7", "t8")
# Hand-computed agreement: pairs of annotators agreeing are 3 per unanimous item, 1 per 2-to-1 item, 0 per split:
# (3*3 + 3*1) / (9 items * 3 pairs) = 12/27. Fleiss' kappa: mean item agreement P = (3*1 + 3*(1/3) + 0) / 9 = 4/9,
# chance agreement Pe = 3 * (1/3)^2 = 1/3 (every label has 9 of 27 votes), kappa = (4/9 - 1/3) / (1 - 1/3) = 1/6.
PERCENT_AGREEMENT = 12 / 27
FLEISS_KAPPA = 1 / 6
# The reviewer's decisions on the three splits: accept t6 as "neg", send t7 back for relabelling, discard t8.
ACCEPT_AS = ("t6", "neg")
RELABEL = "t7"
DISCARD = ("t8", "too ambiguous to call")
# What a default freeze then holds: the unanimous and majority items with their votes' label, and t6 as decided;
# t7 (back with annotators) and t8 (discarded) are left out.
EXPORTED = {**UNANIMOUS, **MAJORITY, ACCEPT_AS[0]: ACCEPT_AS[1]}


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def open_page(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, username)
    return context, page


@contextmanager
def worker_held():
    """The real worker stops taking tasks from the queue until the block ends (tasks wait in the broker), so a
    page can be seen while its job is still queued."""
    with queue_held(settings.LABELGATE_JOBS_QUEUE):
        yield


def worker_drained(deadline_seconds: float = 120.0) -> None:
    """Wait until both workers have nothing queued, scheduled, prefetched or running (conftest's one idle check,
    which covers the jobs and the per-item queues): the per-item passes that votes schedule have then all run."""
    wait_until_worker_idle(deadline_seconds)


@pytest.fixture(autouse=True)
def _drained_before_teardown(worker):
    """Tasks the test's last steps enqueued finish before the database is emptied under them."""
    yield
    worker_drained()


def mark_document(page) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded to show the result"


def shot(page, artifacts_dir, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"loop_{name}.png"), full_page=True)


def leading_number(text: str) -> float:
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
    assert match, f"no number at the start of {text!r}"
    return float(match.group(1))


def parse_votes(cell: str) -> Counter:
    """The queue's votes cell, "pos ×2, neg ×1", as a Counter."""
    votes = Counter()
    for part in cell.replace("\xa0", " ").split(","):
        label, n = part.strip().rsplit("×", 1)
        votes[label.strip()] = int(n)
    return votes


def table_by_header(table) -> list[dict[str, str]]:
    """The rows of an HTML table (not of tables nested in it) as dicts keyed by its header texts."""
    return table.evaluate(
        """(table) => {
            const heads = Array.from(table.tHead.rows[0].cells).map((cell) => cell.textContent.trim());
            return Array.from(table.tBodies[0].rows)
                .filter((row) => row.cells.length === heads.length)
                .map((row) => Object.fromEntries(Array.from(row.cells).map((cell, i) => [heads[i], cell.textContent.trim()])));
        }"""
    )


def test_the_labelling_loop_in_the_browser_on_the_real_worker(
    browser, live_server, worker, api, artifacts_dir
):
    import krippendorff
    import numpy as np
    from playwright.sync_api import expect

    # Given a project (k=3, three labels) with nine items, three annotators, and its manager
    manager = UserFactory(username="maya")
    project = make_project(manager=manager, name="Loop", k=3)
    add_items(project, len(VOTES))
    annotators = [add_member(project, Role.ANNOTATOR, user=UserFactory(username=name)) for name in ANNOTATORS]
    hotkeys = dict(project.labels.values_list("value", "hotkey"))
    item_of_text = {f"text number {i}": f"t{i}" for i in range(len(VOTES))}
    ids = dict(Item.objects.filter(project=project).values_list("external_id", "pk"))
    manager_api = api(manager)

    # When each annotator labels every item on the labelling page by hotkey, in whatever order the queue serves
    for position, annotator in enumerate(annotators):
        context, page = open_page(browser, live_server, annotator.username)
        try:
            page.goto(f"/projects/{project.pk}/label/")
            progress = page.locator("#progress")
            for done in range(len(VOTES)):
                shown = page.locator("#item-view .item-text")
                expect(shown).to_be_visible()
                external_id = item_of_text[shown.inner_text().strip()]
                label = VOTES[external_id][position]
                page.keyboard.press(hotkeys[label])
                expect(page.locator(".label-btn.selected")).to_have_count(1)
                expect(page.locator(f".label-btn[data-value='{label}']")).to_have_class(
                    re.compile(r"\bselected\b")
                )
                if position == 0 and done == 0:
                    shot(page, artifacts_dir, "01_annotator_labels")
                page.keyboard.press("Enter")
                expect(progress).to_contain_text(f"{done + 1} done")
            # Then the page says nothing is left for them, and the counter agrees
            expect(page.locator("#empty-state")).to_be_visible()
            expect(progress).to_have_text(f"{len(VOTES)} done, 0 left for you")
        finally:
            context.close()
    # Then the server stored exactly the votes entered
    stored = Counter(
        (external_id, labels[0])
        for external_id, labels in Annotation.objects.filter(project=project, is_live=True).values_list(
            "item__external_id", "labels"
        )
    )
    assert stored == Counter((eid, label) for eid, votes in VOTES.items() for label in votes)
    # The per-item consensus tasks the last votes enqueued have run before the manager looks
    worker_drained()
    # and, with nothing left for any annotator, no item is left waiting for another vote
    for annotator in annotators:
        assert api(annotator).get(f"/api/projects/{project.pk}/next/").status_code == 204, annotator.username
    waiting = Item.objects.filter(project=project, status__in=(ItemStatus.NEW, ItemStatus.IN_PROGRESS))
    assert not waiting.exists(), list(waiting.values_list("external_id", "status"))

    context, page = open_page(browser, live_server, manager.username)
    try:
        # Before any quality run the quality page shows no quality figures
        page.goto(f"/projects/{project.pk}/quality/")
        expect(page.locator("#no-report")).to_be_visible()
        expect(page.locator("#headline")).to_have_count(0)

        # When the manager starts the quality check from the page
        with worker_held():
            page.click("#run-quality")
            expect(page.locator(".messages")).to_contain_text("Quality check started")
            expect(page.locator("#job-status")).to_have_attribute("data-status", "queued")
            expect(page.locator("#run-quality")).to_be_disabled()
            mark_document(page)
            shot(page, artifacts_dir, "02_quality_queued")
        # Then the same page shows the finished report once the worker has run it
        expect(page.locator("#job-status")).to_have_attribute(
            "data-status", "succeeded", timeout=JOB_DEADLINE_MS
        )
        expect(page.locator("#headline")).to_be_visible()
        assert_not_reloaded(page)
        shot(page, artifacts_dir, "03_quality_report")
        report = manager_api.get(f"/api/projects/{project.pk}/quality/").json()
        # and its figures are the hand-computed ones, and the API's
        main_text = page.locator("main").inner_text()
        assert "9 items · 27 annotations · 3 annotators" in main_text
        assert (report["n_items"], report["n_annotations"], report["n_annotators"]) == (9, 27, 3)
        reliability = np.array(
            [[["pos", "neg", "neutral"].index(VOTES[f"t{i}"][a]) for i in range(9)] for a in range(3)]
        )
        alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        assert report["krippendorff_alpha"] == pytest.approx(alpha, abs=1e-9)
        assert report["fleiss_kappa"] == pytest.approx(FLEISS_KAPPA, abs=1e-9)
        assert report["percent_agreement"] == pytest.approx(PERCENT_AGREEMENT, abs=1e-9)
        headline = page.locator("#headline")
        assert leading_number(headline.locator("tr[data-metric='alpha'] td.num").inner_text()) == round(
            alpha, 3
        )
        assert leading_number(headline.locator("tr[data-metric='fleiss'] td.num").inner_text()) == round(
            FLEISS_KAPPA, 3
        )
        assert (
            headline.locator("tr[data-metric='percent'] td.num")
            .inner_text()
            .startswith(f"{100 * PERCENT_AGREEMENT:.1f}%")
        )

        queue_api = manager_api.get(f"/api/projects/{project.pk}/review-queue/", {"page_size": 100}).json()
        # and its issue, routed and queue figures are the API's
        expect(page.locator("#run-issues")).to_have_text(str(report["n_issues"]))
        expect(page.locator("#run-routed")).to_have_text(str(report["n_routed_to_review"]))
        expect(page.locator("#review-queue-now")).to_have_text(str(queue_api["count"]))

        # When the manager opens the review queue
        page.goto(f"/projects/{project.pk}/review/")
        in_queue = {row["external_id"]: row for row in queue_api["results"]}
        # Then it holds the three-way splits and nothing that was unanimous, and agrees with the API
        assert set(SPLIT) <= set(in_queue) <= set(SPLIT) | set(MAJORITY), sorted(in_queue)
        expect(page.locator("#queue-total")).to_have_text(str(queue_api["count"]))
        assert queue_api["count"] == len(in_queue)
        # The report's "routed to review" figure is the queue's
        assert report["n_routed_to_review"] == queue_api["count"], (
            report["n_routed_to_review"],
            queue_api["count"],
        )
        shot(page, artifacts_dir, "04_review_queue")
        rows = page.locator("#queue-table tbody tr")
        assert {int(r.get_attribute("data-item")) for r in rows.all()} == {ids[e] for e in in_queue}
        for external_id in in_queue:
            row = page.locator(f"#queue-table tbody tr[data-item='{ids[external_id]}']")
            cells = row.locator("td").all_inner_texts()
            # each row shows the votes entered, and a 2-to-1 item's consensus is its majority
            assert parse_votes(cells[3]) == Counter(VOTES[external_id]), (external_id, cells[3])
            if external_id in MAJORITY:
                assert cells[4].split()[0] == MAJORITY[external_id], (external_id, cells[4])
                assert in_queue[external_id]["consensus_label"] == MAJORITY[external_id]
            consensus = cells[4].split()[0]
            assert consensus == "—" or consensus in VOTES[external_id], (external_id, cells[4])

        # When the manager decides on the queue items one by one on their review pages
        def open_item(external_id: str):
            page.goto(f"/projects/{project.pk}/review/items/{ids[external_id]}/")
            expect(page.locator("#item-status")).to_be_visible()

        def moved_on(external_id: str):
            page.wait_for_url(lambda url: f"/review/items/{ids[external_id]}/" not in url)

        def accept_as(external_id: str, label: str):
            open_item(external_id)
            page.keyboard.press(hotkeys[label])
            expect(page.locator(f".label-btn[data-value='{label}']")).to_have_class(
                re.compile(r"\bselected\b")
            )
            page.keyboard.press("Enter")
            moved_on(external_id)

        open_item(ACCEPT_AS[0])
        expect(page.locator("#annotations tbody tr")).to_have_count(3)
        shot(page, artifacts_dir, "05_review_item")
        accept_as(*ACCEPT_AS)
        # (a relabel needs an annotator who has not seen the item: all three have, so its page refuses it until
        # a fourth joins)
        open_item(RELABEL)
        expect(page.locator("#relabel-btn")).to_be_disabled()
        add_member(project, Role.ANNOTATOR, user=UserFactory(username="dana"))
        open_item(RELABEL)
        expect(page.locator("#relabel-takers")).to_have_text("1")
        page.keyboard.press("r")
        expect(page.locator("#reason-dialog")).to_be_visible()
        page.keyboard.press("Enter")
        moved_on(RELABEL)
        open_item(DISCARD[0])
        page.keyboard.press("d")
        expect(page.locator("#reason-dialog")).to_be_visible()
        page.fill("#reason-input", DISCARD[1])
        page.keyboard.press("Enter")
        moved_on(DISCARD[0])
        # (2-to-1 items in the queue are accepted as their majority)
        for external_id in sorted(set(in_queue) & set(MAJORITY)):
            accept_as(external_id, MAJORITY[external_id])

        # Then the queue is empty and the status counts are the decisions', as in the API
        page.goto(f"/projects/{project.pk}/review/")
        expect(page.locator("#queue-empty")).to_be_visible()
        n_majority_reviewed = len(set(in_queue) & set(MAJORITY))
        expected_counts = {
            "accepted": 1 + n_majority_reviewed,
            "discarded": 1,
            "in_progress": 1,
            "labelled": len(UNANIMOUS) + len(MAJORITY) - n_majority_reviewed,
            "needs_review": 0,
            "new": 0,
        }
        api_counts = manager_api.get(f"/api/projects/{project.pk}/").json()["counts"]
        for status, n in expected_counts.items():
            expect(page.locator(f"#status-counts td[data-status='{status}']")).to_have_text(str(n))
            assert api_counts[status] == n, (status, api_counts)
        shot(page, artifacts_dir, "06_review_done")
        final = dict(Item.objects.filter(project=project).values_list("external_id", "status"))
        assert final[ACCEPT_AS[0]] == ItemStatus.ACCEPTED
        assert final[RELABEL] == ItemStatus.IN_PROGRESS
        assert final[DISCARD[0]] == ItemStatus.DISCARDED

        # When the manager freezes a version with the default policy from the datasets page
        page.goto(f"/projects/{project.pk}/datasets/")
        expect(page.locator("#no-versions")).to_be_visible()
        # Then the preview counts the items a default freeze takes
        expect(page.locator("#policy-preview strong").first).to_have_text(str(len(EXPORTED)))
        with worker_held():
            page.click("#freeze")
            expect(page.locator("#freeze-jobs tr[data-job]").first).to_have_attribute("data-status", "queued")
            mark_document(page)
            shot(page, artifacts_dir, "07_freeze_queued")
        # And the same page lists version 1 once the worker has frozen it
        version_row = page.locator("#versions tr[data-version='1']")
        expect(version_row).to_be_visible(timeout=JOB_DEADLINE_MS)
        assert_not_reloaded(page)
        expect(page.locator("#freeze-jobs tr[data-job]").first).to_have_attribute("data-status", "succeeded")
        shot(page, artifacts_dir, "08_versions")
        versions = manager_api.get(f"/api/projects/{project.pk}/dataset-versions/").json()
        versions = versions.get("results", versions) if isinstance(versions, dict) else versions
        assert [v["n_entries"] for v in versions] == [len(EXPORTED)]
        version = versions[0]
        assert version_row.locator("td").nth(3).inner_text().strip() == str(len(EXPORTED))

        # When they open the version and download its CSV export
        version_row.locator("a").first.click()
        page.wait_for_url(f"**/datasets/{version['id']}/")
        expect(page.locator("#n-entries")).to_have_text(str(len(EXPORTED)))
        shot(page, artifacts_dir, "09_version")
        csv_row = page.locator("#downloads tr", has=page.locator("th", has_text=re.compile(r"^csv$")))
        with page.expect_download() as download_info:
            csv_row.locator("a", has_text="all").click()
        download = download_info.value
        download.save_as(artifacts_dir / "loop_export.csv")
        content = (artifacts_dir / "loop_export.csv").read_bytes()
    finally:
        context.close()

    # Then the file holds exactly the labelled and decided items with their labels
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert {row["external_id"]: row["label"] for row in rows} == EXPORTED
    assert len(rows) == len(EXPORTED)
    # its splits are the version's, and it is byte for byte what the API serves
    assert Counter(row["split"] for row in rows) == {k: v for k, v in version["split_counts"].items() if v}
    api_export = manager_api.get(f"/api/dataset-versions/{version['id']}/export/", {"format": "csv"})
    assert api_export.status_code == 200
    assert b"".join(api_export.streaming_content) == content


def test_train_now_finishes_on_the_worker_and_the_model_page_updates_itself(
    browser, live_server, worker, api, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a project (k=1) with twelve items labelled by one annotator, six of each label, and no model yet
    manager = UserFactory(username="mo")
    project = make_project(manager=manager, name="Train", labels=("pos", "neg"), k=1)
    add_items(project, 12)
    annotator = add_member(project, Role.ANNOTATOR)
    for item in Item.objects.filter(project=project).order_by("id"):
        label = "pos" if int(item.external_id[1:]) % 2 == 0 else "neg"
        annotation_submit(
            project=project, user=annotator, data=AnnotationInput(item_id=item.pk, labels=[label])
        )
    worker_drained()
    # (each item's consensus is its one vote once the per-item tasks have run: the labels a model trains on)
    consensus = dict(Item.objects.filter(project=project).values_list("external_id", "consensus_label"))
    assert consensus == {f"t{i}": "pos" if i % 2 == 0 else "neg" for i in range(12)}
    context, page = open_page(browser, live_server, manager.username)
    try:
        page.goto(f"/projects/{project.pk}/model/")
        expect(page.locator("#no-model")).to_be_visible()
        # When the manager picks a strategy and presses "Train now"
        page.select_option("#strategy", "entropy")
        with worker_held():
            page.click("#train-now")
            # Then the page says a job is waiting and offers no second start
            running = page.locator("#train-running")
            expect(running).to_have_attribute("data-status", "queued")
            expect(page.locator("#train-now")).to_be_disabled()
            expect(page.locator("#strategy")).to_have_value("entropy")
            mark_document(page)
            shot(page, artifacts_dir, "10_train_queued")
        # And without a reload the same page shows the new model once the worker has trained it
        expect(page.locator("#cv-accuracy")).to_be_visible(timeout=JOB_DEADLINE_MS)
        assert_not_reloaded(page)
        expect(page.locator("#train-running")).to_have_count(0)
        expect(page.locator("#no-model")).to_have_count(0)
        expect(page.locator("#train-now")).to_be_enabled()
        shot(page, artifacts_dir, "11_model")
        # with the API's model: version 1, trained on the twelve labels with the chosen strategy
        model = api(manager).get(f"/api/projects/{project.pk}/model/").json()
        assert (model["version"], model["n_train"], model["strategy"]) == (1, 12, "entropy")
        expect(page.locator("#model-strategy")).to_have_text("entropy")
        expect(page.locator("main")).to_contain_text("Model v1 ")
        expect(page.locator("#cv-accuracy")).to_have_text(f"{100 * model['cv_accuracy']:.1f} %")
        expect(page.locator("main")).to_contain_text(f"on {model['n_train']} labels")
    finally:
        context.close()


def test_an_import_from_the_upload_form_finishes_with_its_report_on_the_page(
    browser, live_server, worker, api, artifacts_dir
):
    from playwright.sync_api import expect

    # Given a project holding t0 and t1, and a CSV of six rows: three new, one id the project has (t0), one row
    # with three fields (line 5) and one id repeated from line 2 (line 6)
    manager = UserFactory(username="ines")
    project = make_project(manager=manager, name="Imports")
    add_items(project, 2)
    data = (
        b"external_id,text\n"
        b"n1,the first new row\n"
        b"n2,the second new row\n"
        b"t0,an id the project already has\n"
        b"n3,one field,too many\n"
        b"n1,the same id again in this file\n"
        b"n4,the fourth new row\n"
    )
    context, page = open_page(browser, live_server, manager.username)
    try:
        page.goto(f"/projects/{project.pk}/batches/")
        # When the manager uploads it through the form on the batches page
        with worker_held():
            page.set_input_files(
                "#import-form input[type=file]",
                files=[{"name": "rows.csv", "mimeType": "text/csv", "buffer": data}],
            )
            page.click("#import-form button[type=submit]")
            expect(page.locator(".messages")).to_contain_text("rows.csv")
            job_row = page.locator("#import-jobs tbody tr[data-job]", has_text="rows.csv")
            expect(job_row).to_have_attribute("data-status", "queued")
            job_id = job_row.get_attribute("data-job")
            mark_document(page)
            shot(page, artifacts_dir, "12_import_queued")
        # Then the same page shows the finished import once the worker has run it
        job_row = page.locator(f"#import-jobs tbody tr[data-job='{job_id}']")
        expect(job_row).not_to_have_attribute(
            "data-status", re.compile(r"^(queued|running)$"), timeout=JOB_DEADLINE_MS
        )
        assert_not_reloaded(page)
        # with rows = created + duplicates + errors as counted by hand, as the API reports them (the status flips
        # before the refreshed table arrives, so wait for the row's counts themselves)
        table = page.locator("#import-jobs")
        rows_column = table.locator("thead th").all_inner_texts().index("Rows")
        expect(job_row.locator("td").nth(rows_column)).to_have_text(
            re.compile(r"^\s*\d+\s*$"), timeout=JOB_DEADLINE_MS
        )
        shown = next(row for row in table_by_header(table) if row["File"] == "rows.csv")
        figures = {name: int(shown[name]) for name in ("Rows", "Created", "Duplicates", "Errors")}
        assert figures == {"Rows": 6, "Created": 3, "Duplicates": 1, "Errors": 2}
        listed = api(manager).get(f"/api/projects/{project.pk}/imports/").json()
        listed = listed.get("results", listed) if isinstance(listed, dict) else listed
        listed_job = next(job for job in listed if str(job["id"]) == job_id)
        assert {name: listed_job["result"][name.lower()] for name in figures} == figures
        # and the page and the API agree that it finished with row errors (two rows were not imported)
        assert listed_job["outcome"] == "completed_with_errors"
        expect(job_row).to_have_attribute("data-outcome", listed_job["outcome"])
        # and its row report lists the two bad lines
        page.locator("#import-jobs details summary").first.click()
        report = page.locator("#import-jobs table.report").first
        expect(report).to_be_visible()
        lines = [int(line) for line in report.locator("tbody tr td:first-child").all_inner_texts()]
        assert sorted(lines) == [5, 6]
        shot(page, artifacts_dir, "13_import_report")
    finally:
        context.close()
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {
        "t0",
        "t1",
        "n1",
        "n2",
        "n4",
    }
