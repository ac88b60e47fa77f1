"""Diff exactness after a relabel, a discard and an added item."""

import pytest

from annotation.models import Item, ItemStatus
from datasets.diffs import version_diff
from tests.datasets.builders import freeze, labelled_items
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def test_diff_reports_exactly_the_relabelled_removed_and_added_items():
    # Given v1 of 12 items
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 8, "neg": 4})
    v1 = freeze(project)
    # When one item is relabelled by review, one discarded and one new item labelled
    Item.objects.filter(pk=ids[2]).update(status=ItemStatus.ACCEPTED, final_label="neg")
    Item.objects.filter(pk=ids[9]).update(status=ItemStatus.DISCARDED)
    added = labelled_items(project, {"pos": 1}, prefix="new")
    v2 = freeze(project)
    diff = version_diff(base=v1, target=v2)
    # Then the diff says exactly that, and nothing moved split
    assert diff["counts"] == {"added": 1, "removed": 1, "relabelled": 1, "split_moves": 0, "unchanged": 10}
    assert diff["relabelled"] == [{"item_id": ids[2], "external_id": "t2", "from": "pos", "to": "neg"}]
    assert [row["item_id"] for row in diff["removed"]] == [ids[9]]
    assert diff["removed"][0]["label"] == "neg"
    assert [(row["item_id"], row["external_id"]) for row in diff["added"]] == [(added[0], "new0")]
    assert diff["truncated"] is False
    # And the reverse diff mirrors it
    back = version_diff(base=v2, target=v1)
    assert back["counts"] == {"added": 1, "removed": 1, "relabelled": 1, "split_moves": 0, "unchanged": 10}
    assert back["relabelled"][0]["from"] == "neg" and back["relabelled"][0]["to"] == "pos"


def test_diff_lists_are_capped_but_counts_stay_exact():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 3})
    v1 = freeze(project)
    labelled_items(project, {"neg": 7}, prefix="more")
    v2 = freeze(project)
    diff = version_diff(base=v1, target=v2, limit=2)
    assert diff["counts"]["added"] == 7 and len(diff["added"]) == 2 and diff["truncated"] is True


def test_diff_of_a_version_with_itself_is_all_unchanged():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 5})
    v1 = freeze(project)
    assert version_diff(base=v1, target=v1)["counts"] == {
        "added": 0,
        "removed": 0,
        "relabelled": 0,
        "split_moves": 0,
        "unchanged": 5,
    }
