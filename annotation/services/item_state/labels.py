"""Label-set changes (add, rename, merge) and the item values they move.

Annotations are never rewritten: a rename or merge retires the old ``Label`` rows and records on them the label
their votes now count for (``Label.replaced_by``, read by ``annotation.selectors.label_schema_for``).
``Item.final_label`` and ``consensus_label`` are derived values, so they move to the new value at once. The
review app keeps the history of changes, the label examples and the quality run a change enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from annotation import hotpath_cache
from annotation.label_colours import colour_problem
from annotation.models import Item, Label, Project
from annotation.selectors import json_list_has
from annotation.services.projects import DEFAULT_HOTKEYS, hotkey_problem, project_lock, reserved_hotkeys
from core.errors import NotFound, ValidationFailed
from kinds.registry import kind_for

REMAP_CHUNK = 2000


@dataclass(frozen=True)
class LabelsReplaced:
    """A rename or merge: the retired labels, the label their votes now count for, and old value → new value."""

    retired: list[Label]
    target: Label
    mapping: dict[str, str]


def clean_label_value(value: str, field: str) -> str:
    """A label value stripped; raises ValidationFailed (``field``) when empty or over 100 characters."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed("Give the label a value.", field=field)
    if len(value) > 100:
        raise ValidationFailed("Label values are limited to 100 characters.", field=field)
    return value


def _active_labels(project: Project) -> dict[str, Label]:
    return {
        label.value: label
        for label in Label.objects.select_for_update().filter(project=project, is_active=True)
    }


def _free_hotkey(project: Project, avoid: frozenset[str]) -> str:
    used = set(
        Label.objects.filter(project=project, is_active=True)
        .exclude(hotkey="")
        .values_list("hotkey", flat=True)
    )
    reserved = reserved_hotkeys(project.task_type)
    return next(
        (key for key in DEFAULT_HOTKEYS if key not in used and key not in reserved and key not in avoid),
        "",
    )


def labels_retire(*, project: Project, mapping: dict[str, str]) -> int:
    """Retire the labels ``mapping`` names (old value → the label its votes now count for) and point labels
    retired earlier into one of them at the new target, so every retired label maps to a current one.

    The caller holds the project lock and has checked the values. Returns the number of labels retired.
    """
    for old, new in mapping.items():
        Label.objects.filter(project=project, replaced_by=old).update(replaced_by=new)
    retired = 0
    for old, new in mapping.items():
        retired += Label.objects.filter(project=project, value=old).update(is_active=False, replaced_by=new)
    hotpath_cache.project_changed(project_id=project.pk)
    return retired


def items_labels_remap(*, project: Project, mapping: dict[str, str]) -> int:
    """Move ``final_label``/``consensus_label`` of the project's items from old values to new ones; returns how
    many (item, column) values moved. Single-label: one UPDATE per old value and column; multi-label: the sets
    holding an old value are rewritten in chunks."""
    now = timezone.now()
    moved = 0
    value_schema = kind_for(project).value_schema
    # Optional: a kind whose stored label is no class name or list of them (a span list) rewrites it itself.
    remap = getattr(value_schema, "remap", None)
    for column in ("final_label", "consensus_label"):
        if remap is not None:
            query = None
            for old in mapping:
                one = value_schema.stored_label_query(column, old, project=project)
                query = one if query is None else query | one
            rows = Item.objects.filter(project=project).filter(query).order_by("id").values_list("id", column)
            rewritten = [
                Item(pk=pk, updated_at=now, **{column: remap(value, mapping)})
                for pk, value in rows.iterator(chunk_size=REMAP_CHUNK)
            ]
            Item.objects.bulk_update(rewritten, [column, "updated_at"], batch_size=1000)
            moved += len(rewritten)
            continue
        if not project.multi_label:
            for old, new in mapping.items():
                moved += Item.objects.filter(project=project, **{column: old}).update(
                    **{column: new}, updated_at=now
                )
            continue
        query = None
        for old in mapping:
            query = json_list_has(column, old) if query is None else query | json_list_has(column, old)
        rows = Item.objects.filter(project=project).filter(query).order_by("id").values_list("id", column)
        changed: list[Item] = []
        for pk, values in rows.iterator(chunk_size=REMAP_CHUNK):
            if isinstance(values, list):
                changed.append(
                    Item(pk=pk, updated_at=now, **{column: sorted({str(mapping.get(v, v)) for v in values})})
                )
        Item.objects.bulk_update(changed, [column, "updated_at"], batch_size=1000)
        moved += len(changed)
    return moved


