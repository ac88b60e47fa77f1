"""The freeze form's exclusion rows read against the status counts of the review page, the dashboard and the API."""

import re

import pytest
from django.test import Client

from annotation.models import Item, ItemStatus
from tests.datasets.builders import labelled_items
from tests.factories import PASSWORD, make_project

pytestmark = pytest.mark.django_db


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _spans(html: str, paragraph_id: str, attribute: str) -> dict[str, int]:
    """``{key: n}`` of the ``<span attribute="key">n …`` parts of one paragraph of the page."""
    paragraph = html.split(f'id="{paragraph_id}"', 1)[1].split("</p>", 1)[0]
    return {
        key: int(n.replace(",", "")) for key, n in re.findall(rf'{attribute}="(\w+)">([\d,]+) ', paragraph)
    }


def _text(html: str, paragraph_id: str) -> str:
    paragraph = html.split(f'id="{paragraph_id}"', 1)[1].split(">", 1)[1].split("</p>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", paragraph)).strip()


@pytest.fixture
def project():
    """20 items, by hand: new 4, in progress 3, needs review 4, discarded 1, labelled 7, accepted 1.

    The items the old first-reason order counted under "no label yet" whatever their status: new ones without a
    label (3), in-progress ones without a label (2) and a needs-review one everyone skipped (1). The review queue
    holds 8: the new and the in-progress gold item whose votes miss the gold label, the 4 needs-review items and
    2 labelled items with a reason (one an open label issue)."""
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 14, "neg": 6})
    unlabelled = {"consensus_label": None, "consensus_confidence": None}
    Item.objects.filter(pk__in=ids[0:3]).update(status=ItemStatus.NEW, **unlabelled)
    Item.objects.filter(pk=ids[0]).update(is_label_issue=True)
    gold_missed = {"is_gold": True, "gold_label": "neg", "issue_kinds": ["gold_mismatch"]}
    Item.objects.filter(pk=ids[3]).update(status=ItemStatus.NEW, **gold_missed)
    Item.objects.filter(pk__in=ids[4:6]).update(status=ItemStatus.IN_PROGRESS, **unlabelled)
    Item.objects.filter(pk=ids[6]).update(status=ItemStatus.IN_PROGRESS, **gold_missed)
    Item.objects.filter(pk__in=ids[7:10]).update(
        status=ItemStatus.NEEDS_REVIEW, issue_kinds=["annotators_split"]
    )
    Item.objects.filter(pk=ids[10]).update(status=ItemStatus.NEEDS_REVIEW, **unlabelled)
    Item.objects.filter(pk=ids[11]).update(status=ItemStatus.DISCARDED)
    Item.objects.filter(pk=ids[12]).update(is_label_issue=True, issue_kinds=["model_disagrees"])
    Item.objects.filter(pk=ids[13]).update(issue_kinds=["annotators_split"])
    Item.objects.filter(pk=ids[14]).update(status=ItemStatus.ACCEPTED, final_label="neg")
    return project


def test_each_status_row_of_the_freeze_form_equals_that_status_count_on_the_review_page_and_api(project, api):
    # Given the project's status counts as the review page and the project API show them
    manager = project.created_by
    review = _login(manager).get(f"/projects/{project.pk}/review/").content.decode()
    page_status = {
        key: int(n) for key, n in re.findall(r'<td class="num" data-status="(\w+)">(\d+)</td>', review)
    }
    api_status = api(manager).get(f"/api/projects/{project.pk}/").json()["counts"]
    assert (
        page_status
        == {k: v for k, v in api_status.items() if k != "total"}
        == {
            "new": 4,
            "in_progress": 3,
            "labelled": 7,
            "needs_review": 4,
            "accepted": 1,
            "discarded": 1,
        }
    )
    # When the versions page previews the default policy
    html = _login(manager).get(f"/projects/{project.pk}/datasets/").content.decode()
    # Then, by hand, the rows are the status counts, and the one open label issue among labelled items; the other
    # 6 labelled items and the accepted one would be included (7 + 1 + 4 + 3 + 4 + 1 = 20)
    rows = _spans(html, "policy-preview", "data-excluded")
    assert rows == {"discarded": 1, "new": 4, "in_progress": 3, "needs_review": 4, "open_issue": 1}
    for status in ("discarded", "new", "in_progress", "needs_review"):
        assert rows[status] == page_status[status] == api_status[status]
    assert _text(html, "policy-preview").startswith(
        "7 items would be included; 1 excluded (status discarded); 4 excluded (status new, not yet labelled); "
        "3 excluded (status in progress, still being annotated); 4 excluded (status needs review, waiting for a "
        "review decision); 1 excluded (open label issues, not already excluded above)."
    )


def test_the_review_queue_line_adds_up_to_the_queue_api_count_and_its_status_rows_to_the_queue_by_status(
    project, api
):
    manager = project.created_by
    # Given the review queue as its API and page count it
    queue_count = api(manager).get(f"/api/projects/{project.pk}/review-queue/").json()["count"]
    assert queue_count == 8
    review = _login(manager).get(f"/projects/{project.pk}/review/").content.decode()
    line = review.split('id="queue-statuses"', 1)[1].split("</p>", 1)[0]
    queue_by_status = {
        key: int(n) for key, n in re.findall(r'data-status="(\w+)"><strong class="num">(\d+)</strong>', line)
    }
    assert queue_by_status == {"new": 1, "in_progress": 1, "labelled": 2, "needs_review": 4}
    # When the versions page accounts for the queue under the default policy
    html = _login(manager).get(f"/projects/{project.pk}/datasets/").content.decode()
    queue_line = html.split('id="policy-queue"', 1)[1]
    total = int(re.search(r'data-count="(\d+)"', queue_line).group(1))
    rows = _spans(html, "policy-queue", "data-queue-excluded")
    included = int(re.search(r"data-queue-included>([\d,]+) ", queue_line).group(1))
    # Then by hand: the gold items count under their status, the labelled open issue under its reason and the
    # other labelled item would be included; the parts add up to the queue's count
    assert rows == {"new": 1, "in_progress": 1, "needs_review": 4, "open_issue": 1}
    assert included == 1
    assert total == sum(rows.values()) + included == queue_count
    for status in ("new", "in_progress", "needs_review"):
        assert rows[status] == queue_by_status[status]


def test_including_needs_review_items_counts_the_unlabelled_one_as_having_no_label(project):
    # When the preview includes items with status needs review
    url = (
        f"/projects/{project.pk}/datasets/?preview=1&min_confidence=0&exclude_label_issues=on"
        "&include_needs_review=on&train=0.8&dev=0.1&test=0.1&seed=0"
    )
    html = _login(project.created_by).get(url).content.decode()
    # Then by hand: the 3 labelled needs-review items would be included (7 + 3 = 10), the one nobody labelled is
    # excluded for having no label, and no row is named by the needs-review status
    assert _spans(html, "policy-preview", "data-excluded") == {
        "discarded": 1,
        "new": 4,
        "in_progress": 3,
        "no_consensus": 1,
        "open_issue": 1,
    }
    assert "10 items would be included" in _text(html, "policy-preview")
    assert "1 excluded (no consensus or reviewed label, not already excluded above)" in _text(
        html, "policy-preview"
    )
