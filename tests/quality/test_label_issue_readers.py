"""Readers of ``is_label_issue`` after it came to mean "the label is probably wrong": the review queue still takes
items with any other reason, and the dashboard counts reasons apart from label issues."""

import pytest

from annotation.models import Item, ItemStatus
from quality.dashboard.selectors import issue_counts_live
from quality.review import selectors
from tests.factories import add_items, make_project

pytestmark = pytest.mark.django_db


def _project():
    """t0: a label issue (model_disagrees, pruned); t1: a split vote only; t2: a near-duplicate conflict only;
    t3: clean. All labelled (t1 and t2 kept ``labelled``, as when a vote arrived after the run read them)."""
    project = make_project()
    add_items(project, 4)
    items = {item.external_id: item for item in Item.objects.filter(project=project)}
    rows = {
        "t0": {"is_label_issue": True, "issue_kinds": ["model_disagrees"], "issue_severity": 0.8},
        "t1": {"issue_kinds": ["annotators_split"], "issue_severity": 0.3},
        "t2": {"issue_kinds": ["near_duplicate_conflict"], "issue_severity": 0.4},
        "t3": {},
    }
    for name, fields in rows.items():
        Item.objects.filter(pk=items[name].pk).update(
            status=ItemStatus.LABELLED, consensus_label="pos", **fields
        )
    return project, items


def test_review_queue_takes_items_with_any_reason_not_only_label_issues():
    project, items = _project()
    queued = list(selectors.review_queue(project=project).values_list("external_id", flat=True))
    assert queued == ["t0", "t2", "t1"]  # by severity; the clean item stays out
    counts = selectors.review_queue_counts(project=project)
    assert (counts["total"], counts["annotators_split"], counts["near_duplicate_conflict"]) == (3, 1, 1)


def test_dashboard_counts_label_issues_apart_from_reasons():
    project, _ = _project()
    counts = issue_counts_live(project=project)
    assert (counts["total"], counts["open"]) == (1, 1)
    assert (
        counts["kind_model_disagrees"],
        counts["kind_annotators_split"],
        counts["kind_near_duplicate_conflict"],
    ) == (1, 1, 1)
