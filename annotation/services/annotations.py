import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from annotation import hooks
from annotation.errors import Conflict, NotFound, ValidationFailed
from annotation.models import (
    Annotation,
    Assignment,
    AssignmentState,
    Guideline,
    Item,
    ItemStatus,
    Membership,
    Project,
)
from annotation.services.items import label_values

MAX_COMMENT = 5000


@dataclass(frozen=True)
class AnnotationInput:
    item_id: int
    labels: list[str]
    unsure: bool = False
    unusable: bool = False
    comment: str = ""
    lead_time_ms: int | None = None
    client_id: uuid.UUID | None = None


def _validate(*, project: Project, data: AnnotationInput) -> list[str]:
    known = label_values(project=project)
    field = "labels" if project.multi_label else "label"
    labels = list(dict.fromkeys(data.labels))
    unknown = [value for value in labels if value not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown label {', '.join(repr(v) for v in unknown)}; this project's labels are {', '.join(sorted(known))}.",
            field=field,
        )
    if not project.multi_label and len(labels) > 1:
        raise ValidationFailed("This is a single-label project: give exactly one label.", field="label")
    if not project.multi_label and not labels and not data.unusable:
        raise ValidationFailed("Give a label, or flag the item as unusable.", field="label")
    if len(data.comment) > MAX_COMMENT:
        raise ValidationFailed(f"Comments are limited to {MAX_COMMENT} characters.", field="comment")
    return sorted(labels) if project.multi_label else labels


def _existing_by_client_id(*, user: AbstractBaseUser, data: AnnotationInput) -> Annotation | None:
    if data.client_id is None:
        return None
    existing = Annotation.objects.filter(annotator=user, client_id=data.client_id).first()
    if existing is not None and existing.item_id != data.item_id:
        raise ValidationFailed("This client_id was already used for another item.", field="client_id")
    return existing


def annotation_submit(
    *, project: Project, user: AbstractBaseUser, data: AnnotationInput, membership: Membership | None = None
) -> tuple[Annotation, bool]:
    """Store one annotation; returns (annotation, created).

    A repeated client_id returns the first result. A second annotation by the same annotator supersedes the
    first. ``membership``: the caller's membership in ``project`` when already loaded (the API's permission
    check), so it is not read again. Raises ValidationFailed (bad labels), NotFound (item not in project),
    Conflict (item discarded, already at its k annotations and the caller holds no lease, or sent back for
    relabelling after the caller had labelled it).
    """
    labels = _validate(project=project, data=data)
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


def _guideline_seen(
    *, project: Project, user: AbstractBaseUser, membership: Membership | None
) -> Guideline | None:
    """The guideline the annotator labelled under: the newest version they acknowledged. A label submitted from
    a page opened before a new version was published belongs to the version that page showed, not the new one.
    Members who never acknowledged one (managers, API clients), get the current version. One query; only the
    id and version are read (bodies run to 200k characters)."""
    guidelines = Guideline.objects.filter(project=project).only("id", "version").order_by("-version")
    if membership is not None:
        seen = membership.acknowledged_guideline_version
        return (guidelines.filter(version__lte=seen) if seen >= 1 else guidelines).first()
    seen = Membership.objects.filter(project=project, user=user).values("acknowledged_guideline_version")
    return (
        guidelines.annotate(seen=Subquery(seen[:1]))
        .filter(Q(seen__isnull=True) | Q(seen__lt=1) | Q(version__lte=F("seen")))
        .first()
    )


def _own_annotations(
    *, user: AbstractBaseUser, item: Item, data: AnnotationInput
) -> tuple[Annotation | None, Annotation | None]:
    """(the annotation already stored under ``data.client_id``, the caller's current vote on ``item``), one query.

    The vote is the live one if there is one, else the newest. Raises ValidationFailed when the client_id was
    used for another item.
    """
    rows = Annotation.objects.filter(annotator=user)
    if data.client_id is None:
        rows = rows.filter(item=item)
    else:
        rows = rows.filter(Q(item=item) | Q(client_id=data.client_id))
    existing = own = None
    for row in rows.order_by("-is_live", "-id"):
        if data.client_id is not None and row.client_id == data.client_id:
            existing = row
        if own is None and row.item_id == item.pk:
            own = row
    if existing is not None and existing.item_id != item.pk:
        raise ValidationFailed("This client_id was already used for another item.", field="client_id")
    return existing, own


@transaction.atomic
def _submit_locked(
    *, project: Project, user: AbstractBaseUser, data: AnnotationInput, labels: list[str],
    membership: Membership | None,
) -> tuple[Annotation, bool, bool]:
    """Returns (annotation, created, the item just reached its k annotations)."""
    now = timezone.now()
    item = (
        Item.objects.select_for_update()
        .filter(project=project, pk=data.item_id)
        .only("id", "status", "is_gold", "annotation_count", "target_annotations")
        .first()
    )
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
        raise Conflict("This item was discarded by a reviewer; the label was not stored.", code="item_discarded")
    # If the annotator has only votes that are not live, a reviewer's relabel took them out of the count:
    # nothing else leaves an annotator without one.
    if own is not None and not own.is_live:
        raise Conflict(
            "You already labelled this item before a reviewer sent it back for relabelling; it now needs "
            "annotators who have not seen it. Your label was not stored; please take the next item.",
            code="item_already_seen",
        )
    previous = own
    assignment = Assignment.objects.filter(item=item, annotator=user).first()
    if previous is None and not item.is_gold:
        holds_lease = (
            assignment is not None and assignment.state == AssignmentState.ACTIVE and assignment.expires_at > now
        )
        others = Assignment.objects.filter(item=item, state=AssignmentState.ACTIVE, expires_at__gt=now)
        if assignment is not None:
            others = others.exclude(pk=assignment.pk)
        taken = item.annotation_count + (0 if holds_lease else others.count())
        if item.annotation_count >= item.target_annotations or taken >= item.target_annotations:
            raise Conflict(
                f"This item already has its {item.target_annotations} annotations (your lease had expired and it "
                "went to someone else). Your label was not stored; please take the next item.",
                code="item_full",
            )
    guideline = _guideline_seen(project=project, user=user, membership=membership)
    if previous is not None:
        Annotation.objects.filter(pk=previous.pk).update(is_live=False)
    if assignment is None:
        assignment = Assignment.objects.create(
            project=project, item=item, annotator=user, state=AssignmentState.DONE, expires_at=now, finished_at=now,
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
        guideline=guideline,
        guideline_version=guideline.version if guideline else 0,
        client_id=data.client_id,
        supersedes=previous,
    )
    reached = False
    if previous is None:
        count = item.annotation_count + 1
        status = item.status
        if not item.is_gold and status in (ItemStatus.NEW, ItemStatus.IN_PROGRESS):
            status = ItemStatus.LABELLED if count >= item.target_annotations else ItemStatus.IN_PROGRESS
            reached = status == ItemStatus.LABELLED
        Item.objects.filter(pk=item.pk).update(annotation_count=F("annotation_count") + 1, status=status)
    else:
        reached = item.annotation_count >= item.target_annotations and not item.is_gold
    return annotation, True, reached
