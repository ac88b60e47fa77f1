"""The review queue selector: which items need a decision, their reasons, severity order, filters, neighbours."""

import pytest

from annotation.models import Annotation, Item, ItemStatus, ItemTag
from annotation.models.item import OPEN_STATUSES
from annotation.services.annotations import AnnotationInput, annotation_submit
from core.errors import ValidationFailed
from core.jobs import JobContext, job_create
from ingress.services.bulk import item_bulk_create
from quality.job_kinds import QUALITY_JOB
from quality.review import selectors, services
from quality.services import quality_run
from tests.factories import add_items, add_member, make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db


def _setup(route_flags: bool = True):
    """Eight items, one per situation (t0..t7)."""
    project = make_project(route_flagged_to_review=route_flags)
    add_items(project, 8)
    items = {item.external_id: item for item in Item.objects.filter(project=project)}
    annotator = add_member(project)

    def set_(name, **fields):
        Item.objects.filter(pk=items[name].pk).update(**fields)

    set_("t0")  # new: not reviewable yet
    set_("t1", status=ItemStatus.LABELLED, consensus_label="pos")  # clean: no reason
    set_(
        "t2",
        status=ItemStatus.NEEDS_REVIEW,
        is_label_issue=True,
        issue_kinds=["annotators_split"],
        issue_severity=0.4,
        consensus_label="neg",
    )
    set_(
        "t3",
        status=ItemStatus.NEEDS_REVIEW,
        is_label_issue=True,
        issue_kinds=["gold_mismatch", "low_consensus_confidence"],
        issue_severity=0.9,
        consensus_label="pos",
    )
    set_("t4", status=ItemStatus.LABELLED, consensus_label="pos")  # a comment brings it here
    Annotation.objects.create(
        project=project, item=items["t4"], annotator=annotator, labels=["pos"], comment="is this sarcasm?"
    )
    set_("t5", status=ItemStatus.LABELLED, flags=["silent"], consensus_label="neutral")  # profile flag
    set_(
        "t6",
        status=ItemStatus.ACCEPTED,
        is_label_issue=True,
        issue_kinds=["annotators_split"],
        issue_severity=0.99,
        final_label="pos",
    )  # decided
    set_(
        "t7",
        status=ItemStatus.NEEDS_REVIEW,
        is_label_issue=True,
        issue_kinds=["annotators_split"],
        issue_severity=0.4,
        consensus_label="pos",
    )
    ItemTag.objects.create(project=project, item=items["t7"], tag="night")
    return project, {name: Item.objects.get(pk=item.pk) for name, item in items.items()}


def _names(queryset) -> list[str]:
    return list(queryset.values_list("external_id", flat=True))


def test_queue_holds_undecided_items_with_a_reason_most_severe_first():
    project, _ = _setup()
    # severity 0.9 first, then the two 0.4 items by id, then the zero-severity ones by id
    assert _names(selectors.review_queue(project=project)) == ["t3", "t2", "t7", "t4", "t5"]


def test_profile_flags_stay_out_when_the_project_does_not_route_them():
    project, _ = _setup(route_flags=False)
    assert "t5" not in _names(selectors.review_queue(project=project))


def test_reasons_include_comments_profile_flags_and_escalations():
    project, items = _setup()
    reviewer = add_member(project, "reviewer")
    services.review_decide(
        project=project,
        reviewer=reviewer,
        item_id=items["t2"].pk,
        action="escalate",
        reason="which label for mixed reviews?",
    )
    rows = {
        item.external_id: selectors.item_reasons(item) for item in selectors.review_queue(project=project)
    }
    assert rows["t4"] == ["comment"]
    assert rows["t5"] == ["profile_flag"]
    assert rows["t2"] == ["annotators_split", "escalated"]
    assert rows["t3"] == ["gold_mismatch", "low_consensus_confidence"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"reason": "annotators_split"}, ["t2", "t7"]),
        ({"reason": "gold_mismatch"}, ["t3"]),
        ({"reason": "comment"}, ["t4"]),
        ({"reason": "profile_flag"}, ["t5"]),
        ({"label": "pos"}, ["t3", "t7", "t4"]),
        ({"tag": "night"}, ["t7"]),
        ({"reason": "annotators_split", "label": "neg"}, ["t2"]),
        ({"reason": "escalated"}, []),
    ],
)
def test_filters(filters, expected):
    project, _ = _setup()
    queryset = selectors.review_queue(project=project, filters=selectors.queue_filters_clean(**filters))
    assert _names(queryset) == expected


