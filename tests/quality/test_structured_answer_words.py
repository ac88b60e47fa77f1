"""Span and box answers on the pages that print a stored label (dataset diff, review item rows, the dataset
versions panel, near duplicates, the review queue) read in words, never as Python dicts or lists."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from annotation.models import Item, ItemStatus
from ingress.services.bulk import item_bulk_create
from quality.templatetags.answer_words import answer_words
from tests.datasets.builders import freeze
from tests.factories import PASSWORD, make_project
from tests.kinds.box_fixtures import box_project_create, png_b64

TEXT = "Apple sued Ann in Oslo"
RAW = ("{&#x27;", "[{", "{'")


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _no_raw_values(html: str) -> None:
    # Page data handed to scripts as JSON is not shown text.
    shown = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    for raw in RAW:
        assert raw not in shown, raw


def test_words_of_spans_boxes_and_class_names():
    # jsonb gives keys shortest first; the words still put start before end, confidence last with 2 decimals
    spans = [{"end": 5, "label": "ORG", "start": 0, "confidence": 0.999999}]
    assert answer_words(spans) == "ORG (start 0, end 5, confidence 1.00)"
    box = {"h": 50.0, "w": 59.51000000000002, "x": 89.86, "y": 61.0, "label": "car", "confidence": 0.876}
    assert answer_words([box]) == "car 59.5×50 at (89.9, 61), confidence 0.88"
    assert answer_words([{"x": 0, "y": 0, "w": 10, "h": 20, "label": "rock"}]) == "rock 10×20 at (0, 0)"
    # class answers are left as they are
    assert answer_words("pos") == "pos"
    assert answer_words(["pos", "neg"]) == ["pos", "neg"]
    assert answer_words([]) == []


@pytest.mark.django_db
def test_span_diff_page_and_review_item_read_in_words():
    # Given a span project whose item "a" is in v1 and v2 and item "b" only in v2
    project = make_project(task_type="text_spans", labels=("PER", "LOC", "ORG"))
    assert not item_bulk_create(project=project, rows=[{"external_id": "a", "text": TEXT}]).errors
    Item.objects.filter(project=project, external_id="a").update(
        status=ItemStatus.LABELLED,
        consensus_label=[{"start": 0, "end": 5, "label": "ORG", "confidence": 0.999999}],
        consensus_confidence=0.999999,
    )
    v1 = freeze(project, splits={"train": 1.0})
    assert not item_bulk_create(project=project, rows=[{"external_id": "b", "text": TEXT}]).errors
    Item.objects.filter(project=project, external_id="b").update(
        status=ItemStatus.LABELLED,
        consensus_label=[{"start": 11, "end": 14, "label": "PER", "confidence": 0.5}],
        consensus_confidence=0.5,
    )
    v2 = freeze(project, splits={"train": 1.0})
    client = _login(project.created_by)

    # When the manager opens the diff page
    diff = client.get(f"/projects/{project.pk}/datasets/diff/?base={v1.pk}&target={v2.pk}")

    # Then the added item's label reads in words
    assert diff.status_code == 200
    html = diff.content.decode()
    assert "<td>PER (start 11, end 14, confidence 0.50)</td>" in html
    _no_raw_values(html)

    # Given item "a" flagged as a label issue by a model that ranks other spans first, with gold spans
    item = Item.objects.get(project=project, external_id="a")
    Item.objects.filter(pk=item.pk).update(
        flag_model="token model v1",
        flag_model_label=[{"start": 18, "end": 22, "label": "LOC"}],
        is_label_issue=True,
        label_quality=0.1,
    )

    # When the reviewer opens its review page
    page = client.get(f"/projects/{project.pk}/review/items/{item.pk}/")

    # Then the model's spans, the label-issue row and the dataset versions panel read in words
    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong class="model-label">LOC (start 18, end 22)</strong>' in html
    assert "ranks <strong>LOC (start 18, end 22)</strong> first" in html
    assert "gives the consensus <strong>ORG (start 0, end 5, confidence 1.00)</strong>" in html
    assert '<td class="entry-label">ORG (start 0, end 5' in html
    _no_raw_values(html)

    # And the review queue's consensus cell gives its confidence to 2 decimals
    queue = client.get(f"/projects/{project.pk}/review/?reason=")
    assert queue.status_code == 200
    assert "ORG (start 0, end 5, confidence 1.00)" in queue.content.decode()
    assert "0.999999" not in queue.content.decode()
    _no_raw_values(queue.content.decode())


@pytest.mark.django_db
def test_box_review_item_near_duplicates_read_in_words(api, media_roots):
    # Given two images of a box project in one near-duplicate group, the second with an accepted final label
    made = box_project_create(api, images=[png_b64(), png_b64(colour=(121, 160, 90))])
    first, second = made.items
    Item.objects.filter(pk__in=[first.pk, second.pk]).update(near_dup_group=1)
    Item.objects.filter(pk=second.pk).update(
        status=ItemStatus.ACCEPTED,
        final_label=[{"x": 89.86, "y": 61.0, "w": 59.51000000000002, "h": 50.0, "label": "iguana"}],
    )

    # When the manager opens the first image's review page
    page = _login(made.manager).get(f"/projects/{made.pid}/review/items/{first.pk}/")

    # Then the near duplicate's boxes read in words
    assert page.status_code == 200
    html = page.content.decode()
    assert "<td>iguana 59.5×50 at (89.9, 61)</td>" in html
    _no_raw_values(html)
