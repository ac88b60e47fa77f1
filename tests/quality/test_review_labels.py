"""Label-schema changes: add, rename, merge — recorded with history, annotations mapped (never rewritten), quality
recomputed on the mapped labels; label examples."""

import pytest

from annotation.models import Annotation, Item, ItemStatus, Label
from annotation.selectors import compose_mappings, label_classes, label_mapping_for
from core.errors import NotFound, ValidationFailed
from core.jobs import JobContext
from core.models import Job
from quality import services as quality_services
from quality.adapters import project_data_load
from quality.job_kinds import QUALITY_JOB
from quality.models import LabelExample, LabelSchemaChange, QualityReport
from quality.review import services
from quality.review.selectors import label_examples_for
from tests.factories import add_items, make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db

LABELS = ("scratch_deep", "scratch_light", "dent", "ok")
# Annotators split between the two scratch kinds on items 0 and 1; item 2 is clear.
VOTES = [
    ["scratch_deep", "scratch_light", "scratch_deep"],
    ["scratch_light", "scratch_deep", "scratch_light"],
    ["dent", "dent", "ok"],
]


def _project():
    project, items, annotators = votes_project(
        make_project, VOTES, labels=LABELS, consensus_method="majority_vote"
    )
    return project, items, annotators, project.created_by


def _run_quality(project):
    job = quality_services.quality_run_create(project=project, user=project.created_by, n_boot=0)
    quality_services.quality_run(job=job, context=JobContext(job))
    Job.objects.filter(pk=job.pk).update(
        status="succeeded"
    )  # run inline here: mark it done as job_execute would
    return QualityReport.objects.get(job=job)


def test_merge_maps_annotations_without_rewriting_them_and_agreement_rises():
    # Given the split votes: percent agreement before = mean(1/3, 1/3, 1/3) = 1/3
    project, items, _, manager = _project()
    before = _run_quality(project)
    assert before.percent_agreement == pytest.approx(1 / 3)
    stored = list(Annotation.objects.order_by("id").values_list("labels", flat=True))
    # When the two scratch kinds are merged into a new "scratch" (added first)
    services.label_add(project=project, author=manager, value="scratch", note="one class")
    change, message = services.label_merge(
        project=project, author=manager, labels=["scratch_deep", "scratch_light"], into="scratch"
    )
    # Then the change is recorded with its mapping and a quality run was enqueued
    assert change.kind == "merge" and change.mapping == {
        "scratch_deep": "scratch",
        "scratch_light": "scratch",
    }
    assert change.quality_job is not None and change.quality_job.kind == QUALITY_JOB
    assert "recomputed" in message
    # and the merged labels are retired, the annotations untouched
    active = set(Label.objects.filter(project=project, is_active=True).values_list("value", flat=True))
    assert active == {"dent", "ok", "scratch"}
    assert list(Annotation.objects.order_by("id").values_list("labels", flat=True)) == stored
    # and the quality adapter reads them as "scratch": items 0 and 1 are now unanimous
    assert label_classes(project=project) == ["dent", "ok", "scratch"]
    data = project_data_load(project=project)
    assert data.table.n_classes == 3
    assert set(data.table.label[data.table.item < 2].tolist()) == {2}
    # and the recomputed agreement is mean(1, 1, 1/3) = 7/9
    job = Job.objects.get(pk=change.quality_job_id)
    quality_services.quality_run(job=job, context=JobContext(job))
    after = QualityReport.objects.get(job=job)
    assert after.percent_agreement == pytest.approx(7 / 9)
    assert set(after.per_label) == {"dent", "ok", "scratch"}


def test_merge_remaps_final_and_consensus_labels_but_not_decisions():
    project, items, _, manager = _project()
    Item.objects.filter(pk=items[0].pk).update(
        final_label="scratch_deep", consensus_label="scratch_deep", status=ItemStatus.ACCEPTED
    )
    services.label_merge(project=project, author=manager, labels=["scratch_deep"], into="scratch_light")
    item = Item.objects.get(pk=items[0].pk)
    assert (item.final_label, item.consensus_label) == ("scratch_light", "scratch_light")


def test_merging_into_itself_or_a_missing_label_is_refused():
    project, _, _, manager = _project()
    with pytest.raises(ValidationFailed) as error:
        services.label_merge(project=project, author=manager, labels=["dent", "ok"], into="dent")
    assert error.value.field == "into" and "itself" in error.value.message
    with pytest.raises(ValidationFailed) as error:
        services.label_merge(project=project, author=manager, labels=["dent"], into="scratch")
    assert error.value.field == "into" and "add it first" in error.value.message
    with pytest.raises(ValidationFailed) as error:
        services.label_merge(project=project, author=manager, labels=["nope"], into="dent")
    assert error.value.field == "labels"
    with pytest.raises(ValidationFailed) as error:
        services.label_merge(project=project, author=manager, labels=[], into="dent")
    assert error.value.field == "labels"
    # and nothing changed
    assert not LabelSchemaChange.objects.exists()
    assert Label.objects.filter(project=project, is_active=True).count() == 4


def test_a_merge_may_not_leave_a_single_label_project_with_one_label():
    project = make_project(labels=("a", "b", "c"))
    with pytest.raises(ValidationFailed) as error:
        services.label_merge(project=project, author=project.created_by, labels=["a", "b"], into="c")
    assert "at least two labels" in error.value.message


