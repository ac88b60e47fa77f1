from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from annotation import hotpath_cache
from annotation.label_colours import colour_problem
from annotation.models import Guideline, Item, ItemStatus, Label, Membership, Project, Role
from annotation.models.project import ConsensusMethod
from annotation.profile_thresholds import profile_thresholds_problems
from annotation.services.queue import items_close_exhausted, items_reopen_short
from core.errors import Conflict, NotFound, ValidationFailed
from core.permissions import Access
from kinds.registry import kind_for_task_type, task_types

DEFAULT_HOTKEYS = "1234567890qwertyuiopasdfghjklzxcvbnm"
RESERVED_HOTKEYS = {"u", "x", "s", "g", "c", " "}  # unsure, unusable, skip, guideline, comment


# The label page's media viewer keys (static/js/media/): zooming an image, replaying audio from the start.
MEDIA_RESERVED_HOTKEYS = {"image": frozenset({"+", "=", "-"}), "audio": frozenset({","})}


def reserved_hotkeys(task_type: str) -> frozenset[str]:
    """Keys no label of a project of ``task_type`` may have: the label page's own, its media viewer's and its
    kind's widget's."""
    kind = kind_for_task_type(task_type)
    media = MEDIA_RESERVED_HOTKEYS.get(kind.media_of(task_type), frozenset())
    return frozenset(RESERVED_HOTKEYS) | media | kind.reserved_hotkeys


def hotkey_problem(bad: list[tuple[str, str]], reserved: frozenset[str]) -> str | None:
    """Every bad ``(hotkey, label)`` in one sentence, None when there is none."""
    if not bad:
        return None
    named = ", ".join(f"'{hotkey}' of label '{value}'" for hotkey, value in bad)
    keys = ", ".join("comma" if key == "," else key for key in sorted(reserved - {" "}))
    return (
        f"Hotkey{'s' if len(bad) > 1 else ''} {named}: a hotkey must be one character and not one of {keys} "
        "(space is reserved too)."
    )


# The active-learning layer's strategies (activelearning.strategies.STRATEGIES; this app may not import it).
SAMPLING_STRATEGIES = ("random", "least_confidence", "margin", "entropy", "bald")
# Settings a manager may change after creation (task type, multi-label and the label set have their own paths).
UPDATABLE_SETTINGS = (
    "name",
    "description",
    "annotations_per_item",
    "max_annotations_per_item",
    "early_stopping",
    "gold_rate",
    "lease_seconds",
    "sampling_strategy",
    "consensus_method",
    "review_confidence_threshold",
    "rescore_every",
    "profile_thresholds",
    "route_flagged_to_review",
    "preannotation_for_annotators",
    "span_snap_tokens",
)
# Inclusive numeric ranges of the updatable numeric settings.
_SETTING_RANGES: dict[str, tuple[float, float]] = {
    "annotations_per_item": (1, 20),
    "max_annotations_per_item": (1, 20),
    "gold_rate": (0.0, 1.0),
    "lease_seconds": (30, 86400),
    "review_confidence_threshold": (0.0, 1.0),
    "rescore_every": (0, 1_000_000),
}
_BOOLEAN_SETTINGS = (
    "early_stopping",
    "route_flagged_to_review",
    "preannotation_for_annotators",
    "span_snap_tokens",
)


@dataclass(frozen=True)
class LabelSpec:
    value: str
    hotkey: str = ""
    description: str = ""
    #: "#rrggbb", or "" for the palette colour of its place
    colour: str = ""


