import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotation import hooks, hotpath_sql
from annotation.models import Annotation, Assignment, AssignmentState, Guideline, Item, ItemStatus, Project
from annotation.models.item import OPEN_STATUSES
from core.errors import Conflict, NotFound, ValidationFailed
from core.permissions import Access, membership_for
from kinds.registry import kind_for

MAX_COMMENT = 5000


@dataclass(frozen=True)
class AnnotationInput:
    item_id: int
    #: the kind's answer as sent (``ValueSchema.value_from_input``): class names, or spans of the text
    labels: list
    unsure: bool = False
    unusable: bool = False
    comment: str = ""
    lead_time_ms: int | None = None
    client_id: uuid.UUID | None = None


def _validate(*, project: Project, data: AnnotationInput) -> list[str]:
    value_schema = kind_for(project).value_schema
    labels = value_schema.validate(project=project, value=data.labels, unusable=data.unusable)
    fit_to_item = getattr(value_schema, "fit_to_item", None)
    if fit_to_item is not None:
        # Read before the item lock: text and profile are fixed at import. A missing item is the lock's to report.
        item = Item.objects.filter(project=project, pk=data.item_id).values("text", "profile").first()
        if item is not None:
            labels = fit_to_item(value=labels, text=item["text"], profile=item["profile"])
    if len(data.comment) > MAX_COMMENT:
        raise ValidationFailed(f"Comments are limited to {MAX_COMMENT} characters.", field="comment")
    return labels


def _existing_by_client_id(*, user: User, data: AnnotationInput) -> Annotation | None:
    if data.client_id is None:
        return None
    existing = Annotation.objects.filter(annotator=user, client_id=data.client_id).first()
    if existing is not None and existing.item_id != data.item_id:
        raise ValidationFailed("This client_id was already used for another item.", field="client_id")
    return existing


def annotation_submit(
    *, project: Project, user: User, data: AnnotationInput, membership: Access | None = None
) -> tuple[Annotation, bool]:
    """Store one annotation; returns (annotation, created).

    A repeated client_id returns the first result. A second annotation by the same annotator supersedes the
    first. ``membership``: the caller's access to ``project`` as ``core.permissions.membership_for``
    returns it, when the caller has it already (the API's permission check); read here otherwise. Raises
    ValidationFailed (bad labels), NotFound (item not in project), Conflict (item discarded, already at its k
    annotations and the caller holds no lease, or sent back for relabelling after the caller had labelled it).
    """
    labels = _validate(project=project, data=data)
    if membership is None:
        membership = membership_for(user=user, project_id=project.pk)
    try:
        annotation, created, reached_target = _submit_locked(
            project=project, user=user, data=data, labels=labels, membership=membership
        )
    except IntegrityError:
        # A concurrent retry with the same client_id committed first: return its result.
        existing = _existing_by_client_id(user=user, data=data)
        if existing is None:
            raise
        return existing, False
    if reached_target:
        transaction.on_commit(lambda: hooks.item_labelled(project_id=project.pk, item_id=data.item_id))
    return annotation, created


def _guideline_seen(*, project: Project, membership: Access | None) -> tuple[int | None, int]:
    """(id, version) of the guideline the annotator labelled under, (None, 0) when the project has none: the
    newest version they acknowledged. A label submitted from a page opened before a new version was published
    belongs to the version that page showed, not the new one. Members who never acknowledged one (managers, API
    clients) and staff without a membership get the current version. Reads nothing in the usual case (``next``
    serves no work until the newest version is acknowledged): ``membership_for`` brought the newest along."""
    if membership is not None:
        seen, latest = membership.acknowledged_guideline_version, membership.latest_guideline_version
        if latest is None:
            return None, 0
        if seen < 1 or seen >= latest:
            return membership.latest_guideline_id, latest
    guidelines = Guideline.objects.filter(project=project).order_by("-version").values_list("id", "version")
    if membership is not None:
        guidelines = guidelines.filter(version__lte=membership.acknowledged_guideline_version)
    return guidelines.first() or (None, 0)


# A submission's reads under the item lock are hand-written SQL (``annotation.hotpath_sql``): fixed
# single-table lookups whose composition with the ORM was most of the service's CPU time. Writes stay on the ORM.
def _item_locked(*, project: Project, item_id: int) -> Item | None:
    """The item's row, locked until the transaction ends; only the columns a submission reads (others deferred)."""
    return hotpath_sql.item_locked(project_id=project.pk, item_id=item_id)


