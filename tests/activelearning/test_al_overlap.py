"""Adaptive overlap: disputed items get more annotations (job pass and label hook), agreeing ones do not;
early stopping settles easy items on two agreeing votes when the model is confident."""

import numpy as np
import pytest

from activelearning import priority, services
from activelearning.models import Prediction
from activelearning.services import scoring
from annotation.models import Item, ItemStatus
from annotation.services.queue import assignment_next_for_annotator
from tests.activelearning.al_helpers import al_project, vote
from tests.activelearning.test_al_train import run_train
from tests.factories import add_member

pytestmark = pytest.mark.django_db


def _refresh(*items):
    return [Item.objects.get(pk=item.pk) for item in items]


def _labelled_with_votes(project, item, labels, consensus, **kwargs):
    vote(project, item, labels, **kwargs)
    # The quality layer's per-item hook would set the consensus; these tests run without it.
    Item.objects.filter(pk=item.pk).update(consensus_label=consensus)


def test_training_raises_the_target_of_a_disputed_item_and_not_of_an_agreeing_one(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given a trained project whose pool items p0 and p1 were then labelled by three annotators each:
    # p0 split three ways (no majority), p1 unanimous
    project, _, pool = al_project(k=3, max_annotations_per_item=5)
    p0, p1 = pool[0], pool[1]
    _labelled_with_votes(project, p0, ["pos", "neg", "neutral"], "pos")
    _labelled_with_votes(project, p1, ["neg", "neg", "neg"], "neg")
    assert [i.status for i in _refresh(p0, p1)] == [ItemStatus.LABELLED, ItemStatus.LABELLED]
    # When a training job runs
    _, result = run_train(project)
    # Then p0 wants one more annotation and is back in the queue in the EXTRA band; p1 is untouched
    p0, p1 = _refresh(p0, p1)
    assert (p0.target_annotations, p0.status) == (4, ItemStatus.IN_PROGRESS)
    assert priority.BAND_EXTRA <= p0.priority < priority.BAND_EXTRA + 1
    assert (p1.target_annotations, p1.status) == (3, ItemStatus.LABELLED)
    assert result["n_reopened"] == 1 and result["n_checked"] == 2
    # and both carry ActiveLab relabel scores, the split one lower (another label is worth more there)
    scores = dict(Prediction.objects.filter(item__in=[p0, p1]).values_list("item_id", "relabel_score"))
    assert scores[p0.pk] < scores[p1.pk]
    assert p0.priority == pytest.approx(priority.BAND_EXTRA + 1 - scores[p0.pk])
    # and the next annotator is served p0 before any pool item
    assignment = assignment_next_for_annotator(project=project, user=add_member(project))
    assert assignment.item_id == p0.pk


def test_a_training_run_killed_before_its_version_is_stored_reopens_nothing_and_the_retry_matches(
    monkeypatch,
):
    from activelearning.models import ModelVersion
    from activelearning.services import training

    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given a trained project whose pool item p0 was then split three ways by three annotators (a fourth one
    # has not seen it)
    project, _, pool = al_project(k=3, max_annotations_per_item=5)
    p0 = pool[0]
    _labelled_with_votes(project, p0, ["pos", "neg", "neutral"], "pos")
    add_member(project)
    versions_before = ModelVersion.objects.filter(project=project).count()
    _, undisturbed = run_train(project)  # what an undisturbed run trains on (it reopens p0; undo that)
    Item.objects.filter(pk=p0.pk).update(status=ItemStatus.LABELLED, target_annotations=3)
    ModelVersion.objects.filter(pk=undisturbed["model_version"]).delete()
    # When a training run dies after adaptive overlap decided to reopen p0 but before its version is stored
    real_store = training._version_store

    def dies(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(training, "_version_store", dies)
    with pytest.raises(RuntimeError, match="worker killed"):
        run_train(project)
    # Then p0 was not reopened (it would drop out of the retry's training set) and no version exists
    (p0,) = _refresh(p0)
    assert (p0.status, p0.target_annotations) == (ItemStatus.LABELLED, 3)
    assert ModelVersion.objects.filter(project=project).count() == versions_before
    # And the retry trains on the same items as an undisturbed run would, then reopens p0
    monkeypatch.setattr(training, "_version_store", real_store)
    _, retry = run_train(project)
    (p0,) = _refresh(p0)
    assert (p0.status, p0.target_annotations) == (ItemStatus.IN_PROGRESS, 4)
    assert retry["n_train"] == undisturbed["n_train"]
    assert retry["n_reopened"] == undisturbed["n_reopened"] == 1


def test_the_label_hook_reopens_a_split_item_up_to_the_maximum_only():
    # Given k = 3, at most 4 annotations, an item split 1–1–1 and an annotator who has not seen it
    project, _, pool = al_project(k=3, max_annotations_per_item=4)
    item = pool[0]
    vote(project, item, ["pos", "neg", "neutral"])
    add_member(project)
    # When the hook runs for it
    outcome = services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)
    # Then it wants a fourth annotation
    assert outcome["target"] == 4
    assert (_refresh(item)[0].target_annotations, _refresh(item)[0].status) == (4, ItemStatus.IN_PROGRESS)
    # and running the hook again before that vote changes nothing (the item is in progress)
    assert (
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)["target"]
        is None
    )
    # When the fourth vote leaves it at 1 pos, 1 neg, 2 neutral — 2 of 4 is no strict majority — at the cap
    vote(project, item, ["neutral"])
    assert _refresh(item)[0].status == ItemStatus.LABELLED
    # Then nothing more is asked
    assert (
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)["target"]
        is None
    )
    assert _refresh(item)[0].target_annotations == 4


