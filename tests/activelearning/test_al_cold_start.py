"""Before a model exists: the cold-start rule orders the pool; the train trigger counts labels idempotently."""

import pytest

from activelearning import priority, services
from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import ModelVersion
from activelearning.services import scoring
from annotation.hooks import ITEMS_LABELLED_HANDLERS
from annotation.models import Item, ItemStatus
from annotation.services.queue import assignment_next_for_annotator
from core.errors import Conflict
from core.models import Job, JobStatus
from tests.activelearning.al_helpers import LABELS, al_project
from tests.activelearning.test_al_train import run_train
from tests.factories import add_member

pytestmark = pytest.mark.django_db


def _priorities(project):
    return dict(Item.objects.filter(project=project).values_list("external_id", "priority"))


def test_cold_start_before_any_label_puts_a_diverse_batch_first(monkeypatch):
    monkeypatch.setattr(scoring, "BATCH_SIZE", 5)
    # Given 30 unlabelled items in three word clusters and no labels at all
    project, _, pool = al_project(n_labelled_per_label=0, n_pool_per_label=10)
    # When a train job runs
    _, result = run_train(project, seed=7)
    # Then no model is made; five items are lifted to the batch band and the rest get random pool places
    assert result["mode"] == "cold_start" and "10 labelled items" in result["reason"]
    assert not ModelVersion.objects.filter(project=project).exists()
    values = _priorities(project)
    batch = sorted((p, e) for e, p in values.items() if p >= priority.BAND_BATCH)
    assert result["n_batch"] == len(batch) == 5 and result["n_pool"] == 30
    assert all(priority.BAND_BATCH <= p < priority.BAND_BATCH + 1 for p, _ in batch)
    assert len({round(p, 9) for p in values.values()}) == 30  # a strict order, no ties
    # and the batch spans all three clusters (k-means++ seeding on the features)
    assert {external_id.split("-")[1] for _, external_id in batch} == set(LABELS)
    # and the same seed gives the same order
    run_train(project, seed=7)
    assert _priorities(project) == values
    # and next serves the top of the batch
    top = max(values, key=values.get)
    assert assignment_next_for_annotator(project=project, user=add_member(project)).item.external_id == top


def test_too_few_labels_fall_back_to_cold_start_with_the_reason():
    project, _, _ = al_project(n_labelled_per_label=3)
    _, result = run_train(project)
    assert result["mode"] == "cold_start"
    assert result["reason"].endswith("there are 9.")


def test_a_project_with_one_label_in_use_is_not_trained():
    project, labelled, _ = al_project(n_labelled_per_label=5)
    Item.objects.filter(pk__in=[i.pk for i in labelled]).update(consensus_label="pos")
    _, result = run_train(project)
    assert result["mode"] == "cold_start" and "two different labels" in result["reason"]


def test_multi_label_projects_are_ordered_by_the_cold_start_rule_only():
    project, _, _ = al_project(multi_label=True)
    _, result = run_train(project)
    assert result["mode"] == "cold_start" and "Multi-label" in result["reason"]


def test_the_trigger_starts_one_job_per_rescore_every_new_labels():
    # Given rescore_every = 4 and 3 labelled items
    project, labelled, pool = al_project(n_labelled_per_label=1, rescore_every=4)

    def label(items):
        Item.objects.filter(pk__in=[i.pk for i in items]).update(
            status=ItemStatus.LABELLED, consensus_label="pos"
        )

    assert services.model_train_trigger(project_id=project.pk) is None
    # When a fourth item is labelled the threshold is crossed: one job, repeated calls add none
    label(pool[:1])
    job = services.model_train_trigger(project_id=project.pk)
    assert job is not None and job.params == {
        "strategy": "margin",
        "seed": 0,
        "n_labelled": 4,
        "trigger": "labels",
    }
    assert services.model_train_trigger(project_id=project.pk) is None
    label(pool[1:9])
    assert services.model_train_trigger(project_id=project.pk) is None  # still queued
    with pytest.raises(Conflict):
        services.model_train_start(project=project, user=project.created_by)
    # When that job is finished, the 8 labels since its start (≥ 4) start the next one
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    second = services.model_train_trigger(project_id=project.pk)
    assert second is not None and second.params["n_labelled"] == 12
    Job.objects.filter(pk=second.pk).update(status=JobStatus.FAILED)
    # and after it (even failed) nothing new happens until 4 more items are labelled
    assert services.model_train_trigger(project_id=project.pk) is None
    assert Job.objects.filter(project=project, kind=TRAIN_JOB).count() == 2


def test_rescore_every_zero_turns_the_trigger_off():
    project, _, _ = al_project(rescore_every=0)
    assert services.model_train_trigger(project_id=project.pk) is None


def test_the_label_hook_is_registered():
    assert "activelearning.services.jobs.items_labelled_process" in ITEMS_LABELLED_HANDLERS
