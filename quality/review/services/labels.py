"""Label-schema changes (add, rename, merge) with history, and label examples for the guideline.

Annotations are never rewritten: a rename or merge retires the old ``Label`` rows, records the mapping (old value
→ new value) in a ``LabelSchemaChange`` for history and on the retired rows (``Label.replaced_by``), where every
app's vote counts read it (``annotation.selectors.label_schema_for``); a quality run is enqueued so consensus and
agreement are recomputed on the mapped labels. ``Item.final_label`` and ``consensus_label`` are derived values,
so they are moved to the new value at once (the decisions that set them keep the old value).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from annotation import hotpath_cache
from annotation.errors import Conflict, NotFound, ValidationFailed
from annotation.models import Item, ItemStatus, Label, Project
from annotation.models.item import OPEN_STATUSES
from annotation.services.projects import DEFAULT_HOTKEYS, RESERVED_HOTKEYS, labels_retire, project_lock
from quality.models import LabelChangeKind, LabelExample, LabelSchemaChange
from quality.review.selectors import json_list_has
from quality.services import quality_run_create

# Keys the review page uses for its actions; new labels do not get them as hotkeys.
REVIEW_KEYS = frozenset("adrejkxh")
MAX_NOTE = 500
REMAP_CHUNK = 2000


def _active_labels(project: Project) -> dict[str, Label]:
    return {
        label.value: label
        for label in Label.objects.select_for_update().filter(project=project, is_active=True)
    }


def _free_hotkey(project: Project) -> str:
    used = set(
        Label.objects.filter(project=project, is_active=True)
        .exclude(hotkey="")
        .values_list("hotkey", flat=True)
    )
    return next(
        (
            key
            for key in DEFAULT_HOTKEYS
            if key not in used and key not in RESERVED_HOTKEYS and key not in REVIEW_KEYS
        ),
        "",
    )


def _clean_value(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed("Give the label a value.", field=field)
    if len(value) > 100:
        raise ValidationFailed("Label values are limited to 100 characters.", field=field)
    return value


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


def _remap_items(*, project: Project, mapping: dict[str, str]) -> int:
    """Move ``final_label``/``consensus_label`` of the project's items from old values to new ones."""
    moved = 0
    for column in ("final_label", "consensus_label"):
        if not project.multi_label:
            for old, new in mapping.items():
                moved += Item.objects.filter(project=project, **{column: old}).update(**{column: new})
            continue
        query = None
        for old in mapping:
            query = json_list_has(column, old) if query is None else query | json_list_has(column, old)
        rows = Item.objects.filter(project=project).filter(query).order_by("id").values_list("id", column)
        changed: list[Item] = []
        for pk, values in rows.iterator(chunk_size=REMAP_CHUNK):
            if isinstance(values, list):
                changed.append(Item(pk=pk, **{column: sorted({mapping.get(v, v) for v in values})}))
        Item.objects.bulk_update(changed, [column], batch_size=1000)
        moved += len(changed)
    return moved


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
    note: str = "",
) -> LabelSchemaChange:
    """Add a label (e.g. ``borderline``) at the end of the label set; a free hotkey is chosen when none is given.

    Raises ValidationFailed: empty or existing value (retired ones included), bad or taken hotkey.
    """
    value = _clean_value(value, "value")
    note = _clean_note(note)
    project_lock(project_id=project.pk)  # serialises schema changes
    if Label.objects.filter(project=project, value=value).exists():
        raise ValidationFailed(
            f"The label {value!r} already exists in this project (maybe retired).", field="value"
        )
    hotkey = (hotkey or "").strip().lower()
    if hotkey:
        if len(hotkey) != 1 or hotkey in RESERVED_HOTKEYS:
            raise ValidationFailed(
                f"A hotkey is one character and not one of {', '.join(sorted(RESERVED_HOTKEYS - {' '}))}.",
                field="hotkey",
            )
        if Label.objects.filter(project=project, is_active=True, hotkey=hotkey).exists():
            raise ValidationFailed(f"Hotkey {hotkey!r} is taken by another label.", field="hotkey")
    else:
        hotkey = _free_hotkey(project)
    order = (Label.objects.filter(project=project).aggregate(m=Max("order"))["m"] or 0) + 1
    Label.objects.create(
        project=project, value=value, hotkey=hotkey, description=description.strip(), order=order
    )
    hotpath_cache.project_changed(project_id=project.pk)
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
    to = _clean_value(to, "to")
    note = _clean_note(note)
    project_lock(project_id=project.pk)
    active = _active_labels(project)
    old = active.get((label or "").strip())
    if old is None:
        raise ValidationFailed(f"No active label {label!r} to rename.", field="label")
    if to == old.value:
        raise ValidationFailed("The new name is the same as the old one.", field="to")
    if Label.objects.filter(project=project, value=to).exists():
        raise ValidationFailed(f"The label {to!r} already exists; merge into it instead.", field="to")
    mapping = {old.value: to}
    labels_retire(project=project, mapping=mapping)
    new = Label.objects.create(
        project=project, value=to, hotkey=old.hotkey, description=old.description, order=old.order
    )
    hotpath_cache.project_changed(project_id=project.pk)
    _move_examples(sources=[old], target=new)
    _remap_items(project=project, mapping=mapping)
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
    if not isinstance(labels, list) or not labels or not all(isinstance(v, str) for v in labels):
        raise ValidationFailed("Give the labels to merge as a non-empty list.", field="labels")
    sources = list(dict.fromkeys(value.strip() for value in labels))
    into = (into or "").strip()
    if into in sources:
        raise ValidationFailed(f"A label cannot be merged into itself ({into!r}).", field="into")
    project_lock(project_id=project.pk)
    active = _active_labels(project)
    if into not in active:
        raise ValidationFailed(
            f"No active label {into!r} to merge into; add it first (labels: {', '.join(sorted(active))}).",
            field="into",
        )
    unknown = [value for value in sources if value not in active]
    if unknown:
        raise ValidationFailed(f"No active label {', '.join(map(repr, unknown))} to merge.", field="labels")
    if not project.multi_label and len(active) - len(sources) < 2:
        raise ValidationFailed(
            "A classification project needs at least two labels after the merge.", field="labels"
        )
    mapping = {value: into for value in sources}
    labels_retire(project=project, mapping=mapping)
    _move_examples(sources=[active[value] for value in sources], target=active[into])
    _remap_items(project=project, mapping=mapping)
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
