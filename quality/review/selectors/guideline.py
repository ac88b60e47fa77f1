"""The guideline side of review: label examples, open questions, guideline versions and label changes."""

from __future__ import annotations

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from annotation.models import Guideline, ItemStatus, Label, Project
from annotation.models.item import OPEN_STATUSES
from core.errors import NotFound
from quality.models import (
    LabelExample,
    LabelSchemaChange,
    ReviewAction,
    ReviewDecision,
)

EXAMPLES_PER_LABEL = 6


def label_examples_for(*, project: Project, for_annotators: bool) -> list[dict]:
    """Active labels, each with up to ``EXAMPLES_PER_LABEL`` examples, newest first (two queries). For
    annotators, items still open for annotation are left out (showing one would reveal its label)."""
    labels = list(Label.objects.filter(project=project, is_active=True).order_by("order", "id"))
    examples = LabelExample.objects.filter(label__project=project, label__is_active=True)
    if for_annotators:
        examples = examples.exclude(item__status__in=[*OPEN_STATUSES, ItemStatus.DISCARDED])
    newest_first = [F("created_at").desc(), F("id").desc()]
    examples = (
        examples.annotate(rank=Window(RowNumber(), partition_by=[F("label_id")], order_by=newest_first))
        .filter(rank__lte=EXAMPLES_PER_LABEL)
        .select_related("item")
        .order_by("label_id", "-created_at", "-id")
    )
    by_label: dict[int, list[LabelExample]] = {label.pk: [] for label in labels}
    for example in examples:
        by_label[example.label_id].append(example)
    return [{"label": label, "examples": by_label[label.pk]} for label in labels]


def open_questions(*, project: Project, limit: int = 100) -> list[ReviewDecision]:
    """Current escalations (items a reviewer escalated to the guideline and nobody has decided since)."""
    return list(
        ReviewDecision.objects.filter(project=project, is_current=True, action=ReviewAction.ESCALATE)
        .select_related("item", "reviewer")
        .order_by("created_at", "id")[:limit]
    )


def open_question_count(*, project: Project) -> int:
    return ReviewDecision.objects.filter(
        project=project, is_current=True, action=ReviewAction.ESCALATE
    ).count()


def guideline_versions(*, project: Project) -> list[Guideline]:
    return list(Guideline.objects.filter(project=project).select_related("author").order_by("-version")[:200])


def guideline_pair(*, project: Project, old: int, new: int) -> tuple[Guideline, Guideline]:
    """Raises NotFound (field ``from``/``to``) for a version the project does not have."""
    found = {g.version: g for g in Guideline.objects.filter(project=project, version__in=[old, new])}
    if old not in found:
        raise NotFound(f"This project has no guideline version {old}.", field="from")
    if new not in found:
        raise NotFound(f"This project has no guideline version {new}.", field="to")
    return found[old], found[new]


def label_changes(*, project: Project, limit: int = 200) -> QuerySet[LabelSchemaChange]:
    return (
        LabelSchemaChange.objects.filter(project=project)
        .select_related("author", "quality_job")
        .order_by("-created_at", "-id")[:limit]
    )
