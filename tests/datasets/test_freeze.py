"""Freezing versions: selection, stratified stable splits, lineage, checksum, atomicity, immutability."""

import hashlib
from collections import Counter

import pytest
from django.db import IntegrityError, connection, transaction

from annotation.models import Annotation, Item, ItemStatus
from annotation.services.annotations import AnnotationInput, annotation_submit
from core.models import Job
from datasets import services
from datasets.checksums import version_checksum_verify
from datasets.exporters import stream_jsonl
from datasets.models import DatasetEntry, DatasetVersion, SplitAssignment
from datasets.policy import policy_from_params
from datasets.services import dataset_version_freeze
from quality.job_kinds import QUALITY_JOB
from quality.review.services import review_decide
from quality.services import item_consensus_update
from tests.datasets.builders import body, freeze, labelled_items
from tests.factories import add_member, make_project
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db


def split_counter(version, label=None):
    entries = DatasetEntry.objects.filter(version=version)
    if label is not None:
        entries = entries.filter(label=label)
    return Counter(entries.values_list("split", flat=True))


def test_100_items_with_30_percent_positives_split_18_6_6_at_60_20_20():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 30, "neg": 70})
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    assert split_counter(version, "pos") == {"train": 18, "dev": 6, "test": 6}
    assert split_counter(version, "neg") == {"train": 42, "dev": 14, "test": 14}
    assert version.split_counts == {"train": 60, "dev": 20, "test": 20}
    assert version.split_label_counts["dev"] == {"pos": 6, "neg": 14}
    assert version.label_distribution == {"pos": 30, "neg": 70}


def test_30_positives_split_24_3_3_at_80_10_10():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 30, "neg": 70})
    version = freeze(project, splits={"train": 0.8, "dev": 0.1, "test": 0.1})
    assert split_counter(version, "pos") == {"train": 24, "dev": 3, "test": 3}
    assert split_counter(version, "neg") == {"train": 56, "dev": 7, "test": 7}


def test_selection_policy_excludes_discarded_open_issues_unfinished_and_low_confidence():
    # Given items in every state the policy distinguishes
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 10, "neg": 10}, confidence=0.9)
    Item.objects.filter(pk__in=ids[:2]).update(status=ItemStatus.DISCARDED)
    Item.objects.filter(pk__in=ids[2:4]).update(is_label_issue=True)
    Item.objects.filter(pk__in=ids[4:7]).update(consensus_confidence=0.5)
    Item.objects.filter(pk=ids[7]).update(status=ItemStatus.NEEDS_REVIEW)
    Item.objects.filter(pk=ids[8]).update(status=ItemStatus.ACCEPTED, final_label="neg", is_label_issue=True)
    Item.objects.filter(pk=ids[9]).update(
        status=ItemStatus.IN_PROGRESS, consensus_label=None, consensus_confidence=None
    )
    # When frozen with min_confidence 0.8
    version = freeze(project, min_confidence=0.8)
    # Then 20 - 2 discarded - 2 issues - 3 low - 1 needs review - 1 in progress = 11 entries, each status row
    # counting every item of that status
    assert version.n_entries == 11
    assert version.counts["excluded"] == {
        "discarded": 2,
        "in_progress": 1,
        "needs_review": 1,
        "open_issue": 2,
        "low_confidence": 3,
    }
    accepted = DatasetEntry.objects.get(version=version, item_id=ids[8])
    assert (accepted.label, accepted.label_source, accepted.confidence) == ("neg", "review", 1.0)
    consensus = DatasetEntry.objects.get(version=version, item_id=ids[10])
    assert (consensus.label, consensus.label_source, consensus.confidence) == ("neg", "consensus", 0.9)


def test_accepted_only_and_gold_exclusion():
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 4})
    Item.objects.filter(pk__in=ids[:2]).update(status=ItemStatus.ACCEPTED, final_label="neg")
    Item.objects.filter(pk=ids[0]).update(is_gold=True)
    assert freeze(project, accepted_only=True).n_entries == 2
    version = freeze(project, accepted_only=True, exclude_gold=True)
    assert list(DatasetEntry.objects.filter(version=version).values_list("item_id", flat=True)) == [ids[1]]
    assert version.counts["excluded"] == {"gold": 1, "not_accepted": 2}


