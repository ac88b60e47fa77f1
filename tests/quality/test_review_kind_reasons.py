"""The review queue knows the reasons of its project's kind: a span item's "missed entity" filters the queue (API
and page) in words, and a class project's queue does not offer span or box reasons."""

import pytest

from annotation.models import Item, ItemStatus, Role
from tests.factories import add_items, add_member, make_project


@pytest.mark.django_db
def test_a_span_reason_filters_the_queue_and_is_offered_in_words_only_for_its_kind(client, api):
    # Given a span project whose two items carry a missed entity and a boundary disagreement
    spans = make_project(labels=("PER", "LOC"), task_type="text_spans")
    add_items(spans, 2)
    first, second = Item.objects.filter(project=spans).order_by("id")
    Item.objects.filter(pk=first.pk).update(status=ItemStatus.NEEDS_REVIEW, issue_kinds=["missed_entity"])
    Item.objects.filter(pk=second.pk).update(
        status=ItemStatus.LABELLED, issue_kinds=["boundary_disagreement"]
    )
    reviewer = add_member(spans, Role.REVIEWER)

    # When a reviewer filters the queue by the span reason
    response = api(reviewer).get(f"/api/projects/{spans.pk}/review-queue/?reason=missed_entity")

    # Then only the item carrying it is listed
    assert response.status_code == 200, response.content[:300]
    assert [row["id"] for row in response.json()["results"]] == [first.pk]
    # and the queue page offers the kind's reasons in words, with their counts
    client.force_login(reviewer)
    page = client.get(f"/projects/{spans.pk}/review/").content.decode()
    assert 'value="missed_entity"' in page and "missed entity (1)" in page
    assert 'value="boundary_disagreement"' in page
    assert 'value="missing_box"' not in page

    # And a class project's queue offers none of the span or box reasons
    classes = make_project()
    client.force_login(add_member(classes, Role.REVIEWER))
    page = client.get(f"/projects/{classes.pk}/review/").content.decode()
    assert 'value="missed_entity"' not in page and 'value="missing_box"' not in page
    assert 'value="gold_mismatch"' in page