def _assign_hotkeys(labels: list[LabelSpec], reserved: frozenset[str]) -> list[LabelSpec]:
    seen_values: set[str] = set()
    bad_hotkeys: list[tuple[str, str]] = []
    used = {spec.hotkey.lower() for spec in labels if spec.hotkey}
    for index, spec in enumerate(labels):
        value = spec.value.strip()
        if not value:
            raise ValidationFailed(f"Label {index + 1} has an empty value.", field="labels")
        if value in seen_values:
            raise ValidationFailed(f"Label '{value}' appears twice.", field="labels")
        seen_values.add(value)
        if spec.hotkey and (len(spec.hotkey) != 1 or spec.hotkey.lower() in reserved):
            bad_hotkeys.append((spec.hotkey, value))
        if problem := colour_problem(spec.colour):
            raise ValidationFailed(f"Label '{value}': {problem}", field="labels")
    if problem := hotkey_problem(bad_hotkeys, reserved):
        raise ValidationFailed(problem, field="labels")
    if len(used) != len([spec for spec in labels if spec.hotkey]):
        raise ValidationFailed("Two labels share a hotkey.", field="labels")
    free = iter(key for key in DEFAULT_HOTKEYS if key not in used and key not in reserved)
    return [
        LabelSpec(
            value=spec.value.strip(),
            hotkey=spec.hotkey.lower() or next(free, ""),
            description=spec.description,
            colour=spec.colour.lower(),
        )
        for spec in labels
    ]


def multi_label_task_types() -> list[str]:
    """The task types whose projects may be multi-label (the kind says so)."""
    return [task_type for task_type in task_types() if kind_for_task_type(task_type).multi_label]


@transaction.atomic
def project_create(
    *,
    user: User,
    name: str,
    task_type: str,
    labels: list[LabelSpec],
    multi_label: bool = False,
    annotations_per_item: int = 3,
    gold_rate: float = 0.0,
    guidelines: str = "",
    **settings_fields: object,
) -> Project:
    """Create a project with its label set, guideline v1, and the creator as manager.

    Raises ValidationFailed for an unknown task type, fewer than two labels (single-label), bad hotkeys or ranges.
    """
    if task_type not in task_types():
        raise ValidationFailed(
            f"Unknown task_type; choose one of {', '.join(task_types())}.", field="task_type"
        )
    if not name.strip():
        raise ValidationFailed("A project needs a name.", field="name")
    min_labels = kind_for_task_type(task_type).min_labels
    if multi_label and task_type not in multi_label_task_types():
        raise ValidationFailed(
            f"{kind_for_task_type(task_type).task_type_label(task_type)} projects have no multi-label mode "
            "(it means several classes per item, for classification); leave it off.",
            field="multi_label",
        )
    if min_labels is not None and len(labels) < min_labels:
        raise ValidationFailed(
            f"A project of this task type needs at least {min_labels} label{'s' if min_labels > 1 else ''}.",
            field="labels",
        )
    if min_labels is None and len(labels) < (1 if multi_label else 2):
        raise ValidationFailed("A classification project needs at least two labels.", field="labels")
    if not 1 <= annotations_per_item <= 20:
        raise ValidationFailed("annotations_per_item must be between 1 and 20.", field="annotations_per_item")
    if not 0.0 <= gold_rate <= 1.0:
        raise ValidationFailed("gold_rate must be between 0 and 1.", field="gold_rate")
    if "profile_thresholds" in settings_fields and (
        problems := profile_thresholds_problems(settings_fields["profile_thresholds"])
    ):
        raise ValidationFailed(" ".join(problems), field="profile_thresholds")
    specs = _assign_hotkeys(labels, reserved_hotkeys(task_type))
    # A whole number or None, as the API's serializer and the other callers give it.
    max_given = cast("int | None", settings_fields.pop("max_annotations_per_item", 5))
    max_k = max(int(max_given or 5), annotations_per_item)
    project = Project.objects.create(
        name=name.strip(),
        task_type=task_type,
        multi_label=multi_label,
        annotations_per_item=annotations_per_item,
        max_annotations_per_item=max_k,
        gold_rate=gold_rate,
        created_by=user,
        **settings_fields,
    )
    Label.objects.bulk_create(
        [
            Label(
                project=project,
                value=spec.value,
                hotkey=spec.hotkey,
                description=spec.description,
                colour=spec.colour,
                order=index,
            )
            for index, spec in enumerate(specs)
        ]
    )
    Guideline.objects.create(
        project=project, version=1, body=guidelines, change_note="Initial version", author=user
    )
    Membership.objects.create(user=user, project=project, role=Role.MANAGER, acknowledged_guideline_version=1)
    # Someone may have asked for this id before it existed: their "not a member" must not outlive it.
    hotpath_cache.project_changed(project_id=project.pk)
    return project