def test_an_item_keeps_its_split_in_later_versions_and_newcomers_stay_stratified():
    # Given v1 of 50 items
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 20, "neg": 30}, prefix="a")
    v1 = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2}, seed=1)
    first = dict(DatasetEntry.objects.filter(version=v1).values_list("item_id", "split"))
    # When 50 more arrive and v2 is frozen with other ratios and another seed
    labelled_items(project, {"pos": 20, "neg": 30}, prefix="b")
    v2 = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2}, seed=99)
    second = dict(DatasetEntry.objects.filter(version=v2).values_list("item_id", "split"))
    # Then every v1 item has the same split in v2, and each label is still 60/20/20 overall
    assert {item: second[item] for item in first} == first
    assert split_counter(v2, "pos") == {"train": 24, "dev": 8, "test": 8}
    assert split_counter(v2, "neg") == {"train": 36, "dev": 12, "test": 12}
    assert v2.parent_id == v1.pk and v2.number == 2
    assert v2.counts["kept_split"] == 50 and v2.counts["newly_split"] == 50
    assert SplitAssignment.objects.filter(project=project).count() == 100


def test_checksum_is_the_sha256_of_the_jsonl_export_and_stable_across_exports_and_freezes():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 7, "neg": 5})
    Item.objects.filter(project=project).update(metadata={"source": "cam", "b": [1, 2.5]}, tags=["x"])
    v1 = freeze(project)
    first, second = body(stream_jsonl(version=v1)), body(stream_jsonl(version=v1))
    assert first == second
    assert hashlib.sha256(first).hexdigest() == v1.checksum
    v2 = freeze(project)
    assert v2.checksum == v1.checksum
    assert version_checksum_verify(version=v2) == {
        "checksum": v1.checksum,
        "computed": v1.checksum,
        "ok": True,
        "n_entries": 12,
    }


def test_checksum_changes_when_a_label_changes():
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 3})
    v1 = freeze(project)
    Item.objects.filter(pk=ids[0]).update(status=ItemStatus.ACCEPTED, final_label="neg")
    assert freeze(project).checksum != v1.checksum


def test_entries_carry_lineage_annotations_decision_and_guideline_version():
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 2})
    annotators = [add_member(project) for _ in range(2)]
    made = [
        Annotation.objects.create(
            project=project, item_id=ids[0], annotator=user, labels=["pos"], guideline_version=1
        )
        for user in annotators
    ]
    old = Annotation.objects.create(
        project=project, item_id=ids[1], annotator=annotators[0], labels=["neg"], is_live=False
    )
    version = freeze(project)
    entry = DatasetEntry.objects.get(version=version, item_id=ids[0])
    assert entry.annotation_ids == [a.pk for a in made]
    assert entry.guideline_version == 1
    other = DatasetEntry.objects.get(version=version, item_id=ids[1])
    assert old.pk not in other.annotation_ids and other.annotation_ids == []
    assert version.guideline_version == 1


def test_quality_figures_come_from_the_latest_quality_report():
    from django.apps import apps

    report_model = apps.get_model("quality", "QualityReport")
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 2})
    names = {f.name for f in report_model._meta.concrete_fields}
    for alpha, hlp, accuracy in ((0.1, 0.2, 0.3), (0.71, 0.84, 0.9)):  # older, then the latest
        extra: dict = {}
        if "job" in names:
            extra["job"] = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
        if "consensus_method" in names:
            extra["consensus_method"] = "majority_vote"
        report_model.objects.create(
            project=project, krippendorff_alpha=alpha, hlp=hlp, model_accuracy=accuracy, **extra
        )
    metrics = freeze(project).metrics
    assert (metrics["krippendorff_alpha"], metrics["hlp"], metrics["model_accuracy"]) == (0.71, 0.84, 0.9)


def test_metrics_are_null_without_a_quality_report():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 2})
    metrics = freeze(project).metrics
    assert (
        metrics["krippendorff_alpha"] is None and metrics["hlp"] is None and metrics["model_accuracy"] is None
    )


