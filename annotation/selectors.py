import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from annotation import hotpath_cache, hotpath_sql
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Guideline,
    Item,
    ItemTag,
    Label,
    Membership,
    Project,
    Role,
)
from annotation.models.item import OPEN_STATUSES, ItemStatus
from annotation.search import item_search_q

ITEM_ORDERINGS = {
    "label_quality": ("label_quality", "id"),
    "-label_quality": ("-label_quality", "id"),
    "priority": ("priority", "id"),
    "-priority": ("-priority", "id"),
    "severity": ("issue_severity", "id"),
    "-severity": ("-issue_severity", "id"),
    "id": ("id",),
    "-id": ("-id",),
    "external_id": ("external_id", "id"),
    "consensus_confidence": ("consensus_confidence", "id"),
}


def project_list_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user).select_related("project").order_by("project__name", "project_id")
    )


def user_search(*, search: str) -> QuerySet:
    """Active users whose username contains ``search`` (case-insensitive; all of them for ""), by username.
    Only ``id`` and ``username`` are read: the lookup exists to add members by name."""
    users = get_user_model().objects.filter(is_active=True)
    if search:
        users = users.filter(username__icontains=search)
    return users.only("id", "username").order_by("username", "id")


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("user__username", "id")


def guideline_list(*, project: Project) -> QuerySet[Guideline]:
    """Every version, newest first; bodies run to 200k characters, so callers paginate."""
    return project.guidelines.select_related("author").order_by("-version", "id")


def project_status_counts(*, project: Project) -> dict[str, int]:
    """Items by status, every status present (zeros included), plus ``total``. ``COUNT(*)``: PostgreSQL then
    answers from ``item_status_idx`` alone (an index-only scan), where ``COUNT(id)`` reads every item row — 3–4×
    slower at 1,000,000 items (bench/results/dashboard_render.md)."""
    rows = Item.objects.filter(project=project).order_by().values("status").annotate(n=Count("*"))
    counts = dict.fromkeys(ItemStatus.values, 0)
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts[status] for status in ItemStatus.values)
    return counts


@dataclass(frozen=True)
class LabelSchema:
    """A project's classes and how stored label values map onto them.

    ``values``: the classes, active labels in display order, then retired labels that were not merged or renamed
    into another (old annotations may still use them). ``mapping``: retired value → the current label its votes
    count for. ``index``: class position of every value an annotation may store, mapped values included.
    """

    values: list[str]
    mapping: dict[str, str]
    index: dict[str, int]


def label_schema_for(*, project: Project | int) -> LabelSchema:
    """The one reading of a project's label set every app counts votes with (one query).

    Annotations are never rewritten by a merge or rename, so a vote for a retired label counts for
    ``Label.replaced_by``; reading classes any other way counts votes for labels that no longer exist.
    """
    project_id = project if isinstance(project, int) else project.pk
    rows = list(
        Label.objects.filter(project_id=project_id)
        .order_by("-is_active", "order", "id")
        .values_list("value", "is_active", "replaced_by")
    )
    mapping = {value: target for value, active, target in rows if not active and target and target != value}
    values = [value for value, _active, _target in rows if value not in mapping]
    index = {value: position for position, value in enumerate(values)}
    for source, target in mapping.items():
        if target in index:
            index[source] = index[target]
    return LabelSchema(values=values, mapping=mapping, index=index)


def label_classes(*, project: Project | int) -> list[str]:
    """The project's label classes: every label not merged or renamed into another — the active ones in their
    order, then any retired without a replacement (old votes for it still count as themselves). The one list
    that votes, metrics, training and pages index classes by (``label_schema_for(...).values``)."""
    return label_schema_for(project=project).values


def label_choices(*, project: Project) -> set[str]:
    """The values a new annotation, import row or review decision may carry: the active labels. Narrower than
    ``label_classes`` on purpose: a label retired without a replacement is still a class of the old votes, but
    nobody may choose it any more."""
    # Every submission validates against this: cached until the project's version is bumped
    # (``annotation.hotpath_cache``), else one hand-written statement (``annotation.hotpath_sql``).
    project_id = project.pk
    return set(
        hotpath_cache.cached(
            key=f"hotpath:labels:{project_id}",
            versions=(hotpath_cache.project_version_key(project_id),),
            load=lambda: frozenset(hotpath_sql.label_values(project_id=project_id)),
        )
    )


