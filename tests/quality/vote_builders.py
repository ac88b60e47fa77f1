"""Shared builders for the quality app's Django tests: annotations written straight to the ORM (the submit
service is tested elsewhere; these tests need exact, hand-chosen vote patterns)."""

from annotation.models import Annotation, Item, ItemStatus
from tests.factories import add_items, add_member


def items_of(project) -> list[Item]:
    return list(Item.objects.filter(project=project).order_by("id"))


def annotate(
    project, item, user, labels, *, unsure=False, unusable=False, lead_time_ms=None, version=1, live=True
):
    values = labels if isinstance(labels, list) else [labels]
    annotation = Annotation.objects.create(
        project=project,
        item=item,
        annotator=user,
        labels=values,
        unsure=unsure,
        unusable=unusable,
        lead_time_ms=lead_time_ms,
        guideline_version=version,
        is_live=live,
    )
    Item.objects.filter(pk=item.pk, status=ItemStatus.NEW).update(status=ItemStatus.LABELLED)
    return annotation


def votes_project(make_project, votes: list[list[str | None]], **project_fields):
    """A project whose item i got ``votes[i][a]`` from annotator a (None = no vote). Returns
    (project, items, annotators)."""
    project = make_project(**project_fields)
    add_items(project, len(votes))
    items = items_of(project)
    annotators = [add_member(project) for _ in range(max(len(row) for row in votes))]
    for item, row in zip(items, votes, strict=True):
        for user, label in zip(annotators, row, strict=False):
            if label is not None:
                annotate(project, item, user, label)
    return project, items, annotators