def test_an_interrupted_freeze_leaves_no_version_entries_or_split_assignments(monkeypatch):
    # Given a freeze that dies after writing its first chunk of entries
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 30})
    monkeypatch.setattr(services, "FREEZE_CHUNK", 10)
    real_insert = services.insert_rows
    calls = []

    def insert_then_die(**kwargs):
        real_insert(**kwargs)
        calls.append(kwargs["model"])
        if len(calls) == 3:
            raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "insert_rows", insert_then_die)
    with pytest.raises(RuntimeError):
        freeze(project)
    # Then nothing of it is visible
    assert len(calls) == 3
    assert not DatasetVersion.objects.filter(project=project).exists()
    assert not DatasetEntry.objects.exists()
    assert not SplitAssignment.objects.exists()


def test_a_redelivered_job_returns_the_version_its_first_run_made():
    import uuid

    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 3})
    job_id = uuid.uuid4()
    policy = policy_from_params({})
    first = dataset_version_freeze(project=project, policy=policy, job_id=job_id)
    again = dataset_version_freeze(project=project, policy=policy, job_id=job_id)
    assert again.pk == first.pk
    assert DatasetVersion.objects.filter(project=project).count() == 1


def test_multi_label_entries_keep_label_lists_and_count_each_label():
    project = make_project(labels=("a", "b", "c"), multi_label=True)
    ids = labelled_items(project, {"x": 3})
    Item.objects.filter(pk=ids[0]).update(consensus_label=["a", "b"])
    Item.objects.filter(pk=ids[1]).update(consensus_label=["b"])
    Item.objects.filter(pk=ids[2]).update(consensus_label=[])
    version = freeze(project)
    assert DatasetEntry.objects.get(version=version, item_id=ids[0]).label == ["a", "b"]
    assert version.label_distribution == {"a": 1, "b": 2, "(none)": 1}


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_database_refuses_to_change_entries_and_frozen_version_content():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 3})
    version = freeze(project)
    entry = DatasetEntry.objects.filter(version=version).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetEntry.objects.filter(pk=entry.pk).update(label="neg")
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(checksum="0" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(split_counts={"train": 1})
    # The display name is not content and may change
    DatasetVersion.objects.filter(pk=version.pk).update(name="renamed")
    assert DatasetEntry.objects.get(pk=entry.pk).label == "pos"


@pytest.mark.postgres
def test_on_postgres_deleting_entries_or_versions_is_refused_too():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 3})
    version = freeze(project)
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("DELETE FROM datasets_datasetentry WHERE version_id = %s", [version.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("DELETE FROM datasets_splitassignment WHERE first_version_id = %s", [version.pk])
    assert DatasetEntry.objects.filter(version=version).count() == 3


@pytest.mark.postgres
def test_on_postgres_deleting_a_version_row_is_refused_by_the_trigger():
    # Given a frozen version with entries and a frozen empty one (nothing in Django protects the empty one)
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 3})
    version = freeze(project)
    Item.objects.filter(project=project).update(status=ItemStatus.DISCARDED)
    empty = freeze(project)
    assert empty.n_entries == 0
    # When its row is deleted, by SQL or through the ORM, then the database refuses
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        _sql("DELETE FROM datasets_datasetversion WHERE id = %s", [version.pk])
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        DatasetVersion.objects.filter(pk=empty.pk).delete()
    assert set(DatasetVersion.objects.filter(project=project).values_list("pk", flat=True)) == {
        version.pk,
        empty.pk,
    }
    # and only a deliberate purge gets through
    with transaction.atomic():
        _sql("SET LOCAL labelgate.dataset_purge = 'on'")
        DatasetVersion.objects.filter(pk=empty.pk).delete()
    assert not DatasetVersion.objects.filter(pk=empty.pk).exists()


# --- lineage from real review decisions (quality.review services, not hand-set fields) ---------------------------


def _decided_project():
    """Three items with three votes each, routed to review as the quality layer would: t0 pos/pos/neg,
    t1 neg/neg/pos, t2 pos/neg/neg. Returns (project, items, reviewer)."""
    project, items, _, reviewer = review_project(
        [["pos", "pos", "neg"], ["neg", "neg", "pos"], ["pos", "neg", "neg"]], labels=("pos", "neg"), k=3
    )
    return project, items, reviewer


def _entries(version) -> dict[int, DatasetEntry]:
    return {entry.item_id: entry for entry in DatasetEntry.objects.filter(version=version)}