def _check_setting(name: str, value: object) -> None:
    if name in _SETTING_RANGES:
        low, high = _SETTING_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ValidationFailed(f"{name} must be a number between {low} and {high}.", field=name)
    elif name in _BOOLEAN_SETTINGS and not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be true or false.", field=name)
    elif name == "name" and (not isinstance(value, str) or not value.strip()):
        raise ValidationFailed("A project needs a name.", field="name")
    elif name == "sampling_strategy" and value not in SAMPLING_STRATEGIES:
        raise ValidationFailed(
            f"Unknown strategy; choose one of {', '.join(SAMPLING_STRATEGIES)}.", field=name
        )
    elif name == "consensus_method" and value not in ConsensusMethod.values:
        raise ValidationFailed(
            f"Unknown method; choose one of {', '.join(ConsensusMethod.values)}.", field=name
        )
    elif name == "profile_thresholds" and (problems := profile_thresholds_problems(value)):
        raise ValidationFailed(" ".join(problems), field=name)


@transaction.atomic
def project_lock(*, project_id: int) -> Project | None:
    """Lock the project's row until the caller's transaction ends and return it (None when it is gone).

    Services that number versions or batches, or change settings, serialise on this lock. It is ``FOR NO KEY
    UPDATE``: inserting an assignment or annotation takes a KEY SHARE lock on its project row through the foreign
    key, which ``FOR UPDATE`` would block, stalling every annotator of the project while the service runs
    (``tests/annotation/test_project_lock.py``). On SQLite, which has no row locks, it is a plain read.
    """
    return Project.objects.select_for_update(no_key=True).filter(pk=project_id).first()


def project_update(*, project: Project, **changes: object) -> Project:
    """Change a project's mutable settings (``UPDATABLE_SETTINGS``); only the given keys change.

    ``annotations_per_item`` (k) applies to items added from now on and to items nobody has touched yet (new,
    no annotation, still at the old k); items already in progress keep their target. Raising k above the
    current maximum raises the maximum with it (as at creation). ``profile_thresholds`` is replaced as a
    whole and applies to the next imports. Raises ValidationFailed naming the field for an unknown setting
    or a bad value (e.g. a maximum below k).
    """
    for name, value in changes.items():
        if name not in UPDATABLE_SETTINGS:
            raise ValidationFailed("This setting cannot be changed here.", field=name)
        _check_setting(name, value)
    locked = project_lock(project_id=project.pk)
    if locked is None:
        raise NotFound("Project not found.")
    project = locked
    old_k = project.annotations_per_item
    if isinstance(new_name := changes.get("name"), str):
        changes["name"] = new_name.strip()
    for name, value in changes.items():
        setattr(project, name, value)
    if project.max_annotations_per_item < project.annotations_per_item:
        if "max_annotations_per_item" in changes:
            raise ValidationFailed("Must be at least annotations_per_item.", field="max_annotations_per_item")
        project.max_annotations_per_item = project.annotations_per_item
        changes["max_annotations_per_item"] = project.max_annotations_per_item
    if changes:
        project.save(update_fields=list(changes))
        hotpath_cache.project_changed(project_id=project.pk)
    if project.annotations_per_item != old_k:
        Item.objects.filter(
            project=project, status=ItemStatus.NEW, annotation_count=0, target_annotations=old_k
        ).update(target_annotations=project.annotations_per_item, updated_at=timezone.now())
    return project


