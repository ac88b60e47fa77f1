"""The annotator queue: which item the calling annotator gets next.

Guarantees (also on SQLite, where IMMEDIATE transactions serialise writers):
- never more than ``item.target_annotations`` live annotations plus unexpired leases per item;
- never the same item twice to one annotator (unique (item, annotator) on Assignment);
- expired leases give the slot back; serves by priority, then age; gold items mixed in at the project's rate;
- an item nobody is left to annotate does not stay ``in_progress`` (``items_close_exhausted``).
Constant query count per call whatever the project size (a call that finds nothing also closes exhausted items).
"""

import random
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from annotation import hooks, hotpath_sql
from annotation.models import Assignment, AssignmentState, Item, ItemStatus, Membership, Project, Role

# The queue's reads are hand-written SQL in ``annotation.hotpath_sql`` (why, and the SQLite index they rely on,
# are explained there).


def pick_statement(
    *, project: Project, user: User, now, gold: bool, passed_over: Sequence[int] = ()
) -> tuple[str, list]:
    """The locked, ordered pick ``_pick`` runs, as SQL and parameters (``hotpath_sql.pick_statement``)."""
    return hotpath_sql.pick_statement(
        project_id=project.pk, user_id=user.pk, now=now, gold=gold, passed_over=passed_over
    )


def _pick(*, project: Project, user: User, now, gold: bool) -> Item | None:
    full: list[int] = []
    while True:
        item = hotpath_sql.pick(project_id=project.pk, user_id=user.pk, now=now, gold=gold, passed_over=full)
        if item is None or gold or _has_room(item=item, now=now):
            return item
        full.append(item.pk)


def _has_room(*, item: Item, now) -> bool:
    """Re-count the item's slots once its row is locked, in a new statement.

    On PostgreSQL the pick's lease count comes from the snapshot its statement started with: a lease that a
    concurrent request committed after that snapshot but before this row lock was taken is invisible to it,
    and the item would be leased k+1 times. A new statement (READ COMMITTED) sees every committed lease, and
    no new one can appear while this transaction holds the row lock.
    """
    return hotpath_sql.item_has_room(item_id=item.pk, now=now)


def assignment_active_for(*, project: Project, user: User) -> Assignment | None:
    """The caller's unexpired lease on a still-open item, with its item; one query when there is none."""
    # A lease on an item closed since (discarded by a reviewer) is dead: serving it again would loop the
    # annotator on a submission that can only be refused.
    current = hotpath_sql.lease_active(project_id=project.pk, user_id=user.pk, now=timezone.now())
    if current is not None:
        current.item = Item.objects.get(pk=current.item_id)
    return current


def assignment_next_for_annotator(
    *, project: Project, user: User, rng: random.Random | None = None
) -> Assignment | None:
    """Return the caller's current lease, or lease them the next item; None when nothing is left for them.

    Before answering None, closes the items that nobody is left to annotate among those the caller has seen
    (``items_close_exhausted``): "nothing left for anyone" is reached through such calls.
    """
    current = assignment_active_for(project=project, user=user)
    if current is not None:
        return current
    now = timezone.now()
    want_gold = project.gold_rate > 0 and (rng or random).random() < project.gold_rate
    for _attempt in range(3):
        try:
            with transaction.atomic():
                item = _pick(project=project, user=user, now=now, gold=True) if want_gold else None
                if item is None:
                    item = _pick(project=project, user=user, now=now, gold=False)
                if item is None and project.gold_rate > 0 and not want_gold:
                    # The gold items this annotator has not seen come before "nothing left": otherwise they
                    # would stay open forever in a queue that is otherwise finished.
                    item = _pick(project=project, user=user, now=now, gold=True)
                if item is None:
                    items_close_exhausted(project=project, seen_by=user, now=now)
                    return None
                assignment = Assignment.objects.create(
                    project=project,
                    item=item,
                    annotator=user,
                    is_gold=item.is_gold,
                    expires_at=now + timedelta(seconds=project.lease_seconds),
                )
                if item.status == ItemStatus.NEW:
                    Item.objects.filter(pk=item.pk, status=ItemStatus.NEW).update(
                        status=ItemStatus.IN_PROGRESS, updated_at=now
                    )
                    item.status = ItemStatus.IN_PROGRESS
                assignment.item = item
                return assignment
        except IntegrityError:
            # The same annotator asked twice at once and the other request leased this item: try again.
            current = assignment_active_for(project=project, user=user)
            if current is not None:
                return current
    return None


def assignment_skip(*, project: Project, user: User, assignment_id: int) -> None:
    """Give the item back to the pool; this annotator will not be served it again."""
    updated = Assignment.objects.filter(
        pk=assignment_id, project=project, annotator=user, state=AssignmentState.ACTIVE
    ).update(state=AssignmentState.SKIPPED, finished_at=timezone.now())
    if not updated:
        from core.errors import NotFound

        raise NotFound("No active assignment with that id.", field="assignment")


