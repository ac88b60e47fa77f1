"""An import whose rows all carry gold leaves nothing to label: the import's page and the project page say how
many items became gold and that gold items are served only at the project's gold rate, naming that setting; a
Label Studio export imported as gold says how many tasks it had and how many were used as gold."""

import json

import pytest

from tests.factories import UserFactory, make_project
from tests.ingress.test_import_browser import log_in
from tests.spans.test_span_file_imports_worker import _region, _task, _upload

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_label_studio_gold_import_says_its_tasks_became_gold_served_only_at_the_gold_rate(
    page, worker, api
):
    from playwright.sync_api import expect

    manager = UserFactory(username="gia")
    project = make_project(manager=manager, task_type="text_spans", labels=("PER", "LOC"), k=1, name="Gold")
    # Given a Label Studio export of 2 tasks, each with one span annotation, imported as gold (gold rate 0)
    text = "Ada Lovelace met Charles Babbage"
    tasks = [
        _task(1, text, [_region(0, 12, "PER", text)]),
        _task(2, "in Paris", [_region(3, 8, "LOC", "in Paris")]),
    ]
    result, _ = _upload(
        worker, api, project, "ls.json", json.dumps(tasks).encode(), labelstudio_annotations="gold"
    )
    # Then the job's result counts 2 created items, both gold, from 2 tasks
    assert (result["rows"], result["created"], result["gold"]) == (2, 2, 2)
    assert (result["labelstudio"]["tasks"], result["labelstudio"]["annotations_as"]) == (2, "gold")

    # When the manager opens the import's page
    log_in(page, manager.username)
    page.goto(f"/projects/{project.pk}/imports/{result_job(project)}/")
    # Then the Label Studio summary adds up, without "No annotations in the export."
    expect(page.locator("#ls-summary")).to_have_text("2 tasks · 2 used as gold")
    expect(page.locator("#import-detail")).not_to_contain_text("No annotations in the export.")
    # And the report says the items became gold and are never served while the gold rate is 0, naming it
    gold = page.locator("#import-gold")
    expect(gold).to_contain_text("2 of the 2 new items came with a gold label and became gold items")
    expect(gold).to_contain_text(
        "gold items are never given to annotators while the project's gold rate is 0"
    )
    expect(gold.locator("a")).to_have_text("Gold rate in the project settings")
    expect(gold.locator("a")).to_have_attribute("href", f"/projects/{project.pk}/settings/#id_gold_rate")

    # When the manager opens the project page
    page.goto(f"/projects/{project.pk}/")
    # Then "0 left for you" comes with the reason
    expect(page.locator("[data-figure=progress-left]")).to_have_text("0")
    expect(page.locator("#gold-items")).to_contain_text(
        "2 items of this project are gold (imported with a gold label); gold items are never given to "
        "annotators while the project's gold rate is 0"
    )
    expect(page.locator("#gold-items a")).to_have_text("Gold rate in the project settings")


def result_job(project):
    from core.models import Job

    return Job.objects.filter(project=project, kind="import").values_list("pk", flat=True).get()
