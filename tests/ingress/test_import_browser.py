"""Imports from the upload form in headless Chromium, run by the real worker: a file that cannot be read shows
"failed" with its reason, a file with row errors shows "succeeded with errors" and its per-row report, on the
batches page (which updates itself when the job ends) and on the import's own page."""

import re

import pytest

from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A bound for one small import on a loaded 2-core machine; the test moves on as soon as the page shows it.
JOB_DEADLINE_MS = 120_000


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def report_rows(report):
    """[line, field, reason] of each row of a row-report table, as shown."""
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in report.locator("tr[data-line]").all()
    ]


def test_uploads_show_failed_with_the_reason_and_succeeded_with_errors_with_the_report(
    page, worker, artifacts_dir
):
    from playwright.sync_api import expect

    manager = UserFactory(username="uma")
    project = make_project(manager=manager, name="Uploads")
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/batches/")

    # When a CSV without a text column is uploaded from the form
    page.set_input_files(
        "#import-form input[type=file]",
        files=[{"name": "wrong.csv", "mimeType": "text/csv", "buffer": b"external_id,body\nx1,hello\n"}],
    )
    page.click("#import-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Import of “wrong.csv” started")
    # Then, once the worker has run it, the same page shows it failed, and why, in words
    failed = page.locator("#import-jobs tbody tr[data-job]", has_text="wrong.csv")
    expect(failed).to_have_attribute("data-status", "failed", timeout=JOB_DEADLINE_MS)
    expect(failed.locator("[data-job-field=status]")).to_have_text("failed")
    job_id = failed.get_attribute("data-job")
    expect(page.locator(f"#import-jobs tr[data-failure='{job_id}']")).to_have_text(
        "The import failed: The CSV has no 'text' column. Columns found: external_id, body."
    )
    # And no batch was left behind
    expect(page.locator("#batches")).to_contain_text("No batches yet.")
    page.screenshot(path=str(artifacts_dir / "import_failed.png"), full_page=True)

    # When a CSV with a quote never closed (line 3), an unknown gold label (line 5) and a row with one field too
    # many (line 6) is uploaded
    mixed_csv = (
        b'external_id,text,gold_label\nm1,first,pos\nm2,"never closed,neg\nm3,third,neg\nm4,fourth,maybe\n'
        b"m5,too,many,fields\n"
    )
    page.set_input_files(
        "#import-form input[type=file]",
        files=[{"name": "mixed.csv", "mimeType": "text/csv", "buffer": mixed_csv}],
    )
    page.click("#import-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Import of “mixed.csv” started")
    # Then the page shows it succeeded with errors, not plain success
    mixed = page.locator("#import-jobs tbody tr[data-job]", has_text="mixed.csv")
    expect(mixed).to_have_attribute("data-status", "succeeded", timeout=JOB_DEADLINE_MS)
    expect(mixed.locator("[data-job-field=status]")).to_have_text("succeeded with errors")
    # and the flash no longer says the page updates while it runs
    expect(page.locator(".messages")).to_have_text("Import of “mixed.csv” started and has ended.")
    # with 5 rows = 2 created + 0 duplicates + 3 errors
    cells = [text.strip() for text in mixed.locator("td.num").all_inner_texts()[:4]]
    assert cells == ["5", "2", "0", "3"]
    # and the row report names the three bad lines, each with the column at fault or "row" when it is the
    # row as a whole, never an internal name
    page.locator("#import-jobs details summary").first.click()
    report = page.locator("#import-jobs table.report").first
    expect(report.locator("tr[data-line]")).to_have_count(3)
    shown = report_rows(report)
    assert [row[:2] for row in shown] == [["3", "row"], ["5", "gold_label"], ["6", "row"]]
    assert shown[0][2].startswith("unterminated quote") and shown[1][2].startswith(
        "Unknown gold label 'maybe'"
    )
    assert shown[2][2] == "expected 3 fields, got 4"
    expect(page.locator("#import-jobs")).not_to_contain_text("non_field_errors")

    # When the manager opens that import's own page
    mixed.locator("a", has_text="mixed.csv").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]+/$"))
    # Then it tells the same: status, counts and the whole report
    expect(page.locator("#import-detail [data-job-field=status]")).to_have_text("succeeded with errors")
    counts = [text.strip() for text in page.locator("#import-counts td").all_inner_texts()]
    assert counts[:4] == ["5", "2", "0", "3"]
    detail_report = page.locator("#import-detail table.report")
    expect(detail_report.locator("tr[data-line]")).to_have_count(3)
    assert [row[:2] for row in report_rows(detail_report)] == [
        ["3", "row"],
        ["5", "gold_label"],
        ["6", "row"],
    ]
    expect(page.locator("#import-detail")).not_to_contain_text("non_field_errors")
    page.screenshot(path=str(artifacts_dir / "import_with_errors.png"), full_page=True)


def test_a_label_studio_json_min_export_with_its_config_and_user_map_shows_the_annotations_per_annotator(
    page, worker
):
    """The recorded text project (tests/fixtures/labelstudio): alice (Label Studio user 1) labelled its 4 tasks,
    bob (user 2) 3 of them; JSON_MIN names them by user id and its text sits under ``review``."""
    from pathlib import Path

    from playwright.sync_api import expect

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
    manager = UserFactory(username="lsmanager")
    alice = UserFactory(username="alice", email="alice@example.com")
    project = make_project(manager=manager, name="From Label Studio", labels=("pos", "neg", "neutral"), k=2)
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/batches/")

    # When the JSON_MIN export is uploaded with the labelling config pasted and the user ids mapped to e-mails
    page.set_input_files(
        "#import-form input[name=file]",
        files=[
            {
                "name": "text.min.json",
                "mimeType": "application/json",
                "buffer": (fixtures / "text.min.json").read_bytes(),
            }
        ],
    )
    page.click("#ls-options summary")
    page.fill("#id_labelstudio_config", (fixtures / "text.xml").read_text())
    page.fill("#id_labelstudio_users", "1 = alice@example.com\n2 = bob@example.com")
    page.click("#import-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Import of “text.min.json” started")
    job = page.locator("#import-jobs tbody tr[data-job]", has_text="text.min.json")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=JOB_DEADLINE_MS)
    expect(job.locator("[data-job-field=status]")).to_have_text("succeeded")

    # Then the import's page lists each annotator with the Labelgate user they became and their annotations
    job.locator("a", has_text="text.min.json").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]+/$"))
    assert [t.strip() for t in page.locator("#import-counts td").all_inner_texts()[:4]] == [
        "4",
        "4",
        "0",
        "0",
    ]
    rows = page.locator("#ls-annotators tbody tr[data-annotator]")
    expect(rows).to_have_count(2)
    shown = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]
    assert shown[0] == ["alice@example.com", alice.username, "matched by email", "4"]
    assert shown[1][0] == "bob@example.com" and shown[1][2] == "new inactive account" and shown[1][3] == "3"