@transaction.atomic
def membership_set(*, project: Project, user_id: int, role: str) -> Membership:
    """Add a member or change their role (idempotent). Raises ValidationFailed for unknown user or role."""
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role; choose one of {', '.join(Role.values)}.", field="role")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed("No active user with that id.", field="user")
    membership, created = Membership.objects.get_or_create(
        user=user, project=project, defaults={"role": role}
    )
    was = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    hotpath_cache.project_changed(project_id=project.pk)
    # The queue's eligible annotators changed: items closed for lack of them may get their votes now, and items
    # only this person could still have annotated must not wait for them.
    if role == Role.ANNOTATOR and was != Role.ANNOTATOR:
        items_reopen_short(project=project)
    elif was == Role.ANNOTATOR and role != Role.ANNOTATOR:
        items_close_exhausted(project=project)
    return membership


def annotators_ensure(*, project: Project, users: Iterable) -> None:
    """Make each user an annotator of ``project`` unless they are already a member (any role kept); for seeding
    and setup code outside annotation, which may not write memberships itself. No queue side effects: call it
    before items exist or follow with ``memberships_changed``."""
    for user in users:
        Membership.objects.get_or_create(user=user, project=project, defaults={"role": Role.ANNOTATOR})
    hotpath_cache.project_changed(project_id=project.pk)


def memberships_changed(*, project_ids: Iterable[int]) -> None:
    """Bring the queue in line with memberships changed without ``membership_set`` (the Django admin adds, edits
    and deletes the rows itself): closed-short items go back to the queue when someone new can annotate them,
    and in-progress items only a removed or demoted annotator could still have annotated close."""
    for project_id in set(project_ids):
        hotpath_cache.project_changed(project_id=project_id)
    for project in Project.objects.filter(pk__in=set(project_ids)).order_by("id"):
        items_reopen_short(project=project)
        items_close_exhausted(project=project)


def guideline_current(*, project: Project) -> Guideline | None:
    return Guideline.objects.filter(project=project).order_by("-version").first()


@transaction.atomic
def guideline_create(*, project: Project, author: User, body: str, change_note: str) -> Guideline:
    """Store a new guideline version; annotators must acknowledge it before their next item."""
    if not change_note.strip():
        raise ValidationFailed("Say what changed in this version.", field="change_note")
    project_lock(project_id=project.pk)  # serialises concurrent version numbering
    latest = Guideline.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    guideline = Guideline.objects.create(
        project=project, version=latest + 1, body=body, change_note=change_note.strip(), author=author
    )
    Membership.objects.filter(project=project, user=author).update(
        acknowledged_guideline_version=guideline.version
    )
    hotpath_cache.project_changed(project_id=project.pk)
    return guideline


def guideline_acknowledge(*, membership: Membership | Access, version: int) -> None:
    """Record that the member read the current guideline version. Raises Conflict when ``version`` is not it."""
    project = membership.project
    current = guideline_current(project=project)
    if current is None or version != current.version:
        raise Conflict("Acknowledge the current guideline version.", field="version", code="stale_guideline")
    membership_id = membership.pk if isinstance(membership, Membership) else membership.membership_id
    Membership.objects.filter(pk=membership_id).update(acknowledged_guideline_version=version)
    hotpath_cache.project_changed(project_id=project.pk)


def user_create(*, username: str, password: str, email: str = "", is_staff: bool = False) -> User:
    """Raises ValidationFailed when the username is taken or the password too short."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user_model = get_user_model()
    if not username.strip():
        raise ValidationFailed("A username is required.", field="username")
    if user_model.objects.filter(username=username).exists():
        raise ValidationFailed("That username is taken.", field="username")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="password") from exc
    try:
        return user_model.objects.create_user(
            username=username, password=password, email=email, is_staff=is_staff
        )
    except IntegrityError as exc:
        raise ValidationFailed("That username is taken.", field="username") from exc


def project_get(*, project_id: int) -> Project:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound("Project not found.")
    return project
