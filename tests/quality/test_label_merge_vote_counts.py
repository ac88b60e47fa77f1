"""A label merge changes no vote count in any app: quality's annotation matrix, active learning's vote counts and
training labels, and the dashboard's per-label figures all count a retired label's votes for the label that
replaced it, and all read the same class list."""

import numpy as np
import pytest

from activelearning import adapters as al_adapters
from activelearning import services as al_services
from activelearning.models import FeatureCache
from activelearning.relabel import vote_counts
from annotation.models import Item, ItemStatus
from annotation.selectors import label_classes, label_schema_for
from core.jobs import JobContext
from core.models import Job
from quality import services as quality_services
from quality.adapters import project_data_load
from quality.dashboard import tables
from quality.review import services as review_services
from tests.activelearning.al_helpers import vote
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db

LABELS = ("scratch_deep", "scratch_light", "dent", "ok")
# Annotator a gives VOTES[i][a] on item i. By hand: 3 votes each for scratch_deep, scratch_light, dent and ok.
VOTES = [
    ["scratch_deep", "scratch_light", "scratch_deep"],
    ["scratch_light", "scratch_deep", "dent"],
    ["dent", "dent", "ok"],
    ["ok", "scratch_light", "ok"],
]
# After merging scratch_light into scratch_deep: 3 + 3 = 6 for scratch_deep, dent and ok unchanged.
MERGED_VOTES = {"scratch_deep": 6, "dent": 3, "ok": 3}


def _project(*, spare_annotators: int = 2):
    """Three annotators voted through the submit service (items are ``labelled`` with 3 annotations each); spare
    annotators who have seen nothing keep adaptive overlap free to ask for more votes."""
    project = make_project(labels=LABELS, k=3, max_annotations_per_item=5, consensus_method="majority_vote")
    add_items(project, len(VOTES))
    items = list(Item.objects.filter(project=project).order_by("id"))
    annotators = [add_member(project) for _ in range(3)]
    for item, row in zip(items, VOTES, strict=True):
        vote(project, item, row, annotators=annotators)
    for _ in range(spare_annotators):
        add_member(project)
    return project, items


def _merge(project):
    change, _ = review_services.label_merge(
        project=project, author=project.created_by, labels=["scratch_light"], into="scratch_deep"
    )
    return change


def _by_label(counts: np.ndarray, values: list[str]) -> dict[str, int]:
    return {value: int(n) for value, n in zip(values, counts.tolist(), strict=True) if n}


def test_after_a_merge_active_learning_counts_the_retired_labels_votes_for_the_label_that_replaced_it():
    # Given two projects with the same votes: item 1 voted scratch_light, scratch_deep, dent (split three ways)
    merged, merged_items = _project()
    unmerged, unmerged_items = _project()
    # When scratch_light is merged into scratch_deep in one of them, its item 1 reads scratch_deep ×2, dent ×1
    _merge(merged)
    # Then adaptive overlap (the label hook) finds a strict majority there and asks for no fourth vote
    outcome = al_services.item_labelled_process(
        project_id=merged.pk, item_id=merged_items[1].pk, confidence=0.9
    )
    assert outcome["target"] is None
    item = Item.objects.get(pk=merged_items[1].pk)
    assert (item.status, item.target_annotations) == (ItemStatus.LABELLED, 3)
    # while in the unmerged project the split item gets a fourth slot
    outcome = al_services.item_labelled_process(
        project_id=unmerged.pk, item_id=unmerged_items[1].pk, confidence=0.9
    )
    assert outcome["target"] == 4


def _run_quality(job):
    quality_services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(status="succeeded")  # run inline: mark it done as job_execute would


