"""Review decisions (service level): accept, relabel, discard, escalate; supersession; bulk; bad input."""

import pytest

from annotation.models import Annotation, Assignment, AssignmentState, Item, ItemStatus
from annotation.services.annotations import AnnotationInput, annotation_submit
from annotation.services.queue import assignment_next_for_annotator
from core.errors import Conflict, NotFound, ValidationFailed
from datasets.policy import FreezePolicy
from datasets.selectors import items_selected
from quality.models import ReviewDecision
from quality.review import services
from tests.factories import add_items, add_member, make_project
from tests.quality.review_helpers import review_project

pytestmark = pytest.mark.django_db

VOTES = [["pos", "pos", "neg"], ["neg", "neutral", "neg"], ["pos", "neg", "neutral"]]


def _fresh(item) -> Item:
    return Item.objects.get(pk=item.pk)


def test_accept_with_a_label_sets_final_label_and_status_and_records_who_why():
    # Given an item the annotators split on
    project, items, _, reviewer = review_project(VOTES)
    # When a reviewer accepts it as "neg" with a reason
    decision = services.review_decide(
        project=project,
        reviewer=reviewer,
        item_id=items[0].pk,
        action="accept",
        label="neg",
        reason="sarcasm",
    )
    # Then the item is accepted with that final label, and the decision says who, when, why, from which status
    item = _fresh(items[0])
    assert (item.status, item.final_label) == (ItemStatus.ACCEPTED, "neg")
    assert (decision.reviewer_id, decision.action, decision.label, decision.reason) == (
        reviewer.pk,
        "accept",
        "neg",
        "sarcasm",
    )
    assert decision.is_current and decision.supersedes_id is None and decision.created_at is not None
    assert (decision.previous_status, decision.guideline_version) == (ItemStatus.NEEDS_REVIEW, 1)


def test_accept_without_a_label_takes_the_consensus():
    project, items, _, reviewer = review_project(VOTES)
    services.review_decide(project=project, reviewer=reviewer, item_id=items[1].pk, action="accept")
    assert _fresh(items[1]).final_label == "neg"  # 2 of 3 voted neg


def test_accept_without_label_or_consensus_is_refused():
    project, items, _, reviewer = review_project(VOTES)
    Item.objects.filter(pk=items[0].pk).update(consensus_label=None)
    with pytest.raises(ValidationFailed) as error:
        services.review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="accept")
    assert error.value.field == "label" and "no consensus" in error.value.message


def test_accepting_a_label_not_in_the_schema_is_refused_and_changes_nothing():
    project, items, _, reviewer = review_project(VOTES)
    with pytest.raises(ValidationFailed) as error:
        services.review_decide(
            project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="cat"
        )
    assert error.value.field == "label" and "'cat'" in error.value.message
    assert _fresh(items[0]).status == ItemStatus.NEEDS_REVIEW
    assert not ReviewDecision.objects.exists()


def test_discard_needs_a_reason():
    project, items, _, reviewer = review_project(VOTES)
    for reason in ("", "   ", None):
        with pytest.raises(ValidationFailed) as error:
            services.review_decide(
                project=project, reviewer=reviewer, item_id=items[0].pk, action="discard", reason=reason
            )
        assert error.value.field == "reason"
    assert not ReviewDecision.objects.exists()


def test_discard_closes_the_item_for_annotators_and_the_dataset():
    # Given an item still open for annotation (one vote of three)
    project = make_project(k=3)
    add_items(project, 1)
    item = Item.objects.get(project=project)
    first, second = add_member(project), add_member(project)
    annotation_submit(project=project, user=first, data=AnnotationInput(item_id=item.pk, labels=["pos"]))
    reviewer = add_member(project, "reviewer")
    # When a reviewer discards it
    services.review_decide(
        project=project, reviewer=reviewer, item_id=item.pk, action="discard", reason="unusable input"
    )
    # Then it is discarded, never served again, and a late label is refused
    assert _fresh(item).status == ItemStatus.DISCARDED and _fresh(item).final_label is None
    assert assignment_next_for_annotator(project=project, user=second) is None
    with pytest.raises(Conflict):
        annotation_submit(project=project, user=second, data=AnnotationInput(item_id=item.pk, labels=["neg"]))