def label_schema_add(
    *,
    project: Project,
    value: str,
    hotkey: str = "",
    description: str = "",
    colour: str = "",
    avoid_hotkeys: frozenset[str] = frozenset(),
) -> Label:
    """Add a label at the end of the label set; a free hotkey (none of ``avoid_hotkeys``) is chosen when none is
    given. Takes the project lock, which serialises schema changes.

    Raises ValidationFailed: empty or existing value (retired ones included), bad or taken hotkey, a colour not
    written ``#rrggbb`` (field ``colour``).
    """
    value = clean_label_value(value, "value")
    if problem := colour_problem(colour):
        raise ValidationFailed(problem, field="colour")
    project_lock(project_id=project.pk)
    if Label.objects.filter(project=project, value=value).exists():
        raise ValidationFailed(
            f"The label {value!r} already exists in this project (maybe retired).", field="value"
        )
    hotkey = (hotkey or "").strip().lower()
    if hotkey:
        reserved = reserved_hotkeys(project.task_type)
        if len(hotkey) != 1 or hotkey in reserved:
            raise ValidationFailed(hotkey_problem([(hotkey, value)], reserved) or "", field="hotkey")
        if Label.objects.filter(project=project, is_active=True, hotkey=hotkey).exists():
            raise ValidationFailed(f"Hotkey {hotkey!r} is taken by another label.", field="hotkey")
    else:
        hotkey = _free_hotkey(project, avoid_hotkeys)
    order = (Label.objects.filter(project=project).aggregate(m=Max("order"))["m"] or 0) + 1
    label = Label.objects.create(
        project=project,
        value=value,
        hotkey=hotkey,
        description=description.strip(),
        colour=colour.lower(),
        order=order,
    )
    hotpath_cache.project_changed(project_id=project.pk)
    return label


def label_colour_set(*, project: Project, value: str, colour: str) -> Label:
    """Give the active label ``value`` the colour ``colour`` (``#rrggbb``, stored lower-case; "" gives it back the
    palette colour of its place). Nothing else changes: answers name labels by value, not colour.

    Raises ValidationFailed (field ``colour``) for a colour not written ``#rrggbb``; NotFound when the project has
    no active label ``value``.
    """
    if problem := colour_problem(colour):
        raise ValidationFailed(problem, field="colour")
    label = Label.objects.filter(project=project, value=value, is_active=True).first()
    if label is None:
        raise NotFound(f"This project has no active label {value!r}.")
    label.colour = colour.lower()
    label.save(update_fields=["colour"])
    hotpath_cache.project_changed(project_id=project.pk)
    return label


def label_schema_rename(*, project: Project, label: str, to: str) -> LabelsReplaced:
    """Rename an active label: the old row is retired, a new one takes its place, hotkey and description; the
    items' labels move. Takes the project lock.

    Raises ValidationFailed: unknown label (field ``label``), empty or existing new value (field ``to``).
    """
    to = clean_label_value(to, "to")
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
        project=project,
        value=to,
        hotkey=old.hotkey,
        description=old.description,
        colour=old.colour,
        order=old.order,
    )
    hotpath_cache.project_changed(project_id=project.pk)
    items_labels_remap(project=project, mapping=mapping)
    return LabelsReplaced(retired=[old], target=new, mapping=mapping)


def label_schema_merge(*, project: Project, labels: list[str], into: str) -> LabelsReplaced:
    """Merge active labels into another active label (which must exist: add it first). The merged labels are
    retired and the items' labels move. Takes the project lock.

    Raises ValidationFailed: no labels or unknown ones (field ``labels``), a missing target or a label merged
    into itself (field ``into``), or a merge that would leave a single-label project with one label.
    """
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
    items_labels_remap(project=project, mapping=mapping)
    return LabelsReplaced(retired=[active[value] for value in sources], target=active[into], mapping=mapping)
