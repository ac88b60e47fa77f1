"""Review decisions: accept, relabel, discard, escalate — one item or a selection, with the same code path.

Each call locks the items' rows (in id order, so two bulk actions never deadlock), supersedes their current
decisions, stores the new ones, and moves ``Item.status``/``final_label`` to follow them. Two reviewers deciding
the same item at once are serialised by the row lock: both decisions are stored, the later one is current.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from activelearning.priority import RELABEL_REQUESTED
from annotation.models import Guideline, Item, Project
from annotation.selectors import label_choices, label_mapping_for, map_label
from annotation.services.item_state import ReviewApplied, annotations_supersede, items_review_applied
from core.errors import Conflict, NotFound, ValidationFailed
from kinds.registry import kind_for
from quality.models import ReviewAction, ReviewDecision
from quality.review.selectors import (
    NOBODY_LEFT,
    NOBODY_LEFT_CODE,
    Refusal,
    items_needing_a_chosen_label,
    relabel_refusals,
)

MAX_REASON = 2000
MAX_BULK = 1000
DISCARD_REASONS = ("unusable input", "out of scope", "duplicate")


@dataclass(frozen=True)
class BulkOutcome:
    decisions: list[ReviewDecision]
    refused: list[Refusal]


def _clean_action(action: str) -> str:
    if action not in ReviewAction.values:
        raise ValidationFailed(
            f"Unknown action {action!r}; choose one of {', '.join(ReviewAction.values)}.", field="action"
        )
    return action


def _clean_reason(action: str, reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    if action == ReviewAction.DISCARD and not reason:
        raise ValidationFailed(
            f"A discard needs a reason (e.g. {', '.join(DISCARD_REASONS)}).", field="reason"
        )
    if action == ReviewAction.ESCALATE and not reason:
        raise ValidationFailed("Say what the guideline should clarify.", field="reason")
    return reason


def _answer_finals(*, project: Project, items: list[Item], answer: dict, label: object) -> dict[int, object]:
    """A reviewer's own answer, in the kind's answer fields (``answer``: its input serializer's validated data),
    checked as an annotation would be (the project's labels, then the item it points into) and stored as each
    item's final label. Raises ValidationFailed naming the answer field."""
    field = next(iter(answer))
    if label not in (None, "", []):
        raise ValidationFailed(f"Send either label or {field}, not both.", field=field)
    value_schema = kind_for(project).value_schema
    value = value_schema.validate(
        project=project, value=value_schema.value_from_input(answer), unusable=False
    )
    fit_to_item = getattr(value_schema, "fit_to_item", None)
    active = label_choices(project=project)
    out: dict[int, object] = {}
    for item in items:
        fitted = (
            value if fit_to_item is None else fit_to_item(value=value, text=item.text, profile=item.profile)
        )
        try:
            out[item.pk] = value_schema.final_from_choice(project=project, label=fitted, active=active)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, field=field) from exc
    return out


def _final_labels(
    *, project: Project, items: list[Item], action: str, label: object, answer: dict | None = None
) -> dict[int, object]:
    """The label each accepted item ends up with: the reviewer's answer (``answer``, the kind's answer fields),
    else the given label, else its consensus (mapped to the current schema). Raises ValidationFailed when none is
    usable, or when an item's consensus may not be taken by default
    (:func:`~quality.review.selectors.items_needing_a_chosen_label`)."""
    if action != ReviewAction.ACCEPT:
        if label not in (None, "", []):
            raise ValidationFailed("Only accept takes a label.", field="label")
        return {}
    if answer:
        return _answer_finals(project=project, items=items, answer=answer, label=label)
    active = label_choices(project=project)
    # How a choice becomes a stored final label is the project's kind's (``kinds.registry``).
    final_from_choice = kind_for(project).value_schema.final_from_choice
    if label not in (None, ""):
        chosen = final_from_choice(project=project, label=label, active=active)
        return {item.pk: chosen for item in items}
    mapping = label_mapping_for(project=project)
    must_choose = items_needing_a_chosen_label(project=project, items=items)
    if must_choose:
        names = [item.external_id for item in items if item.pk in must_choose]
        shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
        raise ValidationFailed(
            f"Choose the final label for {shown}: the consensus method picks against the vote majority there, or the "
            "consensus has no vote, so Accept does not take it by default.",
            field="label",
        )
    out: dict[int, object] = {}
    for item in items:
        consensus = map_label(item.consensus_label, mapping)
        if consensus is None:
            raise ValidationFailed(
                f"Item {item.external_id} has no consensus label yet; choose the final label.", field="label"
            )
        try:
            out[item.pk] = final_from_choice(project=project, label=consensus, active=active)
        except ValidationFailed as exc:
            raise ValidationFailed(f"Item {item.external_id}: {exc.message}", field="label") from exc
    return out


def _clean_answer(action: str, answer: dict | None) -> dict | None:
    """Checked before anything else, so a relabel that carries an answer is refused as malformed (400) rather
    than judged on whether an annotator is left to take it."""
    if answer and action != ReviewAction.ACCEPT:
        field = next(iter(answer))
        raise ValidationFailed(
            f"Only accept takes {field}: it becomes the final label. A relabel sends the item back to "
            "annotators; send no answer with it.",
            field=field,
        )
    return answer or None


def _lock_items(*, project: Project, item_ids: list[int], single: bool) -> list[Item]:
    ids = sorted(set(item_ids))
    items = list(Item.objects.select_for_update().filter(project=project, pk__in=ids).order_by("id"))
    if len(items) != len(ids):
        missing = sorted(set(ids) - {item.pk for item in items})
        if single:
            raise NotFound("No such item in this project.", field="item")
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise ValidationFailed(f"{len(missing)} item(s) are not in this project: {shown}.", field="items")
    return items


def _relabel_takers(*, project: Project, items: list[Item], single: bool) -> tuple[list[Item], list[Refusal]]:
    """Split the (locked) items into those some annotator can still be served after a relabel and those nobody
    can (:func:`~quality.review.selectors.relabel_refusals`). Raises Conflict (code ``no_annotator_left``) for a
    single item, or when no item of a selection can be relabelled."""
    refused = relabel_refusals(project=project, item_ids=[item.pk for item in items])
    if single and refused:
        raise Conflict(NOBODY_LEFT, field="action", code=NOBODY_LEFT_CODE, extra={"annotators_left": 0})
    refused_ids = {refusal.item_id for refusal in refused}
    takers = [item for item in items if item.pk not in refused_ids]
    if refused and not takers:
        raise Conflict(
            f"None of the {len(refused)} selected items can be relabelled: every annotator of this project has "
            "already labelled them; add an annotator or decide them yourself.",
            field="items",
            code=NOBODY_LEFT_CODE,
            extra={"refused": [refusal.as_row() for refusal in refused]},
        )
    return takers, refused


def _decide(
    *,
    project: Project,
    reviewer: User,
    item_ids: list[int],
    action: str,
    label: object,
    reason: str | None,
    single: bool,
    answer: dict | None = None,
) -> BulkOutcome:
    action = _clean_action(action)
    reason = _clean_reason(action, reason)
    answer = _clean_answer(action, answer)
    if not item_ids:
        raise ValidationFailed("Select at least one item.", field="items")
    if len(set(item_ids)) > MAX_BULK:
        raise ValidationFailed(
            f"At most {MAX_BULK} items per bulk action; narrow the selection.", field="items"
        )
    items = _lock_items(project=project, item_ids=item_ids, single=single)
    refused: list[Refusal] = []
    if action == ReviewAction.RELABEL:
        items, refused = _relabel_takers(project=project, items=items, single=single)
    finals = _final_labels(project=project, items=items, action=action, label=label, answer=answer)
    now = timezone.now()
    current = dict(
        ReviewDecision.objects.filter(item__in=items, is_current=True).values_list("item_id", "id")
    )
    if current:
        ReviewDecision.objects.filter(pk__in=list(current.values())).update(is_current=False)
    superseded = (
        annotations_supersede(item_ids=[item.pk for item in items]) if action == ReviewAction.RELABEL else {}
    )
    guideline = Guideline.objects.filter(project=project).order_by("-version").first()
    bulk_id = None if single else uuid.uuid4()
    decisions = ReviewDecision.objects.bulk_create(
        [
            ReviewDecision(
                project=project,
                item=item,
                reviewer=reviewer,
                action=action,
                label=finals.get(item.pk),
                reason=reason,
                supersedes_id=current.get(item.pk),
                is_current=True,
                guideline=guideline,
                guideline_version=guideline.version if guideline else 0,
                previous_status=item.status,
                superseded_annotations=superseded.get(item.pk, []),
                bulk_id=bulk_id,
            )
            for item in items
        ]
    )
    # A relabel wants fresh annotations from people who have not seen the item: the queue never serves an item
    # twice to one annotator, so only new annotators can take the new slots. A reviewer's request is served
    # before new items, in the EXTRA band, which re-scoring keeps.
    items_review_applied(
        review=ReviewApplied(
            outcome=action,
            item_ids=[item.pk for item in items],
            final_labels=finals,
            target_at_least=project.annotations_per_item,
            priority=RELABEL_REQUESTED,
        ),
        now=now,
    )
    return BulkOutcome(decisions=decisions, refused=refused)


@transaction.atomic
def review_decide(
    *,
    project: Project,
    reviewer: User,
    item_id: int,
    action: str,
    label: object = None,
    reason: str | None = "",
    answer: dict | None = None,
) -> ReviewDecision:
    """Decide one item; the decision becomes the item's current one.

    accept: ``answer`` (the kind's answer fields, e.g. a structured kind's parts, checked against the item) or
    ``label`` (an active label; default: the item's consensus) becomes ``final_label``, status accepted.
    relabel: live annotations stop counting (kept), status in_progress, target raised to at least k; refused
    (Conflict, code ``no_annotator_left``) when every eligible annotator has already been served the item.
    discard: ``reason`` required; status discarded — never served to annotators, never in a dataset.
    escalate: ``reason`` (the open question) required; status needs_review, shown on the guideline page.

    Raises NotFound (item not in project), ValidationFailed (bad action, label or missing reason).
    """
    return _decide(
        project=project,
        reviewer=reviewer,
        item_ids=[item_id],
        action=action,
        label=label,
        reason=reason,
        single=True,
        answer=answer,
    ).decisions[0]


@transaction.atomic
def review_bulk_decide(
    *,
    project: Project,
    reviewer: User,
    item_ids: list[int],
    action: str,
    label: object = None,
    reason: str | None = "",
) -> BulkOutcome:
    """The same decision on up to ``MAX_BULK`` items, all or nothing, except that a relabel leaves out (in
    ``refused``) the items no annotator is left to take. Accept without a label uses each item's consensus.
    Raises ValidationFailed (unknown items, too many, bad action/label/reason), Conflict (a relabel nobody can
    take on any selected item)."""
    return _decide(
        project=project,
        reviewer=reviewer,
        item_ids=item_ids,
        action=action,
        label=label,
        reason=reason,
        single=False,
    )
