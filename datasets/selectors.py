"""Reads: which items a policy selects (and why the others are left out), versions, lineage."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from annotation.models import Item, ItemStatus, Project, Role
from core.errors import NotFound
from core.models import Job
from core.permissions import project_for_role
from datasets.job_kinds import FREEZE_JOB
from datasets.models import DatasetEntry, DatasetVersion
from datasets.policy import FreezePolicy
from quality.review.selectors import review_queue_items

INCLUDED = "included"
# Why an item is left out, in the order the rules are checked (the first that applies is reported). Items are
# partitioned by status first, so each status row is exactly that status's count on the review page and the
# dashboard; the rules after them count only the remaining (labelled, accepted and, if included, needs-review)
# items.
STATUS_REASONS = {
    "discarded": "status discarded",
    "new": "status new, not yet labelled",
    "in_progress": "status in progress, still being annotated",
    "needs_review": "status needs review, waiting for a review decision",
}
EXCLUSION_REASONS = {
    **STATUS_REASONS,
    "no_consensus": "no consensus or reviewed label",
    "gold": "gold items excluded",
    "not_accepted": "not accepted by a reviewer",
    "open_issue": "open label issues",
    "low_confidence": "consensus confidence below the threshold",
}
# Keys of versions frozen before the partition by status, whose rows were counted under the first rule of the
# old order whatever the status; their own words keep them readable on the version page.
LEGACY_EXCLUSION_REASONS = {
    "no_label": "no label yet",
    "unfinished": "still being annotated",
    "awaiting_review": "status needs review, no reviewer decision yet",
}


def selection_reason(policy: FreezePolicy) -> Case:
    """A SQL CASE giving each item ``"included"`` or the first exclusion reason that applies.

    Which items are included does not depend on the order: an item with status new, in progress or discarded
    (or needs review, unless included) never enters, and an accepted one always enters unless it has no label or
    is gold left out; the order only decides which row an excluded item is counted under."""
    no_label = Q(final_label__isnull=True) & Q(consensus_label__isnull=True)
    rules: list[When] = [
        When(status=ItemStatus.DISCARDED, then=Value("discarded")),
        When(status=ItemStatus.NEW, then=Value("new")),
        When(status=ItemStatus.IN_PROGRESS, then=Value("in_progress")),
    ]
    if not policy.include_needs_review:
        rules.append(When(status=ItemStatus.NEEDS_REVIEW, then=Value("needs_review")))
    rules.append(When(no_label, then=Value("no_consensus")))
    if policy.exclude_gold:
        rules.append(When(is_gold=True, then=Value("gold")))
    rules.append(When(status=ItemStatus.ACCEPTED, then=Value(INCLUDED)))
    if policy.accepted_only:
        rules.append(When(~Q(status=ItemStatus.ACCEPTED), then=Value("not_accepted")))
    if policy.exclude_label_issues:
        rules.append(When(is_label_issue=True, then=Value("open_issue")))
    # A decided label (review) does not depend on the consensus confidence.
    rules.append(When(final_label__isnull=False, then=Value(INCLUDED)))
    if policy.min_confidence > 0:
        low = Q(consensus_confidence__isnull=True) | Q(consensus_confidence__lt=policy.min_confidence)
        rules.append(When(low, then=Value("low_confidence")))
    return Case(*rules, default=Value(INCLUDED), output_field=CharField())


def items_selected(*, project: Project, policy: FreezePolicy) -> QuerySet[Item]:
    """The project's items the policy includes, in id order (the canonical order of a version)."""
    return (
        Item.objects.filter(project=project)
        .annotate(selection=selection_reason(policy))
        .filter(selection=INCLUDED)
        .order_by("id")
    )


def selection_preview(*, project: Project, policy: FreezePolicy) -> dict:
    """``{"included": n, "excluded": {reason: n}, "total": n}`` in one grouped query."""
    return _selection_counts(Item.objects.filter(project=project), policy)


def queue_selection_preview(*, project: Project, policy: FreezePolicy) -> dict:
    """What the policy does with the items in the review queue now, in one grouped query:
    ``{"total": n, "included": n, "excluded": {reason: n}}``. The queue is not the "awaiting review" exclusion:
    it also holds labelled items queued for a look (a comment, a flag, a possible label error), which other
    rules exclude or let in, and open gold items, which count under their status (new or in progress)."""
    return _selection_counts(review_queue_items(project=project), policy)


def _selection_counts(items, policy: FreezePolicy) -> dict:
    rows = (
        items.annotate(selection=selection_reason(policy))
        .order_by()
        .values("selection")
        .annotate(n=Count("id"))
    )
    by_reason = {row["selection"]: row["n"] for row in rows}
    included = by_reason.pop(INCLUDED, 0)
    excluded = {reason: by_reason[reason] for reason in EXCLUSION_REASONS if by_reason.get(reason)}
    return {"included": included, "excluded": excluded, "total": included + sum(excluded.values())}


def version_list(*, project: Project) -> QuerySet[DatasetVersion]:
    return (
        DatasetVersion.objects.filter(project=project)
        .select_related("parent", "created_by")
        .order_by("-number", "-id")
    )


def version_latest(*, project: Project) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(project=project).order_by("-number").first()


def version_get_for_user(*, user: User | AnonymousUser, version_id: int) -> DatasetVersion:
    """The version if the user is a reviewer or manager of its project.

    Raises NotFound when it does not exist or the user is not a member (existence is not revealed), Forbidden
    when the member is an annotator.
    """
    version = (
        DatasetVersion.objects.select_related("project", "parent", "created_by").filter(pk=version_id).first()
    )
    if version is None:
        raise NotFound("Dataset version not found.")
    project_for_role(user=user, project_id=version.project_id, role=Role.REVIEWER)
    return version


def version_in_project(*, project: Project, version_id: int, field: str = "against") -> DatasetVersion:
    version = DatasetVersion.objects.filter(pk=version_id, project=project).first()
    if version is None:
        raise NotFound(f"Dataset version {version_id} is not a version of this project.", field=field)
    return version


def item_dataset_entries(*, project: Project, item_id: int) -> QuerySet[DatasetEntry]:
    """Every version an item is in, newest first, with the lineage of its label there."""
    if not Item.objects.filter(project=project, pk=item_id).exists():
        raise NotFound("Item not found in this project.")
    return (
        DatasetEntry.objects.filter(item_id=item_id, version__project=project)
        .select_related("version")
        .order_by("-version__number", "-id")
    )


def freeze_jobs_recent(*, project: Project, limit: int = 5) -> QuerySet[Job]:
    return Job.objects.filter(project=project, kind=FREEZE_JOB).order_by("-created_at")[:limit]