def test_a_discarded_item_never_reaches_a_dataset_even_after_an_accept():
    # Given an item a reviewer first accepted, then discarded
    project, items, _, reviewer = review_project(VOTES)
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="pos"
    )
    services.review_bulk_decide(
        project=project,
        reviewer=reviewer,
        item_ids=[items[0].pk, items[1].pk],
        action="discard",
        reason="duplicate",
    )
    # When the most permissive freeze policy selects items
    policy = FreezePolicy(include_needs_review=True, exclude_label_issues=False)
    selected = set(items_selected(project=project, policy=policy).values_list("id", flat=True))
    # Then only the undiscarded item is in it
    assert selected == {items[2].pk}


def test_relabel_takes_votes_out_of_the_count_and_serves_only_new_annotators():
    # Given an item with three votes (k=3) and a fourth annotator who never saw it
    project, items, annotators, reviewer = review_project(VOTES, k=3)
    for user in annotators:
        Assignment.objects.create(
            project=project,
            item=items[2],
            annotator=user,
            state=AssignmentState.DONE,
            expires_at="2030-01-01T00:00:00Z",
        )
    newcomer = add_member(project)
    old_ids = set(Annotation.objects.filter(item=items[2]).values_list("id", flat=True))
    # When a reviewer sends it back
    decision = services.review_decide(
        project=project,
        reviewer=reviewer,
        item_id=items[2].pk,
        action="relabel",
        reason="guideline v2 clarifies this",
    )
    # Then the old annotations are kept but no longer live, and the decision lists them
    assert set(decision.superseded_annotations) == old_ids
    assert Annotation.objects.filter(item=items[2]).count() == 3
    assert not Annotation.objects.filter(item=items[2], is_live=True).exists()
    # and the item is open again for k fresh annotations, its old consensus gone
    item = _fresh(items[2])
    assert (item.status, item.annotation_count, item.target_annotations) == (ItemStatus.IN_PROGRESS, 0, 3)
    assert item.consensus_label is None and not item.is_label_issue and item.issue_severity == 0
    # and the queue serves it to the newcomer but never again to the three who annotated it
    served = assignment_next_for_annotator(project=project, user=newcomer)
    assert served is not None and served.item_id == items[2].pk
    for user in annotators:
        lease = assignment_next_for_annotator(project=project, user=user)
        assert lease is None or lease.item_id != items[2].pk


def test_after_relabel_a_previous_annotator_posting_again_is_refused_with_409(api):
    # Given an item three annotators labelled, sent back for relabelling, and a newcomer
    project, items, annotators, reviewer = review_project(VOTES, k=3)
    services.review_decide(project=project, reviewer=reviewer, item_id=items[2].pk, action="relabel")
    newcomer = add_member(project)
    url = f"/api/projects/{project.pk}/annotations/"
    # When one of the earlier annotators POSTs a label for it over REST
    refused = api(annotators[0]).post(url, {"item": items[2].pk, "label": "pos"}, format="json")
    # Then it is refused with a clear 409 and counts for nothing
    assert refused.status_code == 409 and refused.json()["code"] == "item_already_seen"
    assert "sent it back for relabelling" in refused.json()["detail"]
    assert not Annotation.objects.filter(item=items[2], is_live=True).exists()
    assert _fresh(items[2]).annotation_count == 0
    # and the newcomer's label is stored as a fresh annotation
    accepted = api(newcomer).post(url, {"item": items[2].pk, "label": "neg"}, format="json")
    assert accepted.status_code == 201 and _fresh(items[2]).annotation_count == 1


def test_relabel_never_lowers_a_raised_target():
    project, items, _, reviewer = review_project(VOTES, k=3)
    Item.objects.filter(pk=items[0].pk).update(target_annotations=5)
    services.review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="relabel")
    assert _fresh(items[0]).target_annotations == 5