def test_rename_keeps_hotkey_and_order_and_maps_old_annotations():
    project, items, _, manager = _project()
    old = Label.objects.get(project=project, value="dent")
    change, _ = services.label_rename(
        project=project, author=manager, label="dent", to="bump", note="plain words"
    )
    new = Label.objects.get(project=project, value="bump")
    assert (new.hotkey, new.order, new.is_active) == (old.hotkey, old.order, True)
    assert not Label.objects.get(pk=old.pk).is_active
    assert change.mapping == {"dent": "bump"} and change.note == "plain words"
    data = project_data_load(project=project)
    bump = data.label_values.index("bump")
    assert (data.table.label[data.table.item == 2] == bump).sum() == 2  # the two "dent" votes
    with pytest.raises(ValidationFailed) as error:
        services.label_rename(project=project, author=manager, label="bump", to="ok")
    assert error.value.field == "to"
    with pytest.raises(ValidationFailed) as error:
        services.label_rename(project=project, author=manager, label="dent", to="x")
    assert error.value.field == "label"  # retired now


def test_chained_changes_resolve_to_the_current_label():
    project, _, _, manager = _project()
    services.label_rename(project=project, author=manager, label="scratch_deep", to="deep")
    services.label_merge(project=project, author=manager, labels=["deep"], into="scratch_light")
    assert label_mapping_for(project=project) == {"scratch_deep": "scratch_light", "deep": "scratch_light"}
    assert compose_mappings([{"a": "b"}, {"b": "c"}, {"c": "a"}]) == {"b": "a", "c": "a"}


def test_add_picks_a_free_hotkey_outside_review_keys_and_refuses_duplicates():
    project = make_project(labels=("pos", "neg"))
    change = services.label_add(project=project, author=project.created_by, value="borderline")
    label = Label.objects.get(project=project, value="borderline")
    assert change.kind == "add" and change.mapping == {} and change.quality_job is None
    assert label.hotkey == "3" and label.order == 2  # pos=1, neg=2 → 3 is free
    with pytest.raises(ValidationFailed) as error:
        services.label_add(project=project, author=project.created_by, value="borderline")
    assert error.value.field == "value"
    with pytest.raises(ValidationFailed) as error:
        services.label_add(project=project, author=project.created_by, value="other", hotkey="1")
    assert error.value.field == "hotkey"
    with pytest.raises(ValidationFailed) as error:
        services.label_add(project=project, author=project.created_by, value="   ")
    assert error.value.field == "value"


def test_schema_change_during_a_quality_run_says_to_run_again():
    project, _, _, manager = _project()
    quality_services.quality_run_create(project=project, user=manager)  # queued, not finished
    change, message = services.label_merge(
        project=project, author=manager, labels=["scratch_deep"], into="scratch_light"
    )
    assert change.quality_job is None and "already in progress" in message
    assert Label.objects.get(project=project, value="scratch_deep").is_active is False


def test_schema_change_without_annotations_enqueues_no_run():
    project = make_project(labels=("a", "b", "c"))
    change, message = services.label_merge(project=project, author=project.created_by, labels=["a"], into="b")
    assert change.quality_job is None and "nothing to recompute" in message


def test_label_examples_are_idempotent_follow_merges_and_hide_open_items_from_annotators():
    project, items, _, manager = _project()
    Item.objects.filter(pk=items[0].pk).update(status=ItemStatus.ACCEPTED)
    example, created = services.label_example_add(
        project=project, user=manager, item_id=items[0].pk, label="scratch_deep"
    )
    again, created_again = services.label_example_add(
        project=project, user=manager, item_id=items[0].pk, label="scratch_deep"
    )
    assert created and not created_again and again.pk == example.pk
    # an item still open cannot become an example
    add_items(project, 1, prefix="open")
    open_item = Item.objects.get(project=project, external_id="open0")
    with pytest.raises(ValidationFailed) as error:
        services.label_example_add(project=project, user=manager, item_id=open_item.pk, label="dent")
    assert error.value.field == "item"
    with pytest.raises(ValidationFailed):
        services.label_example_add(project=project, user=manager, item_id=items[1].pk, label="nope")
    with pytest.raises(NotFound):
        services.label_example_add(project=project, user=manager, item_id=10**9, label="dent")
    # merging moves the example to the target label
    services.label_merge(project=project, author=manager, labels=["scratch_deep"], into="scratch_light")
    groups = {
        g["label"].value: g["examples"] for g in label_examples_for(project=project, for_annotators=True)
    }
    assert [e.item_id for e in groups["scratch_light"]] == [items[0].pk]
    # an example whose item goes back to annotation is hidden from annotators but not from reviewers
    Item.objects.filter(pk=items[0].pk).update(status=ItemStatus.IN_PROGRESS)
    groups = {
        g["label"].value: g["examples"] for g in label_examples_for(project=project, for_annotators=True)
    }
    assert groups["scratch_light"] == []
    groups = {
        g["label"].value: g["examples"] for g in label_examples_for(project=project, for_annotators=False)
    }
    assert len(groups["scratch_light"]) == 1
    services.label_example_remove(project=project, example_id=example.pk)
    assert not LabelExample.objects.exists()
