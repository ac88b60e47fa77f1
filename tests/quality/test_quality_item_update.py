import pytest

from annotation.hooks import ITEMS_LABELLED_HANDLERS
from annotation.models import Item, ItemStatus
from core.models import Job
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from quality.services import item_consensus_update
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db


def test_quality_app_registers_the_item_labelled_hook():
    assert "quality.services.items.items_consensus_update" in ITEMS_LABELLED_HANDLERS


def test_split_votes_route_a_labelled_item_to_review_by_majority_without_a_report():
    # Given an item with one vote each for pos and neg and no quality report yet
    project, (item,), _ = votes_project(make_project, [["pos", "neg"]], k=2)
    # When the per-item update runs
    summary = item_consensus_update(project_id=project.pk, item_id=item.pk)
    # Then the majority tie goes to the first label, at half confidence, and the item needs review
    item.refresh_from_db()
    assert (item.consensus_label, item.consensus_confidence) == ("pos", 0.5)
    assert item.status == ItemStatus.NEEDS_REVIEW
    assert set(item.issue_kinds) == {"low_consensus_confidence", "annotators_split"}
    assert not item.is_label_issue  # a split says "look", not "this label is wrong"
    assert summary["tie"] and summary["moved"]


def test_unanimous_item_stays_labelled_and_a_repeat_changes_nothing():
    # Given a unanimous item
    project, (item,), _ = votes_project(make_project, [["neg", "neg", "neg"]])
    # When the update runs twice (a redelivered task)
    item_consensus_update(project_id=project.pk, item_id=item.pk)
    first = (
        Item.objects.filter(pk=item.pk)
        .values("consensus_label", "consensus_confidence", "status", "is_label_issue", "issue_kinds")
        .get()
    )
    item_consensus_update(project_id=project.pk, item_id=item.pk)
    second = (
        Item.objects.filter(pk=item.pk)
        .values("consensus_label", "consensus_confidence", "status", "is_label_issue", "issue_kinds")
        .get()
    )
    # Then it has full confidence, stays labelled, and the second run wrote the same values
    assert (
        first
        == second
        == {
            "consensus_label": "neg",
            "consensus_confidence": 1.0,
            "status": ItemStatus.LABELLED,
            "is_label_issue": False,
            "issue_kinds": [],
        }
    )


def test_stored_dawid_skene_weights_let_a_reliable_annotator_outvote_two_random_ones():
    # Given a1 and a2 said pos, the reliable a0 said neg
    project, (item,), (a0, a1, a2) = votes_project(make_project, [["neg", "pos", "pos"]])
    reliable = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
    random = [[1 / 3] * 3] * 3
    job = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
    QualityReport.objects.create(
        project=project,
        job=job,
        consensus_method="dawid_skene",
        consensus_params={
            "method": "dawid_skene",
            "user_ids": [a0.pk, a1.pk, a2.pk],
            "label_values": ["pos", "neg", "neutral"],
            "confusion": [reliable, random, random],
            "priors": [1 / 3] * 3,
        },
    )
    # When the per-item update runs
    item_consensus_update(project_id=project.pk, item_id=item.pk)
    # Then the posterior is a0's row: neg with 0.9 / (0.9 + 0.05 + 0.05) = 0.9
    item.refresh_from_db()
    assert item.consensus_label == "neg"
    assert item.consensus_confidence == pytest.approx(0.9)
    # and a minority beating the majority is never silent: the item says why and goes to review
    assert item.issue_kinds == ["model_overrides_annotators"]
    assert item.consensus_suggestion is None
    assert item.status == ItemStatus.NEEDS_REVIEW


@pytest.mark.parametrize("model_aware", [True, False])
def test_a_model_aware_fit_lets_the_items_model_probabilities_break_a_split(model_aware):
    # Given two equally reliable annotators split pos / neg, a model that says neg, and a last quality run whose
    # Dawid–Skene fit was (or was not) model-aware
    project, (item,), (a0, a1) = votes_project(make_project, [["pos", "neg"]], k=2)
    Item.objects.filter(pk=item.pk).update(predicted_probs={"pos": 0.1, "neg": 0.8, "neutral": 0.1})
    same = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    params = {
        "method": "dawid_skene",
        "user_ids": [a0.pk, a1.pk],
        "label_values": ["pos", "neg", "neutral"],
        "confusion": [same, same],
        "priors": [1 / 3] * 3,
    }
    if model_aware:
        params["item_prior"] = "model"
    job = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
    QualityReport.objects.create(
        project=project, job=job, consensus_method="crowdlab", consensus_params=params
    )
    # When the per-item update runs
    item_consensus_update(project_id=project.pk, item_id=item.pk)
    item.refresh_from_db()
    if model_aware:
        # Then the model's prior decides: neg ∝ 0.8·0.1·0.8 = 0.064 against pos 0.008 and neutral 0.001
        assert item.consensus_label == "neg"
        assert item.consensus_confidence == pytest.approx(0.064 / 0.073, rel=1e-4)
    else:
        # Then the class priors are flat and the split is a tie, broken towards the first label
        assert item.consensus_label == "pos"
        assert item.consensus_confidence == pytest.approx(0.008 / (0.008 + 0.008 + 0.001), rel=1e-4)


def test_update_ignores_discarded_and_missing_items():
    project, (item,), _ = votes_project(make_project, [["pos", "neg"]])
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.DISCARDED)
    assert item_consensus_update(project_id=project.pk, item_id=item.pk) is None
    assert item_consensus_update(project_id=project.pk, item_id=item.pk + 999) is None
    assert Item.objects.get(pk=item.pk).consensus_label is None