def test_escalate_needs_a_question_and_keeps_the_item_in_review():
    project, items, _, reviewer = review_project(VOTES)
    with pytest.raises(ValidationFailed):
        services.review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="escalate")
    decision = services.review_decide(
        project=project,
        reviewer=reviewer,
        item_id=items[0].pk,
        action="escalate",
        reason="Is irony negative?",
    )
    assert decision.action == "escalate" and _fresh(items[0]).status == ItemStatus.NEEDS_REVIEW


def test_a_newer_decision_supersedes_and_the_item_follows_the_latest():
    # Given an accepted item
    project, items, _, reviewer = review_project(VOTES)
    other = add_member(project, "manager")
    first = services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="pos"
    )
    # When another reviewer discards it, then a third decision accepts it as neg
    second = services.review_decide(
        project=project, reviewer=other, item_id=items[0].pk, action="discard", reason="out of scope"
    )
    assert (_fresh(items[0]).status, _fresh(items[0]).final_label) == (ItemStatus.DISCARDED, None)
    third = services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label="neg"
    )
    # Then all three are stored in order, each superseding the previous, and only the last is current
    chain = list(ReviewDecision.objects.filter(item=items[0]).order_by("id"))
    assert [d.pk for d in chain] == [first.pk, second.pk, third.pk]
    assert [d.supersedes_id for d in chain] == [None, first.pk, second.pk]
    assert [d.is_current for d in chain] == [False, False, True]
    assert (_fresh(items[0]).status, _fresh(items[0]).final_label) == (ItemStatus.ACCEPTED, "neg")


def test_a_decision_on_an_item_of_another_project_is_not_found():
    project, items, _, reviewer = review_project(VOTES)
    other_project, other_items, _, _ = review_project(VOTES, name="Other")
    with pytest.raises(NotFound) as error:
        services.review_decide(
            project=project, reviewer=reviewer, item_id=other_items[0].pk, action="accept", label="pos"
        )
    assert error.value.field == "item"
    assert _fresh(other_items[0]).status == ItemStatus.NEEDS_REVIEW


def test_unknown_action_and_label_on_a_non_accept_are_refused():
    project, items, _, reviewer = review_project(VOTES)
    with pytest.raises(ValidationFailed) as error:
        services.review_decide(project=project, reviewer=reviewer, item_id=items[0].pk, action="approve")
    assert error.value.field == "action"
    with pytest.raises(ValidationFailed) as error:
        services.review_decide(
            project=project, reviewer=reviewer, item_id=items[0].pk, action="discard", label="pos", reason="x"
        )
    assert error.value.field == "label"


def test_bulk_accept_uses_each_items_consensus_in_one_action():
    project, items, _, reviewer = review_project(VOTES)
    decisions = services.review_bulk_decide(
        project=project, reviewer=reviewer, item_ids=[items[0].pk, items[1].pk], action="accept"
    ).decisions
    assert len(decisions) == 2 and decisions[0].bulk_id == decisions[1].bulk_id is not None
    assert [_fresh(items[0]).final_label, _fresh(items[1]).final_label] == ["pos", "neg"]
    assert _fresh(items[2]).status == ItemStatus.NEEDS_REVIEW


def test_bulk_with_a_foreign_item_stores_nothing():
    project, items, _, reviewer = review_project(VOTES)
    _, other_items, _, _ = review_project(VOTES, name="Other")
    with pytest.raises(ValidationFailed) as error:
        services.review_bulk_decide(
            project=project,
            reviewer=reviewer,
            item_ids=[items[0].pk, other_items[0].pk],
            action="discard",
            reason="dup",
        )
    assert error.value.field == "items" and str(other_items[0].pk) in error.value.message
    assert not ReviewDecision.objects.exists() and _fresh(items[0]).status == ItemStatus.NEEDS_REVIEW


def test_multi_label_accept_takes_a_sorted_label_set():
    project, items, _, reviewer = review_project([["a", "b"]], multi_label=True, labels=("a", "b", "c"))
    services.review_decide(
        project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label=["c", "a"]
    )
    assert _fresh(items[0]).final_label == ["a", "c"]
    with pytest.raises(ValidationFailed):
        services.review_decide(
            project=project, reviewer=reviewer, item_id=items[0].pk, action="accept", label=["a", "zzz"]
        )
