"""Builders for the review tests: a project whose items already carry votes and (hand-set) quality fields."""

from annotation.models import Item, ItemStatus, Role
from tests.factories import add_items, add_member, make_project
from tests.quality.vote_builders import annotate, items_of


def review_project(votes: list[list[str]], *, severities: list[float] | None = None, **fields):
    """Items ``t0..`` with ``votes[i][a]`` from annotator ``a``, consensus = the majority, routed to review
    (``needs_review``, an issue with the given severity). Returns (project, items, annotators, reviewer)."""
    project = make_project(**fields)
    add_items(project, len(votes))
    items = items_of(project)
    annotators = [add_member(project) for _ in range(max(len(row) for row in votes))]
    for index, (item, row) in enumerate(zip(items, votes, strict=True)):
        for user, label in zip(annotators, row, strict=False):
            if label is not None:
                annotate(project, item, user, label)
        labels = [label for label in row if label is not None]
        top = max(sorted(set(labels)), key=labels.count) if labels else None
        severity = severities[index] if severities else 0.5
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.NEEDS_REVIEW,
            annotation_count=len(labels),
            consensus_label=top,
            consensus_confidence=labels.count(top) / len(labels) if labels else None,
            is_label_issue=True,
            issue_kinds=["annotators_split"],
            issue_severity=severity,
        )
    reviewer = add_member(project, Role.REVIEWER)
    return project, items_of(project), annotators, reviewer