def label_mapping_for(*, project: Project | int) -> dict[str, str]:
    """Old label value → current value, from every merge and rename of the project (one query): the mapping of
    ``label_schema_for``, which every app's vote counts use."""
    return label_schema_for(project=project).mapping


def compose_mappings(mappings: list[dict[str, str]]) -> dict[str, str]:
    """Fold schema-change mappings (oldest first) into one old value → current value map (chains resolved)."""
    resolved: dict[str, str] = {}
    for mapping in mappings:
        for source, target in mapping.items():
            for key, value in resolved.items():
                if value == source:
                    resolved[key] = target
            resolved[source] = target
    return {source: target for source, target in resolved.items() if source != target}


def map_label(value, mapping: dict[str, str]):
    """A label JSON value (a string, a list for multi-label, or None) with the mapping applied. A list of parts
    carrying a ``label`` (a structured kind's answer) keeps its parts and order, each part's label mapped."""
    if not mapping or value is None:
        return value
    if isinstance(value, list):
        if any(isinstance(v, dict) for v in value):
            return [
                {**v, "label": mapping.get(v["label"], v["label"])}
                if isinstance(v, dict) and isinstance(v.get("label"), str)
                else v
                for v in value
            ]
        return sorted({mapping.get(v, v) for v in value})
    return mapping.get(value, value) if isinstance(value, str) else value


def json_list_has(field_name: str, value: str) -> Q:
    """``field`` (a JSON list) contains ``value``; SQLite lacks JSON containment, so match the encoded text."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [value]})
    return Q(**{f"{field_name}__icontains": json.dumps(value)})


def json_list_has_part(field_name: str, key: str, value: str) -> Q:
    """``field`` (a JSON list of objects) holds an object whose ``key`` is ``value``. SQLite lacks JSON containment,
    so it matches the pair as the stored JSON text writes it (case-insensitively: its LIKE is)."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field_name}__contains": [{key: value}]})
    return Q(**{f"{field_name}__icontains": f"{json.dumps(key)}: {json.dumps(value)}"})


LEFT_CHUNK = 5000


def annotators_left_for_items(*, project: Project, item_ids: list[int]) -> dict[int, int]:
    """{item id: how many more annotators the queue could still serve it to}: active members with the annotator
    role who hold no assignment on it (the queue never serves an item twice to one annotator, whether they
    labelled it, skipped it or let a lease expire). Reviewers and managers are not counted: they may label, but a
    target that waits on them leaves the item open until one of them happens to. One query, then one per
    ``LEFT_CHUNK`` items."""
    eligible = Membership.objects.filter(project=project, role=Role.ANNOTATOR, user__is_active=True)
    n_eligible = eligible.count()
    left = dict.fromkeys(item_ids, n_eligible)
    if not n_eligible:
        return left
    for start in range(0, len(item_ids), LEFT_CHUNK):
        seen = (
            Assignment.objects.filter(
                item_id__in=item_ids[start : start + LEFT_CHUNK], annotator_id__in=eligible.values("user_id")
            )
            .order_by()
            .values("item_id")
            .annotate(n=Count("id"))
        )
        for row in seen:
            left[row["item_id"]] = max(n_eligible - row["n"], 0)
    return left


def guideline_latest(*, project: Project) -> Guideline | None:
    return Guideline.objects.filter(project=project).order_by("-version").first()


