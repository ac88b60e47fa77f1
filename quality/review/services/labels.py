"""Label-schema changes (add, rename, merge) with history, and label examples for the guideline.

The label set and the items' labels are annotation's (``annotation.services.item_state``: a rename or merge
retires the old ``Label`` rows, records on them the label their votes count for, and moves the items' derived
labels; annotations are never rewritten). This module adds what review keeps: the change's history
(``LabelSchemaChange``, with the mapping old value → new value), the label examples, and a quality run enqueued
so consensus and agreement are recomputed on the mapped labels (the decisions that set final labels keep the old
value).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotation.models import Item, ItemStatus, Label, Project
from annotation.models.item import OPEN_STATUSES
from annotation.services.item_state import (
    clean_label_value,
    label_schema_add,
    label_schema_merge,
    label_schema_rename,
)
from core.errors import Conflict, NotFound, ValidationFailed
from quality.models import LabelChangeKind, LabelExample, LabelSchemaChange
from quality.services import quality_run_create

# Keys the review page uses for its actions; new labels do not get them as hotkeys.
REVIEW_KEYS = frozenset("adrejkxh")
MAX_NOTE = 500


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"Keep the note under {MAX_NOTE} characters.", field="note")
    return note


def _recompute_quality(*, project: Project, user: AbstractBaseUser) -> tuple[object | None, str]:
    """Enqueue a quality run (after commit). Returns (job or None, a sentence for the user)."""
    try:
        job = quality_run_create(project=project, user=user)
    except Conflict:
        return None, "A quality run was already in progress; run the quality check again when it finishes."
    except ValidationFailed:
        return None, "No annotations yet, so there is nothing to recompute."
    return job, f"Quality is being recomputed on the mapped labels (job {job.pk})."


def _move_examples(*, sources: list[Label], target: Label) -> None:
    already = set(LabelExample.objects.filter(label=target).values_list("item_id", flat=True))
    LabelExample.objects.filter(label__in=sources, item_id__in=already).delete()
    LabelExample.objects.filter(label__in=sources).update(label=target)


@transaction.atomic
def label_add(
    *,
    project: Project,
    author: AbstractBaseUser,
    value: str,
    hotkey: str = "",
    description: str = "",
    colour: str = "",
    note: str = "",
) -> LabelSchemaChange:
    """Add a label (e.g. ``borderline``) at the end of the label set; a free hotkey is chosen when none is given.

    Raises ValidationFailed: empty or existing value (retired ones included), bad or taken hotkey, a colour not
    written ``#rrggbb``.
    """
    value = clean_label_value(value, "value")
    note = _clean_note(note)
    label_schema_add(
        project=project,
        value=value,
        hotkey=hotkey,
        description=description,
        colour=colour,
        avoid_hotkeys=REVIEW_KEYS,
    )
    return LabelSchemaChange.objects.create(
        project=project,
        kind=LabelChangeKind.ADD,
        from_labels=[],
        to_label=value,
        mapping={},
        note=note,
        author=author,
    )


@transaction.atomic
def label_rename(
    *, project: Project, author: AbstractBaseUser, label: str, to: str, note: str = ""
) -> tuple[LabelSchemaChange, str]:
    """Rename an active label: the old row is retired, a new one takes its place, hotkey and description; old
    annotations are mapped. Returns (change, message about the quality run).

    Raises ValidationFailed: unknown label (field ``label``), empty or existing new value (field ``to``).
    """
    to = clean_label_value(to, "to")
    note = _clean_note(note)
    renamed = label_schema_rename(project=project, label=label, to=to)
    old, mapping = renamed.retired[0], renamed.mapping
    _move_examples(sources=renamed.retired, target=renamed.target)
    job, message = _recompute_quality(project=project, user=author)
    change = LabelSchemaChange.objects.create(
        project=project,
        kind=LabelChangeKind.RENAME,
        from_labels=[old.value],
        to_label=to,
        mapping=mapping,
        note=note,
        author=author,
        quality_job=job,
    )
    return change, message


@transaction.atomic
def label_merge(
    *, project: Project, author: AbstractBaseUser, labels: list[str], into: str, note: str = ""
) -> tuple[LabelSchemaChange, str]:
    """Merge active labels into another active label (which must exist: add it first). The merged labels are
    retired and their annotations mapped. Returns (change, message about the quality run).

    Raises ValidationFailed: no labels or unknown ones (field ``labels``), a missing target or a label merged
    into itself (field ``into``), or a merge that would leave a single-label project with one label.
    """
    note = _clean_note(note)
    merged = label_schema_merge(project=project, labels=labels, into=into)
    sources, into, mapping = list(merged.mapping), merged.target.value, merged.mapping
    _move_examples(sources=merged.retired, target=merged.target)
    job, message = _recompute_quality(project=project, user=author)
    change = LabelSchemaChange.objects.create(
        project=project,
        kind=LabelChangeKind.MERGE,
        from_labels=sources,
        to_label=into,
        mapping=mapping,
        note=note,
        author=author,
        quality_job=job,
    )
    return change, message


@transaction.atomic
def label_example_add(
    *, project: Project, user: AbstractBaseUser, item_id: int, label: str, note: str = ""
) -> tuple[LabelExample, bool]:
    """Attach an item as an example of an active label (idempotent); returns (example, created).

    Raises NotFound (item not in project), ValidationFailed (unknown label; item still open for annotation
    or discarded — showing it as an example would reveal its label or teach from unusable input).
    """
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFound("No such item in this project.", field="item")
    target = Label.objects.filter(project=project, is_active=True, value=(label or "").strip()).first()
    if target is None:
        raise ValidationFailed(f"No active label {label!r} in this project.", field="label")
    if item.status in OPEN_STATUSES or item.status == ItemStatus.DISCARDED:
        raise ValidationFailed(
            "Only labelled items can be examples: this one is still open for annotation or discarded.",
            field="item",
        )
    note = (note or "").strip()[:300]
    return LabelExample.objects.get_or_create(
        label=target, item=item, defaults={"added_by": user, "note": note}
    )


@transaction.atomic
def label_example_remove(*, project: Project, example_id: int) -> None:
    """Raises NotFound when the example is not one of the project's."""
    deleted, _ = LabelExample.objects.filter(pk=example_id, label__project=project).delete()
    if not deleted:
        raise NotFound("No such label example in this project.", field="example")