def test_unknown_reason_is_a_field_error():
    with pytest.raises(ValidationFailed) as error:
        selectors.queue_filters_clean(reason="bored")
    assert error.value.field == "reason" and "annotators_split" in error.value.message


def test_counts_by_reason_and_decisions_remove_items():
    project, items = _setup()
    counts = selectors.review_queue_counts(project=project)
    assert counts["total"] == 5 and counts["annotators_split"] == 2 and counts["comment"] == 1
    assert counts["gold_mismatch"] == 1 and counts["profile_flag"] == 1 and counts["escalated"] == 0
    reviewer = add_member(project, "reviewer")
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items["t3"].pk, action="accept", label="pos"
    )
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items["t4"].pk, action="discard", reason="out of scope"
    )
    assert _names(selectors.review_queue(project=project)) == ["t2", "t7", "t5"]
    assert selectors.review_queue_counts(project=project)["total"] == 3


def test_neighbours_follow_queue_order_even_for_a_decided_item():
    project, items = _setup()
    queue = selectors.review_queue(project=project)
    assert selectors.queue_neighbours(queryset=queue, item=items["t2"]) == (items["t3"].pk, items["t7"].pk)
    assert selectors.queue_neighbours(queryset=queue, item=items["t3"]) == (None, items["t2"].pk)
    assert selectors.queue_neighbours(queryset=queue, item=items["t5"]) == (items["t4"].pk, None)
    # t6 is accepted (not in the queue) but its severity 0.99 still places it before t3
    assert selectors.queue_neighbours(queryset=queue, item=items["t6"]) == (None, items["t3"].pk)


def test_a_gold_item_whose_votes_disagree_with_its_gold_label_reaches_the_queue_after_a_quality_run():
    # Given ordinary items, a gold item "pos" that two annotators labelled "neg" and one they labelled "pos"
    project, _, annotators = votes_project(
        make_project, [["pos", "pos", "neg"], ["neg", "neg", "neg"]], consensus_method="majority_vote"
    )
    gold_rows = [{"external_id": f"g{i}", "text": f"gold text {i}", "gold_label": "pos"} for i in range(2)]
    assert not item_bulk_create(project=project, rows=gold_rows).errors
    gold = {item.external_id: item for item in Item.objects.filter(project=project, is_gold=True)}
    for user in annotators[:2]:
        for name, label in (("g0", "neg"), ("g1", "pos")):
            data = AnnotationInput(item_id=gold[name].pk, labels=[label])
            annotation_submit(project=project, user=user, data=data)
    # When a real quality run executes
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    quality_run(job=job, context=JobContext(job))
    # Then the mismatching gold item is in the review queue with reason gold_mismatch, still open (servable)
    queue = {item.external_id: item for item in selectors.review_queue(project=project)}
    assert "g0" in queue and "g1" not in queue
    assert "gold_mismatch" in selectors.item_reasons(queue["g0"]) and queue["g0"].status in OPEN_STATUSES
    only_gold = selectors.queue_filters_clean(reason="gold_mismatch")
    assert _names(selectors.review_queue(project=project, filters=only_gold)) == ["g0"]
    assert selectors.review_queue_counts(project=project)["gold_mismatch"] == 1
    # and a reviewer's decision takes it out of the queue
    reviewer = add_member(project, "reviewer")
    services.review_decide(
        project=project, reviewer=reviewer, item_id=gold["g0"].pk, action="accept", label="neg"
    )
    assert "g0" not in _names(selectors.review_queue(project=project))
