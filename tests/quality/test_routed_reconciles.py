"""The quality page's "this run marked N items for review" beside "M items in the review queue now": right after a
run, with no other reason to queue an item, the two are the same items."""

import pytest

from annotation.models import Item, Project
from core.jobs import JobContext, job_create
from quality import services
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from quality.review.selectors import review_queue_counts, review_queue_total
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db


def test_a_profile_flag_the_project_does_not_route_neither_counts_as_routed_nor_queues_the_item():
    # Given a project that does not route profile flags; votes: one 3-way split (a reason to look), two
    # unanimous items, one of them with a profile flag (its only reason)
    project, items, _ = votes_project(
        make_project,
        [["pos", "neg", "neutral"], ["pos", "pos", "pos"], ["neg", "neg", "neg"]],
        consensus_method="majority_vote",
    )
    Project.objects.filter(pk=project.pk).update(route_flagged_to_review=False)
    project.refresh_from_db()
    Item.objects.filter(pk=items[2].pk).update(flags=["near_silent"])
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    # When the quality run executes
    services.quality_run(job=job, context=JobContext(job))
    # Then by hand: the split alone is routed, and the queue holds that one item
    report = QualityReport.objects.get(job=job)
    assert report.n_routed_to_review == 1
    assert review_queue_total(project=project) == 1


def test_a_duplicate_flag_alone_is_no_profiling_flag_to_route():
    # Given a project that routes profile flags; three unanimous items: one flagged a near duplicate at import
    # (no other member of a group, so no conflicting labels), one flagged too short and a near duplicate, one
    # not flagged
    project, items, _ = votes_project(
        make_project,
        [["pos", "pos", "pos"], ["neg", "neg", "neg"], ["pos", "pos", "pos"]],
        consensus_method="majority_vote",
    )
    Project.objects.filter(pk=project.pk).update(route_flagged_to_review=True)
    project.refresh_from_db()
    Item.objects.filter(pk=items[0].pk).update(flags=["near_duplicate"])
    Item.objects.filter(pk=items[1].pk).update(flags=["too_short", "near_duplicate"])
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    # When the quality run executes
    services.quality_run(job=job, context=JobContext(job))
    # Then only the item the profiler flagged carries the "profile_flag" reason and is routed: the near duplicate
    # is what the dashboard's flag counts (which leave duplicates out) say, not a profiling flag
    kinds = dict(Item.objects.filter(project=project).values_list("pk", "issue_kinds"))
    assert "profile_flag" not in (kinds[items[0].pk] or [])
    assert "profile_flag" in (kinds[items[1].pk] or [])
    assert QualityReport.objects.get(job=job).n_routed_to_review == 1
    assert review_queue_total(project=project) == 1
    # and the queue's "profiling flag" filter counts that one item too
    assert review_queue_counts(project=project)["profile_flag"] == 1