def test_the_hook_leaves_an_item_with_a_reviewer_decision_alone():
    project, _, pool = al_project(k=3)
    item = pool[0]
    vote(project, item, ["pos", "neg", "neutral"])
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.ACCEPTED, final_label="pos")
    assert (
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)["target"]
        is None
    )
    assert _refresh(item)[0].target_annotations == 3


def test_unsure_votes_do_not_count_towards_the_majority():
    # Given k = 3 with one of three votes unsure: two sure votes that agree
    project, _, pool = al_project(k=3, max_annotations_per_item=5)
    item = pool[0]
    vote(project, item, ["pos", "pos", "neg"], unsure=(2,))
    add_member(project)  # someone who can give it
    # Then only two sure votes count (< k), so one more is wanted on top of the three annotations
    assert (
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)["target"] == 4
    )


def test_early_stopping_settles_two_agreeing_votes_when_the_model_is_confident():
    # Given early stopping, k = 3, and two items lowered to a target of 2 that got two votes each
    project, _, pool = al_project(k=3, early_stopping=True)
    agree, split = pool[0], pool[1]
    Item.objects.filter(pk__in=[agree.pk, split.pk]).update(target_annotations=2)
    confident = {"pos": 0.95, "neg": 0.03, "neutral": 0.02}
    Item.objects.filter(pk__in=[agree.pk, split.pk]).update(predicted_probs=confident)
    vote(project, agree, ["pos", "pos"])
    vote(project, split, ["pos", "neg"])
    # When the hook runs for both
    for item in (agree, split):
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)
    # Then the agreeing pair is settled; the split pair is reopened for the k-th vote
    agree, split = _refresh(agree, split)
    assert (agree.target_annotations, agree.status) == (2, ItemStatus.LABELLED)
    assert (split.target_annotations, split.status) == (3, ItemStatus.IN_PROGRESS)


def test_early_stopping_needs_a_confident_model_that_agrees():
    project, _, pool = al_project(k=3, early_stopping=True)
    unsure_model, other_label = pool[0], pool[1]
    Item.objects.filter(pk__in=[unsure_model.pk, other_label.pk]).update(target_annotations=2)
    Item.objects.filter(pk=unsure_model.pk).update(predicted_probs={"pos": 0.6, "neg": 0.3, "neutral": 0.1})
    Item.objects.filter(pk=other_label.pk).update(predicted_probs={"pos": 0.02, "neg": 0.96, "neutral": 0.02})
    vote(project, unsure_model, ["pos", "pos"])
    vote(project, other_label, ["pos", "pos"])
    for item in (unsure_model, other_label):
        services.item_labelled_process(project_id=project.pk, item_id=item.pk, confidence=0.9)
    assert [i.target_annotations for i in _refresh(unsure_model, other_label)] == [3, 3]


def test_training_with_early_stopping_lowers_targets_of_confident_new_items_only(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 4)
    # Given early stopping and one pool item already leased (in progress)
    project, _, pool = al_project(k=3, early_stopping=True, n_labelled_per_label=10)
    leased = assignment_next_for_annotator(project=project, user=add_member(project)).item
    # When the model is trained
    _, result = run_train(project)
    # Then exactly the new pool items whose top probability is ≥ 0.9 need two votes; the rest keep k = 3
    items = {i.pk: i for i in Item.objects.filter(pk__in=[p.pk for p in pool])}
    top = {p.item_id: float(np.max(p.probabilities)) for p in Prediction.objects.filter(item__in=pool)}
    lowered = {pk for pk, item in items.items() if item.target_annotations == 2}
    expected = {pk for pk in top if top[pk] >= scoring.CONFIDENT and items[pk].status == ItemStatus.NEW}
    assert lowered == expected and result["n_target_lowered"] == len(expected) > 0
    assert items[leased.pk].target_annotations == 3
    # When early stopping is switched off and the model retrained, the targets go back to k
    project.early_stopping = False
    project.save(update_fields=["early_stopping"])
    _, result = run_train(project)
    assert result["n_target_restored"] == len(expected)
    assert set(Item.objects.filter(pk__in=items).values_list("target_annotations", flat=True)) == {3}