def _own_annotations(
    *, user: User, item: Item, data: AnnotationInput
) -> tuple[Annotation | None, Annotation | None]:
    """(the annotation already stored under ``data.client_id``, the caller's current vote on ``item``), one query.

    The vote is the live one if there is one, else the newest. Raises ValidationFailed when the client_id was
    used for another item.
    """
    client_id = Annotation._meta.get_field("client_id").to_python(data.client_id)
    rows = hotpath_sql.annotations_own(user_id=user.pk, item_id=item.pk, client_id=client_id)
    existing = own = None
    for row in rows:
        if client_id is not None and row.client_id == client_id:
            existing = row
        if own is None and row.item_id == item.pk:
            own = row
    if existing is not None and existing.item_id != item.pk:
        raise ValidationFailed("This client_id was already used for another item.", field="client_id")
    return existing, own


@transaction.atomic
def _submit_locked(
    *,
    project: Project,
    user: User,
    data: AnnotationInput,
    labels: list,
    membership: Access | None,
) -> tuple[Annotation, bool, bool]:
    """Returns (annotation, created, the item just reached its k annotations)."""
    now = timezone.now()
    item = _item_locked(project=project, item_id=data.item_id)
    if item is None:
        # A retry of a submission stored before the item left this project still gets its first result.
        existing = _existing_by_client_id(user=user, data=data)
        if existing is not None:
            return existing, False, False
        raise NotFound("No such item in this project.", field="item")
    # Checked under the item lock: a retry racing the first request must not supersede it.
    existing, own = _own_annotations(user=user, item=item, data=data)
    if existing is not None:
        return existing, False, False
    if item.status == ItemStatus.DISCARDED:
        raise Conflict(
            "This item was discarded by a reviewer; the label was not stored.", code="item_discarded"
        )
    # If the annotator has only votes that are not live, a reviewer's relabel took them out of the count:
    # nothing else leaves an annotator without one.
    if own is not None and not own.is_live:
        raise Conflict(
            "You already labelled this item before a reviewer sent it back for relabelling; it now needs "
            "annotators who have not seen it. Your label was not stored; please take the next item.",
            code="item_already_seen",
        )
    previous = own
    assignment = hotpath_sql.assignment_own(item_id=item.pk, user_id=user.pk)
    if previous is None and not item.is_gold:
        holds_lease = (
            assignment is not None
            and assignment.state == AssignmentState.ACTIVE
            and assignment.expires_at > now
        )
        taken = item.annotation_count
        if not holds_lease:
            others = Assignment.objects.filter(item=item, state=AssignmentState.ACTIVE, expires_at__gt=now)
            if assignment is not None:
                others = others.exclude(pk=assignment.pk)
            taken += others.count()
        if item.annotation_count >= item.target_annotations or taken >= item.target_annotations:
            raise Conflict(
                f"This item already has its {item.target_annotations} annotations (your lease had expired and it "
                "went to someone else). Your label was not stored; please take the next item.",
                code="item_full",
            )
    guideline_id, guideline_version = _guideline_seen(project=project, membership=membership)
    if previous is not None:
        Annotation.objects.filter(pk=previous.pk).update(is_live=False)
    if assignment is None:
        assignment = Assignment.objects.create(
            project=project,
            item=item,
            annotator=user,
            state=AssignmentState.DONE,
            expires_at=now,
            finished_at=now,
            is_gold=item.is_gold,
        )
    elif assignment.state != AssignmentState.DONE:
        Assignment.objects.filter(pk=assignment.pk).update(state=AssignmentState.DONE, finished_at=now)
    annotation = Annotation.objects.create(
        project=project,
        item=item,
        annotator=user,
        assignment=assignment,
        labels=labels,
        unsure=data.unsure,
        unusable=data.unusable,
        comment=data.comment,
        lead_time_ms=data.lead_time_ms,
        guideline_id=guideline_id,
        guideline_version=guideline_version,
        client_id=data.client_id,
        supersedes=previous,
    )
    count = item.annotation_count
    status = item.status
    if previous is None:
        count += 1
        if not item.is_gold and status in OPEN_STATUSES:
            status = ItemStatus.LABELLED if count >= item.target_annotations else ItemStatus.IN_PROGRESS
        Item.objects.filter(pk=item.pk).update(
            annotation_count=F("annotation_count") + 1, status=status, updated_at=now
        )
    # The hooks run for every vote that lands on an item no longer waiting for votes, not only the one reaching
    # the target: an item closed short (labelled or needs_review with fewer votes than its target) still takes a
    # late vote, and its consensus and flags must follow it.
    reached = not item.is_gold and (count >= item.target_annotations or status not in OPEN_STATUSES)
    return annotation, True, reached