def test_an_accepted_label_and_its_decision_come_from_the_current_accept():
    # Given t0 accepted as "neg" against its "pos" consensus, then re-accepted as "pos";
    # t1 accepted with its consensus; t2 discarded
    project, items, reviewer = _decided_project()
    review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="neg")
    second = review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="pos"
    )
    by_consensus = review_decide(project=project, reviewer=reviewer, item_id=items[1].pk, action="accept")
    review_decide(
        project=project, reviewer=reviewer, item_id=items[2].pk, action="discard", reason="out of scope"
    )
    # When frozen
    version = freeze(project)
    # Then each accepted item carries the label and id of its current accept; the discarded one is left out
    entries = _entries(version)
    assert set(entries) == {items[0].pk, items[1].pk}
    assert (
        entries[items[0].pk].label,
        entries[items[0].pk].label_source,
        entries[items[0].pk].decision_id,
    ) == (
        "pos",
        "review",
        second.pk,
    )
    assert (entries[items[1].pk].label, entries[items[1].pk].decision_id) == ("neg", by_consensus.pk)
    assert version.counts["excluded"] == {"discarded": 1}


def test_a_relabelled_then_reannotated_item_takes_the_new_consensus_and_no_decision():
    # Given t0 accepted as "pos", then sent back for relabelling (which supersedes the accept)
    project, items, reviewer = _decided_project()
    review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="pos")
    review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="relabel", reason="v2")
    # and three annotators who never saw it label it "neg" through the annotation service
    for _ in range(3):
        data = AnnotationInput(item_id=items[0].pk, labels=["neg"])
        annotation_submit(project=project, user=add_member(project), data=data)
    # and its consensus is recomputed as the item-labelled hook does
    item_consensus_update(project_id=project.pk, item_id=items[0].pk)
    item = Item.objects.get(pk=items[0].pk)
    assert (item.status, item.final_label, item.consensus_label) == (ItemStatus.LABELLED, None, "neg")
    # When frozen
    version = freeze(project)
    # Then its label is the new consensus, and no decision is named as its source (not the relabel, nor the
    # superseded accept)
    entry = _entries(version)[items[0].pk]
    assert (entry.label, entry.label_source, entry.confidence) == ("neg", "consensus", 1.0)
    assert entry.decision_id is None
    assert sorted(entry.annotation_ids) == sorted(
        Annotation.objects.filter(item_id=items[0].pk, is_live=True).values_list("pk", flat=True)
    )
    assert len(entry.annotation_ids) == 3


def test_ten_span_items_each_with_its_own_spans_split_8_1_1_and_keep_it_when_ten_more_arrive():
    # Given a span project whose 10 labelled items each carry a different span set (so each is its own stratum)
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=1)

    def label_spans(ids):
        for n, pk in enumerate(ids):
            Item.objects.filter(pk=pk).update(
                status=ItemStatus.LABELLED,
                consensus_label=[
                    {"start": 0, "end": pk % 7 + 1, "label": "PER"},
                    {"start": 9, "end": 9 + n + 1, "label": "LOC"},
                ],
                consensus_confidence=0.9,
            )

    label_spans(labelled_items(project, {"x": 10}))
    # When frozen at the default 0.8/0.1/0.1: 10 × 0.8 = 8, 10 × 0.1 = 1, 10 × 0.1 = 1
    first = freeze(project, splits={"train": 0.8, "dev": 0.1, "test": 0.1})
    assert first.split_counts == {"train": 8, "dev": 1, "test": 1}
    # And when 10 more arrive and the project is frozen again (targets for 20: 16/2/2)
    label_spans(labelled_items(project, {"x": 10}, prefix="u"))
    second = freeze(project, splits={"train": 0.8, "dev": 0.1, "test": 0.1})
    # Then every earlier item keeps its split and the newcomers fill 8/1/1 more
    before = dict(DatasetEntry.objects.filter(version=first).values_list("item_id", "split"))
    after = dict(DatasetEntry.objects.filter(version=second).values_list("item_id", "split"))
    assert {pk: after[pk] for pk in before} == before
    assert second.split_counts == {"train": 16, "dev": 2, "test": 2}
