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


def annotation_submit(*, project: Project, user: AbstractBaseUser, data: AnnotationInput) -> tuple[Annotation, bool]:
    """Store one annotation; returns (annotation, created).

    A repeated client_id returns the first result. A second annotation by the same annotator supersedes the
    first. Raises ValidationFailed (bad labels), NotFound (item not in project), Conflict (item discarded,
    already at its k annotations and the caller holds no lease, or sent back for relabelling after the caller
    had labelled it).
    """
    labels = _validate(project=project, data=data)
    existing = _existing_by_client_id(user=user, data=data)
    if existing is not None:
        return existing, False
    try:
        annotation, reached_target = _submit_locked(project=project, user=user, data=data, labels=labels)
    except IntegrityError:
        # A concurrent retry with the same client_id committed first: return its result.
        existing = _existing_by_client_id(user=user, data=data)
        if existing is None:
            raise
        return existing, False
    if reached_target:
        transaction.on_commit(lambda: hooks.item_labelled(project_id=project.pk, item_id=data.item_id))
    return annotation, True


def _guideline_seen(*, project: Project, user: AbstractBaseUser) -> Guideline | None:
    """The guideline the annotator labelled under: the newest version they acknowledged. A label submitted from
    a page opened before a new version was published belongs to the version that page showed, not the new one.
    Members who never acknowledged one (managers, API clients), get the current version. One query."""
    seen = Membership.objects.filter(project=project, user=user).values("acknowledged_guideline_version")[:1]
    return (
        Guideline.objects.filter(project=project)
        .annotate(seen=Subquery(seen))
        .filter(Q(seen__isnull=True) | Q(seen__lt=1) | Q(version__lte=F("seen")))
        .order_by("-version")
        .first()
    )


@transaction.atomic
def _submit_locked(
    *, project: Project, user: AbstractBaseUser, data: AnnotationInput, labels: list[str]
) -> tuple[Annotation, bool]:
    now = timezone.now()
    item = Item.objects.select_for_update().filter(project=project, pk=data.item_id).first()
    if item is None:
        raise NotFound("No such item in this project.", field="item")
    # Re-check under the item lock: a retry racing the first request must not supersede it.
    existing = _existing_by_client_id(user=user, data=data)
    if existing is not None:
        return existing, False
    if item.status == ItemStatus.DISCARDED:
        raise Conflict("This item was discarded by a reviewer; the label was not stored.", code="item_discarded")
    # Live first, so this is the annotator's current vote if they have one. If they have only votes that are
    # not live, a reviewer's relabel took them out of the count: nothing else leaves an annotator without one.
    own = Annotation.objects.filter(item=item, annotator=user).order_by("-is_live", "-id").first()
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
    guideline = _guideline_seen(project=project, user=user)
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
    return annotation, reached
