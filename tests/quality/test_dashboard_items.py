"""The reviewer's items page every dashboard link leads to: filters agree with the items API, bad input is a
400 naming the field."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from annotation.models import Annotation, Item, Role
from ingress.models import ImportBatch
from quality.models import ReviewDecision
from quality.review.services import label_rename, review_decide
from tests.factories import add_items, add_member, make_project
from tests.quality.review_helpers import review_project
from tests.quality.vote_builders import annotate, items_of

pytestmark = pytest.mark.django_db


def _count(html: str) -> int:
    match = re.search(r'data-count="(\d+)"', html)
    assert match, html[:500]
    return int(match.group(1))


def _ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-item="(\d+)"', html)}


@pytest.fixture
def project_with_items():
    project = make_project()
    add_items(project, 6, prefix="a", tags=["night"])
    add_items(project, 4, prefix="b", tags=["day"])
    items = list(Item.objects.filter(project=project).order_by("id"))
    Item.objects.filter(pk__in=[i.pk for i in items[:3]]).update(
        status="needs_review", is_label_issue=True, issue_kinds=["annotators_split"]
    )
    Item.objects.filter(pk=items[3].pk).update(
        is_label_issue=True, issue_kinds=["near_duplicate_conflict"], consensus_label="pos"
    )
    Item.objects.filter(pk__in=[i.pk for i in items[6:8]]).update(flags=["blurry"], final_label="neg")
    Item.objects.filter(pk=items[9].pk).update(status="discarded", flags=["blurry", "dark"])
    return project, items


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 10),
        ("status=needs_review", 3),
        ("status=needs_review,discarded", 4),
        ("tag=night", 6),
        ("tag=day", 4),
        ("flag=blurry", 3),
        ("flag=dark", 1),
        ("has_issue=true", 4),
        ("has_issue=false", 6),
        ("label=neg", 2),
        ("label=pos", 1),
        ("batch=1", 6),
        ("batch=2", 4),
        ("tag=night&status=needs_review", 3),
        ("issue_kind=near_duplicate_conflict", 1),
        ("issue_kind=annotators_split", 3),
    ],
)
def test_filters_match_the_items_api(client, api, project_with_items, query, expected):
    project, _ = project_with_items
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    response = client.get(f"/projects/{project.pk}/items/?{query}")
    assert response.status_code == 200
    assert _count(response.content.decode()) == expected
    if "issue_kind" not in query:  # the API has no reason filter; everything else must agree with it
        assert api(reviewer).get(f"/api/projects/{project.pk}/items/?{query}").json()["count"] == expected


def test_items_page_paginates_and_links_items_to_their_review_page(client):
    project = make_project()
    add_items(project, 60)
    client.force_login(project.created_by)
    first = client.get(f"/projects/{project.pk}/items/?tag=&ordering=-id").content.decode()
    second = client.get(f"/projects/{project.pk}/items/?ordering=-id&page=2").content.decode()
    assert _count(first) == 60 and first.count("data-item=") == 50 and second.count("data-item=") == 10
    assert "page 1 of 2" in first and "ordering=-id&amp;page=2" in first
    newest = Item.objects.filter(project=project).order_by("-id").first()
    assert f'data-item="{newest.pk}"' in first and f'data-item="{newest.pk}"' not in second
    assert f'href="/projects/{project.pk}/review/items/{newest.pk}/"' in first


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=bogus", "status", "Unknown status bogus"),
        ("status=new,nope", "status", "Unknown status nope"),
        ("batch=abc", "batch", "Enter a whole number."),
        ("batch=0", "batch", "greater than or equal to 1"),
        ("has_issue=maybe", "has_issue", "Select a valid choice."),
        ("issue_kind=typo", "issue_kind", "Select a valid choice."),
        ("ordering=random", "ordering", "Select a valid choice."),
        ("imported=yesterday", "imported", "is not a day or days"),
        ("annotated=2026-11-08..2026-11-02", "annotated", "is not a day or days"),
        ("decided=..", "decided", "is not a day or days"),
        ("quality_run=0", "quality_run", "greater than or equal to 1"),
        ("guideline_version=v2", "guideline_version", "Enter a whole number."),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(client, project_with_items, query, field, message):
    project, _ = project_with_items
    client.force_login(project.created_by)
    response = client.get(f"/projects/{project.pk}/items/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}"' in html and message in html
    assert 'id="item-table"' not in html


def test_discard_reason_bars_link_to_the_items_whose_current_decision_is_that_discard(client):
    # Given items discarded for a reason, one re-discarded for another and one discarded and then accepted
    project = make_project()
    add_items(project, 6)
    items = list(Item.objects.filter(project=project).order_by("id"))
    reviewer = add_member(project, Role.REVIEWER)

    def decide(item, action, **fields):
        review_decide(project=project, reviewer=reviewer, item_id=item.pk, action=action, **fields)

    for item in items[:3]:
        decide(item, "discard", reason="blurry photo")
    decide(items[2], "discard", reason="off topic & noisy")
    decide(items[3], "discard", reason="off topic & noisy")
    decide(items[4], "discard", reason="blurry photo")
    decide(items[4], "accept", label="pos")
    client.force_login(reviewer)
    # When the dashboard draws the discard reasons
    html = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    chart = html[html.index('id="chart-discards"') :]
    bars = re.findall(
        r'<a href="([^"]+)" class="chart-link" data-label="([^"]+)" data-value="(\d+)"',
        chart[: chart.index("</svg>")],
    )
    # Then each bar links with its reason to a list of exactly the items it counts
    assert {unescape(label): int(n) for _, label, n in bars} == {"blurry photo": 2, "off topic & noisy": 2}
    expected = {"blurry photo": {items[0].pk, items[1].pk}, "off topic & noisy": {items[2].pk, items[3].pk}}
    for href, label, n in bars:
        url = unescape(href)
        assert url == f"/projects/{project.pk}/items/?{urlencode({'discard_reason': unescape(label)})}"
        listed = client.get(url).content.decode()
        assert _count(listed) == int(n) and _ids(listed) == expected[unescape(label)]
    assert _count(client.get(f"/projects/{project.pk}/items/?discard_reason=other").content.decode()) == 0


def test_annotator_label_keeps_items_with_a_live_annotation_of_that_label_under_any_of_its_names(client):
    # Given votes pos/pos/neg (consensus pos), neg×3 (neg) and pos/neutral/neutral (neutral), plus a superseded
    # "pos" on the second item that no longer counts
    project, items, annotators, reviewer = review_project(
        [["pos", "pos", "neg"], ["neg", "neg", "neg"], ["pos", "neutral", "neutral"]]
    )
    annotate(project, items[1], annotators[0], "pos", live=False)
    client.force_login(reviewer)

    def listed(query: str) -> set[int]:
        html = client.get(f"/projects/{project.pk}/items/?{query}").content.decode()
        assert _count(html) == len(_ids(html))
        return _ids(html)

    # When the list is filtered by what an annotator said (alone and with the consensus)
    # Then only live annotations count
    assert listed("annotator_label=pos") == {items[0].pk, items[2].pk}
    assert listed("annotator_label=neg") == {items[0].pk, items[1].pk}
    assert listed("label=pos&annotator_label=neg") == {items[0].pk}
    assert listed("label=neg&annotator_label=pos") == set()
    # And after a rename the old name's annotations (never rewritten) count under the new one
    label_rename(project=project, author=project.created_by, label="neutral", to="mixed")
    assert listed("annotator_label=mixed") == {items[2].pk}
    assert listed("label=mixed&annotator_label=mixed") == {items[2].pk}


def test_day_and_guideline_filters_keep_the_items_imported_annotated_or_decided_on_those_days(client):
    # Given 3 items imported three days ago and 2 today; an old item annotated three days ago, a new one today under
    # guideline v2 (and superseded: annotated lists every annotation); an old item accepted yesterday and another
    # accepted today
    project = make_project()
    add_items(project, 3, prefix="old")
    add_items(project, 2, prefix="new")
    now = timezone.now()
    today = timezone.localdate()
    ImportBatch.objects.filter(project=project, number=1).update(created_at=now - timedelta(days=3))
    old, new = items_of(project)[:3], items_of(project)[3:]
    annotator, reviewer = add_member(project), add_member(project, Role.REVIEWER)
    Annotation.objects.filter(pk=annotate(project, old[0], annotator, "pos").pk).update(
        created_at=now - timedelta(days=3)
    )
    annotate(project, new[0], annotator, "neg", version=2, live=False)
    accepted_yesterday = review_decide(
        project=project, reviewer=reviewer, item_id=old[1].pk, action="accept", label="pos"
    )
    ReviewDecision.objects.filter(pk=accepted_yesterday.pk).update(created_at=now - timedelta(days=1))
    review_decide(project=project, reviewer=reviewer, item_id=old[2].pk, action="accept", label="neg")
    client.force_login(reviewer)

    def listed(query: str) -> set[int]:
        html = client.get(f"/projects/{project.pk}/items/?{query}").content.decode()
        assert _count(html) == len(_ids(html))
        return _ids(html)

    day = {n: (today - timedelta(days=n)).isoformat() for n in range(4)}
    ids = {item.pk for item in old}, {item.pk for item in new}
    # When the list is filtered by days; then each filter keeps exactly its items
    assert listed(f"imported={day[3]}") == ids[0] and listed(f"imported={day[0]}") == ids[1]
    assert listed(f"imported={day[3]}..{day[0]}") == ids[0] | ids[1]
    assert listed(f"imported=..{day[1]}") == ids[0] and listed(f"imported={day[2]}..{day[1]}") == set()
    assert listed(f"annotated={day[3]}") == {old[0].pk} and listed(f"annotated={day[0]}..") == {new[0].pk}
    assert listed(f"decided={day[1]}") == {old[1].pk} and listed(f"decided={day[0]}") == {old[2].pk}
    assert listed(f"decided={day[1]}&status=accepted") == {old[1].pk}
    # And a guideline version keeps items with a live annotation made under it
    assert listed("guideline_version=1") == {old[0].pk} and listed("guideline_version=2") == set()
    annotate(project, new[1], annotator, "pos", version=2)
    assert listed("guideline_version=2") == {new[1].pk}
    html = client.get(f"/projects/{project.pk}/items/?imported=..{day[1]}").content.decode()
    assert f'data-filter="imported">imported = ..{day[1]}<' in html