def item_list(
    *,
    project: Project,
    status: str | None = None,
    tag: str | None = None,
    has_issue: bool | None = None,
    flag: str | None = None,
    batch: int | None = None,
    ordering: str = "id",
    label: str | None = None,
    q: str | None = None,
) -> QuerySet[Item]:
    """Items of a project with filters; ``q`` keeps the items holding every word of it (``annotation.search``,
    answered from the search index). Raises KeyError on an unknown ordering (the API validates first)."""
    queryset = Item.objects.filter(project=project)
    if q and (matches := item_search_q(q)) is not None:
        queryset = queryset.filter(matches)
    if status:
        queryset = queryset.filter(status__in=status.split(","))
    if tag:
        queryset = queryset.filter(Exists(ItemTag.objects.filter(item=OuterRef("pk"), tag=tag)))
    if has_issue is not None:
        queryset = queryset.filter(is_label_issue=has_issue)
    if flag:
        queryset = (
            queryset.filter(flags__contains=[flag])
            if _json_contains_supported()
            else queryset.filter(flags__icontains=f'"{flag}"')
        )
    if batch:
        queryset = queryset.filter(batch__number=batch)
    if label:
        queryset = queryset.filter(Q(final_label=label) | Q(final_label__isnull=True, consensus_label=label))
    return queryset.order_by(*ITEM_ORDERINGS[ordering])


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.features.supports_json_field_contains


def progress_for_annotator(*, project: Project, user: User) -> dict[str, int]:
    """Items done by the caller and the items left for them (two indexed counts): what the project page, the
    labelling page and ``GET /progress/`` all show as "left for you". It is the open items ``next`` can still
    give them, the one they hold a live lease on (the item on their screen) included: open items they hold no
    assignment on that still want an annotation, unseen open gold items when the project has a gold rate (the
    queue then serves gold to everyone whatever its target), and their live lease. Leases held by others do
    not take an item off (it comes back when they lapse). Zero once ``next`` has nothing for them, since
    exhausted items are closed then (``queue.items_close_exhausted``).

    The item on screen counts because the project page, read before ``next`` leases it, counts it: without it
    the two pages differed by one."""
    done = Assignment.objects.filter(project=project, annotator=user, state=AssignmentState.DONE).count()
    seen = Assignment.objects.filter(item=OuterRef("pk"), annotator=user)
    leased = seen.filter(state=AssignmentState.ACTIVE, expires_at__gt=timezone.now())
    wanted = Q(is_gold=False, target_annotations__gt=F("annotation_count"))
    if project.gold_rate > 0:  # without a gold rate the queue never serves gold items
        wanted |= Q(is_gold=True)
    left = (
        Item.objects.filter(project=project, status__in=OPEN_STATUSES)
        .filter((wanted & ~Exists(seen)) | Exists(leased))
        .count()
    )
    return {"done": done, "left": left}


def gold_item_count(*, project: Project) -> int:
    """The project's gold items (imported with a gold label): the queue serves them only at the gold rate."""
    return Item.objects.filter(project=project, is_gold=True).count()


RECENT_OWN_LIMIT = 20


def annotation_recent_for_annotator(
    *, project: Project, user: User, limit: int = RECENT_OWN_LIMIT
) -> list[Annotation]:
    """The caller's live annotations in ``project``, most recently labelled or changed first, at most ``limit``,
    with their items (one query). Only the caller's own votes: labelling is blind, so what others chose, the
    consensus and the item's status never come with them. A vote a reviewer sent back for relabelling is no
    longer live and cannot be changed, so it is left out."""
    return list(
        Annotation.objects.filter(project=project, annotator=user, is_live=True)
        .select_related("item")
        .only(
            "id",
            "labels",
            "unsure",
            "unusable",
            "comment",
            "created_at",
            "item_id",
            "item__id",
            "item__external_id",
            "item__text",
            "item__file",
            "item__content_type",
        )
        .order_by("-created_at", "-id")[:limit]
    )


PREANNOTATION_WARNING = (
    "This is the model's guess, shown because a manager turned pre-annotation on. It biases your label towards "
    "the model and inflates agreement: decide for yourself, and disagree whenever the item says otherwise."
)


def suggestion_for_annotator(*, project: Project, item: Item) -> dict | None:
    """The base model's suggestion for ``item`` when the project shows pre-annotations to annotators, else None.

    Off by default: a suggestion anchors independent labels. Reads only the item's own fields (no query).
    """
    if not project.preannotation_for_annotators or item.predicted_label is None:
        return None
    probs = item.predicted_probs if isinstance(item.predicted_probs, dict) else None
    return {"label": item.predicted_label, "probs": probs, "warning": PREANNOTATION_WARNING}