def leases_expire(*, now=None) -> int:
    """Mark expired leases (the queue already ignores them; this keeps the table honest) and close the items
    among theirs that nobody is left to annotate: an annotator who let a lease lapse is never served that item
    again, so the lapse may have been the item's last chance."""
    now = now or timezone.now()
    expired = Assignment.objects.filter(state=AssignmentState.ACTIVE, expires_at__lte=now)
    touched: dict[int, set[int]] = {}
    for project_id, item_id in expired.values_list("project_id", "item_id").iterator():
        touched.setdefault(project_id, set()).add(item_id)
    n = expired.update(state=AssignmentState.EXPIRED)
    for project_id, item_ids in touched.items():
        project = Project.objects.filter(pk=project_id).first()
        if project is not None:
            items_close_exhausted(project=project, item_ids=sorted(item_ids), now=now)
    return n


def _exhausted(*, project: Project, now) -> Q:
    """In-progress items of ``project`` without a live lease that no annotator can still be served (gold items
    too: once every annotator has seen one, it measures nobody more).

    Eligible annotators are active members with the annotator role (reviewers and managers may label too, but an
    item waiting on one of them would wait until one happens to); the queue never serves an item twice to one
    person, so whoever holds any assignment on the item (labelled, skipped, lapsed) cannot give it a vote.
    """
    lease = Assignment.objects.filter(item=OuterRef("pk"), state=AssignmentState.ACTIVE, expires_at__gt=now)
    return Q(project=project, status=ItemStatus.IN_PROGRESS) & ~Exists(lease) & ~_has_unseen(project)


def _has_unseen(project: Project) -> Exists:
    """Some active annotator-role member of ``project`` holds no assignment on the outer item."""
    return Exists(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR, user__is_active=True).exclude(
            Exists(Assignment.objects.filter(item=OuterRef(OuterRef("pk")), annotator=OuterRef("user_id")))
        )
    )


def items_close_exhausted(
    *, project: Project, item_ids: Sequence[int] | None = None, seen_by: User | None = None, now=None
) -> list[int]:
    """Close the in-progress items nobody is left to annotate (see ``_exhausted``); returns their ids.

    An item with votes becomes ``labelled`` ("has every vote it will get") and the item-labelled hooks run as for
    any item reaching its target: the quality layer routes it to review when its votes call for that, adaptive
    overlap when they stay disputed. An item without a live vote (everyone skipped it, or a reviewer's relabel
    found nobody new) goes to ``needs_review``: a reviewer decides what it is. A gold item seen by every
    annotator closes as ``labelled`` without the hooks (it is never trained on or routed; the quality run still
    compares its votes with its gold label). Targets stay as they were, so a
    labelled item with fewer annotations than its target is one closed short, which ``items_reopen_short``
    sends back when someone new can annotate it. ``item_ids`` / ``seen_by`` narrow the search to those items
    or to the items that person holds an assignment on (the others cannot be exhausted while they are an
    eligible annotator). Rows locked by a concurrent pick or submission are left for the next call.
    """
    now = now or timezone.now()
    candidates = Item.objects.filter(_exhausted(project=project, now=now))
    if item_ids is not None:
        candidates = candidates.filter(pk__in=list(item_ids))
    if (
        seen_by is not None
        and Membership.objects.filter(
            project=project, user=seen_by, role=Role.ANNOTATOR, user__is_active=True
        ).exists()
    ):
        candidates = candidates.filter(
            Exists(Assignment.objects.filter(item=OuterRef("pk"), annotator=seen_by))
        )
    with transaction.atomic():
        locked = candidates.order_by("id").select_for_update(skip_locked=True)
        ids = list(locked.values_list("id", flat=True))
        if not ids:
            return []
        # Checked again in a new statement: a lease or vote committed after the first statement's snapshot is
        # seen now, and none can appear while the rows are locked (the queue and submissions lock the item row).
        rows = list(
            Item.objects.filter(_exhausted(project=project, now=now), pk__in=ids).values_list(
                "id", "annotation_count", "is_gold"
            )
        )
        labelled = [pk for pk, count, _gold in rows if count > 0]
        unlabelled = [pk for pk, count, _gold in rows if count == 0]
        if labelled:
            Item.objects.filter(pk__in=labelled).update(status=ItemStatus.LABELLED, updated_at=now)
        if unlabelled:
            Item.objects.filter(pk__in=unlabelled).update(status=ItemStatus.NEEDS_REVIEW, updated_at=now)
        hooks.items_labelled(
            project_id=project.pk, item_ids=[pk for pk, count, gold in rows if count > 0 and not gold]
        )
    return labelled + unlabelled


def items_reopen_short(*, project: Project) -> int:
    """Send the items closed short (``labelled`` with fewer annotations than their target, no reviewer decision)
    and the closed gold items back to the queue when an annotator who has not seen them can now be served them;
    returns how many.

    Called when someone becomes an annotator of the project: closing an item for lack of annotators must not
    deny it the votes the project asks for once there are some.
    """
    return Item.objects.filter(
        Q(is_gold=True) | Q(annotation_count__lt=F("target_annotations")),
        _has_unseen(project),
        project=project,
        status=ItemStatus.LABELLED,
        final_label__isnull=True,
    ).update(status=ItemStatus.IN_PROGRESS, updated_at=timezone.now())
