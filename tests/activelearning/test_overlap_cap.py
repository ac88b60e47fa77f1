"""Adaptive overlap never asks for more annotations than the project's annotators can still give: a disputed item
nobody is left to ask goes to review instead of waiting in the queue forever (label hook and training pass), and
over random crowds, k, maxima, votes and skips the queue always finishes."""

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activelearning import adapters, services
from activelearning.services import targets
from annotation.models import Item, ItemStatus
from annotation.selectors import label_schema_for, progress_for_annotator
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator, assignment_skip
from tests.activelearning.al_helpers import vote
from tests.factories import add_items, add_member, make_project

pytestmark = pytest.mark.django_db


def _project_with_one_item(**fields):
    project = make_project(k=3, max_annotations_per_item=5, **fields)
    add_items(project, 1)
    return project, Item.objects.get(project=project)


def _hook(project, item):
    return services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)["target"]


def test_a_split_item_with_nobody_left_to_ask_goes_to_review_instead_of_back_to_the_queue():
    # Given k = 3 (up to 5) and exactly three annotators, who split the item three ways
    project, item = _project_with_one_item()
    vote(project, item, ["pos", "neg", "neutral"])
    # When the label hook runs
    target = _hook(project, item)
    # Then no fourth annotation is asked (nobody could give it) and a reviewer decides
    item = Item.objects.get(pk=item.pk)
    assert target is None
    assert (item.status, item.target_annotations) == (ItemStatus.NEEDS_REVIEW, 3)
    # And once a fourth annotator exists, the hook (on the item in review, without a decision) asks them
    add_member(project)
    assert _hook(project, item) == 4
    assert Item.objects.get(pk=item.pk).status == ItemStatus.IN_PROGRESS


def test_the_hook_raises_a_target_only_as_far_as_the_annotators_left_can_go():
    # Given three votes of which two are unsure: the rule wants two more sure votes (3 + 2 = 5, the maximum)
    project, item = _project_with_one_item()
    vote(project, item, ["pos", "pos", "neg"], unsure=(0, 1))
    # and one annotator who has not seen the item
    add_member(project)
    # When the hook runs, the target rises to 4 only
    assert _hook(project, item) == 4


def test_the_training_pass_caps_targets_and_sends_stranded_disputes_to_review():
    # Given two items the same three annotators split three ways, and one agreed on
    project = make_project(k=3, max_annotations_per_item=5)
    add_items(project, 3)
    split_a, split_b, agreed = Item.objects.filter(project=project).order_by("id")
    crowd = [add_member(project) for _ in range(3)]
    vote(project, split_a, ["pos", "neg", "neutral"], annotators=crowd)
    vote(project, split_b, ["neg", "pos", "neutral"], annotators=crowd)
    vote(project, agreed, ["pos", "pos", "pos"], annotators=crowd)
    schema = label_schema_for(project=project)

    def overlap_pass():
        votes = adapters.votes_load(project=project, index=schema.index, statuses=adapters.OVERLAP_STATUSES)
        return targets.overlap_apply(
            project=project,
            votes=votes,
            n_classes=len(schema.values),
            proba_by_item={},
            relabel_by_item={},
            confidence=0.9,
        )

    # When the training job's overlap pass runs
    result = overlap_pass()
    # Then nothing is reopened: both split items go to review, the agreed one stays labelled
    assert (result["n_reopened"], result["n_disputed_to_review"]) == (0, 2)
    statuses = dict(Item.objects.filter(project=project).values_list("id", "status"))
    assert statuses == {
        split_a.pk: ItemStatus.NEEDS_REVIEW,
        split_b.pk: ItemStatus.NEEDS_REVIEW,
        agreed.pk: ItemStatus.LABELLED,
    }
    # And once a fourth annotator joins, the next pass asks them for the split items (in review, no decision yet)
    add_member(project)
    result = overlap_pass()
    assert result["n_reopened"] == 2
    assert set(
        Item.objects.filter(pk__in=[split_a.pk, split_b.pk]).values_list("status", "target_annotations")
    ) == {(ItemStatus.IN_PROGRESS, 4)}


ACTIONS = ("pos", "neg", "neutral", "skip")


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n_annotators=st.integers(1, 5),
    k=st.integers(1, 4),
    extra=st.integers(0, 2),
    n_items=st.integers(1, 3),
    data=st.data(),
)
def test_over_random_crowds_targets_stay_reachable_and_the_queue_always_finishes(
    n_annotators, k, extra, n_items, data
):
    # Given a project with random k, maximum and crowd size
    project = make_project(k=k, max_annotations_per_item=k + extra, rescore_every=0)
    add_items(project, n_items)
    crowd = [add_member(project) for _ in range(n_annotators)]
    served_to: dict[int, set[int]] = defaultdict(set)  # item -> annotators it was served to (counted here)
    hooked: dict[int, int] = {}

    def run_hooks():
        # What the worker does after each label: the hook for every item that is labelled at a new count
        for item in Item.objects.filter(project=project, status=ItemStatus.LABELLED):
            if hooked.get(item.pk) == item.annotation_count:
                continue
            hooked[item.pk] = item.annotation_count
            target = _hook(project, item)
            if target is not None:
                # Then every raised target is within reach of the annotators the item was not yet served to
                left = n_annotators - len(served_to[item.pk])
                assert item.annotation_count < target <= min(item.annotation_count + left, k + extra)

    # When the crowd labels or skips (at random) whatever it is served, until nobody is served anything
    for _ in range(4 * n_items * (n_annotators + k + extra)):
        served = 0
        for position, user in enumerate(crowd):
            lease = assignment_next_for_annotator(project=project, user=user)
            if lease is None:
                continue
            served += 1
            served_to[lease.item_id].add(position)
            action = data.draw(st.sampled_from(ACTIONS))
            if action == "skip":
                assignment_skip(project=project, user=user, assignment_id=lease.pk)
            else:
                annotation_submit(
                    project=project, user=user, data=AnnotationInput(item_id=lease.item_id, labels=[action])
                )
            run_hooks()
        if not served:
            run_hooks()
            if all(assignment_next_for_annotator(project=project, user=user) is None for user in crowd):
                break
    # Then no item is left new or in progress, and nobody's page counts an item left
    statuses = list(Item.objects.filter(project=project).values_list("status", flat=True))
    assert set(statuses) <= {ItemStatus.LABELLED, ItemStatus.NEEDS_REVIEW}
    assert [progress_for_annotator(project=project, user=user)["left"] for user in crowd] == [
        0
    ] * n_annotators
    # and every item got every annotator's vote or skip, or reached its target
    for item in Item.objects.filter(project=project):
        assert len(served_to[item.pk]) == n_annotators or item.annotation_count >= item.target_annotations
    # and no target exceeds the project's maximum
    assert np.max([item.target_annotations for item in Item.objects.filter(project=project)]) <= k + extra
