"""An import queued while every jobs worker process runs another job says, on its page and in the API, that it waits
behind that job and when it was queued, never "started" before the worker has started it."""

import re
import time

import pytest

from core.models import Job, JobStatus
from tests.annotation.test_jobs import create_selftest
from tests.factories import UserFactory, make_project
from tests.ingress.test_import_browser import JOB_DEADLINE_MS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until_running(job_id, deadline_s=90):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).exists():
            return
        time.sleep(0.2)
    raise AssertionError("the blocking job never started")


def test_an_import_behind_a_running_job_says_it_waits_and_when_it_was_queued(page, worker, api):
    from playwright.sync_api import expect

    manager = UserFactory(username="una")
    project = make_project(manager=manager, name="Waiting")
    # Given the jobs worker's two processes busy with a long job each (20 steps of 1 s)
    blockers = [create_selftest(user=manager, steps=20, step_seconds=1.0) for _ in range(2)]
    for blocker in blockers:
        wait_until_running(blocker.pk)
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/batches/")
    # When an import is uploaded meanwhile
    page.set_input_files(
        "#import-form input[type=file]",
        files=[{"name": "later.csv", "mimeType": "text/csv", "buffer": b"external_id,text\nw1,hello\n"}],
    )
    page.click("#import-form button[type=submit]")
    row = page.locator("#import-jobs tbody tr[data-job]", has_text="later.csv")
    job_id = row.get_attribute("data-job")
    # Then the API puts it behind the two running jobs
    body = api(manager).get(f"/api/jobs/{job_id}/").json()
    assert (body["status"], body["started_at"], body["jobs_ahead"]) == ("queued", None, 2)
    # And its page says it waits behind 2 jobs and when it was queued, not that it started
    row.locator("a", has_text="later.csv").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]+/$"))
    detail = page.locator("#import-detail")
    expect(detail.locator("[data-job-field=message]")).to_contain_text("waiting behind 2 jobs")
    expect(page.locator("#import-times")).to_contain_text("queued at")
    expect(page.locator("#import-times")).not_to_contain_text("started")
    # And once the worker has run it, the page says when it started
    expect(detail.locator("[data-job-field=status]")).to_have_text("succeeded", timeout=JOB_DEADLINE_MS)
    expect(page.locator("#import-times")).to_contain_text("started")
    assert all(Job.objects.get(pk=b.pk).status == JobStatus.SUCCEEDED for b in blockers)