def test_a_merge_changes_no_vote_count_in_any_app():
    # Given the four items, their consensus as a quality run before the merge would store it
    project, items = _project()
    consensus = ["scratch_deep", "scratch_light", "dent", "ok"]
    for item, label in zip(items, consensus, strict=True):
        Item.objects.filter(pk=item.pk).update(consensus_label=label)
    key, dim = "test-features", 2
    FeatureCache.objects.bulk_create(
        [
            FeatureCache(item=item, extractor=key, vector=np.asarray([i, 1.0], dtype=np.float32).tobytes())
            for i, item in enumerate(items)
        ]
    )
    # When scratch_light is merged into scratch_deep and the quality run it enqueued has run
    change = _merge(project)
    _run_quality(Job.objects.get(pk=change.quality_job_id))
    values = label_classes(project=project)
    assert values == ["scratch_deep", "dent", "ok"]
    # Then quality's annotation matrix holds 6 scratch_deep votes, 3 dent, 3 ok
    data = project_data_load(project=project)
    assert data.label_values == values
    assert _by_label(np.bincount(data.table.label, minlength=len(values)), values) == MERGED_VOTES
    # and active learning's vote counts are the same
    schema = label_schema_for(project=project)
    votes = al_adapters.votes_load(
        project=project, index=schema.index, statuses=al_adapters.TRAINABLE_STATUSES
    )
    counts = vote_counts(
        item_index=votes.item_index,
        labels=votes.labels,
        n_items=len(votes.item_ids),
        n_classes=len(schema.values),
    )
    assert _by_label(counts.sum(axis=0), schema.values) == MERGED_VOTES
    # and its training labels read the remapped consensus: scratch_deep twice (items 0 and 1), dent, ok
    training = al_adapters.training_set_load(project=project, key=key, dim=dim, index=schema.index)
    assert _by_label(np.bincount(training.y, minlength=len(values)), values) == {
        "scratch_deep": 2,
        "dent": 1,
        "ok": 1,
    }
    # and the dashboard shows the same labels, its annotator-vs-consensus columns adding up to the same votes
    source = tables.DashboardSource(project)
    assert source.labels == values
    confusion = tables.table_confusion(source)
    columns = [sum(row[1 + c] for row in confusion.rows) for c in range(len(values))]
    assert dict(zip(values, columns, strict=True)) == MERGED_VOTES
    # and its consensus label counts: items 0 and 1 scratch_deep (2 of 3 votes each), item 2 dent, item 3 ok
    labels_table = tables.table_labels(source)
    assert {row[0]: row[1] for row in labels_table.rows} == {"scratch_deep": 2, "dent": 1, "ok": 1}


def test_a_rename_after_a_merge_moves_every_retired_label_to_the_current_one():
    # Given scratch_light merged into scratch_deep
    project, _ = _project()
    _merge(project)
    # When scratch_deep is then renamed to scratch
    review_services.label_rename(
        project=project, author=project.created_by, label="scratch_deep", to="scratch"
    )
    # Then both retired labels count for scratch, in every app's reading
    schema = label_schema_for(project=project)
    assert schema.mapping == {"scratch_deep": "scratch", "scratch_light": "scratch"}
    assert schema.values == ["scratch", "dent", "ok"]
    assert schema.index["scratch_light"] == schema.index["scratch_deep"] == schema.index["scratch"] == 0
    votes = al_adapters.votes_load(
        project=project, index=schema.index, statuses=al_adapters.TRAINABLE_STATUSES
    )
    counts = vote_counts(
        item_index=votes.item_index,
        labels=votes.labels,
        n_items=len(votes.item_ids),
        n_classes=len(schema.values),
    )
    assert _by_label(counts.sum(axis=0), schema.values) == {"scratch": 6, "dent": 3, "ok": 3}


def test_after_a_merge_the_review_queue_shows_the_votes_under_the_label_that_replaced_them(api, client):
    # Given item 1 (scratch_light, scratch_deep, dent) waiting for review
    project, items = _project()
    Item.objects.filter(pk=items[1].pk).update(status=ItemStatus.NEEDS_REVIEW)
    manager = project.created_by
    # When scratch_light is merged into scratch_deep
    _merge(project)
    # Then the queue API counts scratch_deep ×2, dent ×1 for it
    rows = api(manager).get(f"/api/projects/{project.pk}/review-queue/").json()["results"]
    assert [row["votes"] for row in rows if row["id"] == items[1].pk] == [
        [{"label": "scratch_deep", "votes": 2}, {"label": "dent", "votes": 1}]
    ]
    # and so does the queue page
    client.force_login(manager)
    page = client.get(f"/projects/{project.pk}/review/").content.decode()
    assert "scratch_deep&nbsp;×2, dent&nbsp;×1" in page
    assert "scratch_light" not in page
