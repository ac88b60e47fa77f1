"""Adaptive overlap: more annotations for items whose votes disagree, fewer for easy ones the model confirms.

A labelled item (or one routed to review, without a reviewer's final label) whose sure votes have no strict
majority gets its target raised one annotation at a time, up to ``project.max_annotations_per_item``, and goes
back to the queue (``in_progress``) in the EXTRA priority band — never beyond what the annotators the queue can
still serve it to can give (``annotation.selectors.annotators_left_for_items``). A disputed item nobody is left
to ask goes to ``needs_review`` instead: the crowd cannot settle it, a reviewer must. With ``project.early_stopping`` an item whose two
votes agree with a confident model needs no third one (see ``scoring._early_stop_targets``; the rule itself is
``activelearning.overlap.additional_annotations``).

In the training job, an item the rule leaves settled but that is below the cap is also reopened for one more
annotation when its ActiveLab score says that annotation is worth more than a first one of the new items served
next (``activelearning.relabel.relabel_or_new``); the others stay closed.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from activelearning import adapters, overlap, priority
from activelearning.answers import answer_classes
from activelearning.models import Prediction
from activelearning.relabel import relabel_or_new, vote_counts
from annotation.models import Item, Project
from annotation.selectors import annotators_left_for_items, label_schema_for
from annotation.services import item_state

NEUTRAL_WITHIN = 0.5  # place in the EXTRA band for an item without an ActiveLab score


def _limits(project: Project) -> tuple[int, int]:
    k = max(1, project.annotations_per_item)
    return k, max(k, project.max_annotations_per_item)


def _wanted_targets(
    *,
    votes: np.ndarray,
    annotation_count: np.ndarray,
    model_proba: np.ndarray | None,
    project: Project,
    confidence: float,
) -> np.ndarray:
    """Target per item the rule asks for (0 where nothing more is needed). Unsure votes count in
    ``annotation_count`` but not in ``votes``, so the target is the current count plus what the rule still
    wants, capped at the maximum."""
    k, max_k = _limits(project)
    needed = overlap.additional_annotations(
        votes=votes,
        k=k,
        max_k=max_k,
        model_proba=model_proba,
        early_stop=bool(project.early_stopping),
        confidence=confidence,
    )
    target = np.minimum(annotation_count + needed, max_k)
    return np.where((needed > 0) & (target > annotation_count), target, 0)


def _reachable(
    *, project: Project, item_ids: np.ndarray, wanted: np.ndarray, annotation_count: np.ndarray
) -> np.ndarray:
    """``wanted`` lowered to what the annotators left can give; 0 where that is no more than the item has."""
    asked = np.flatnonzero(wanted > 0)
    if not len(asked):
        return wanted
    left = annotators_left_for_items(project=project, item_ids=item_ids[asked].tolist())
    capped = wanted.copy()
    capped[asked] = overlap.capped_targets(
        wanted=wanted[asked],
        annotation_count=annotation_count[asked],
        annotators_left=np.asarray([left[pk] for pk in item_ids[asked].tolist()], dtype=np.int64),
    )
    return np.where(capped > annotation_count, capped, 0)


def overlap_apply(
    *,
    project: Project,
    votes: adapters.Votes,
    n_classes: int,
    proba_by_item: dict[int, np.ndarray],
    relabel_by_item: dict[int, float],
    confidence: float,
    new_scores: np.ndarray | None = None,
) -> dict:
    """The bulk pass of the training job over every labelled item still open to more votes.

    ``relabel_by_item`` holds ActiveLab scores of labelled items, ``new_scores`` those of the new items served
    next on the same scale (see ``scoring.pool_score``); without them only the overlap rule reopens items.
    """
    eligible = np.isin(votes.status, adapters.OVERLAP_STATUSES) & ~votes.final_set
    counts = vote_counts(
        item_index=votes.item_index, labels=votes.labels, n_items=len(votes.item_ids), n_classes=n_classes
    )
    rows = np.flatnonzero(eligible)
    if not len(rows) or not answer_classes(project).counts_votes:
        return {"n_reopened": 0, "n_checked": 0, "n_relabel_over_new": 0, "n_disputed_to_review": 0}
    proba = np.full((len(rows), n_classes), np.nan)
    for position, pk in enumerate(votes.item_ids[rows].tolist()):
        found = proba_by_item.get(pk)
        if found is not None:
            proba[position] = found
    seen = votes.annotation_count[rows]
    row_ids = votes.item_ids[rows]
    wanted = _wanted_targets(
        votes=counts[rows], annotation_count=seen, model_proba=proba, project=project, confidence=confidence
    )
    _, max_k = _limits(project)
    wins = relabel_or_new(
        relabel_scores=np.asarray([relabel_by_item.get(pk, np.nan) for pk in row_ids.tolist()]),
        eligible=(wanted == 0) & (seen < max_k),
        new_scores=np.empty(0) if new_scores is None else new_scores,
    )
    # Capped after the relabel choice: only the few items the rule or ActiveLab asks more of are looked up.
    target = _reachable(
        project=project, item_ids=row_ids, wanted=np.where(wins, seen + 1, wanted), annotation_count=seen
    )
    wins &= target > 0
    reopen = target > 0
    item_ids = row_ids[reopen]
    within = np.asarray([1.0 - relabel_by_item.get(pk, 1.0 - NEUTRAL_WITHIN) for pk in item_ids.tolist()])
    reopened = adapters.items_reopen(
        item_ids=item_ids,
        seen_count=seen[reopen],
        target=target[reopen],
        priority=priority.priorities(band=np.full(len(item_ids), priority.BAND_EXTRA), within=within),
    )
    stranded = (wanted > 0) & (target == 0) & ~overlap.settled(votes=counts[rows])
    routed = adapters.items_route_to_review(item_ids=row_ids[stranded], seen_count=seen[stranded])
    return {
        "n_reopened": reopened,
        "n_checked": int(len(rows)),
        "n_relabel_over_new": int(wins.sum()),
        "n_disputed_to_review": routed,
    }


@transaction.atomic
def item_overlap_update(*, project: Project, item_id: int, confidence: float) -> int | None:
    """Apply the overlap rule to one item that just reached its target; returns its new target or None.

    Idempotent: a reopened item is ``in_progress`` and is left alone until it is labelled again. A disputed item
    the rule wants more votes for but no annotator is left to give goes to ``needs_review`` (None is returned).
    """
    item = (
        Item.objects.select_for_update()
        .filter(
            pk=item_id,
            project=project,
            is_gold=False,
            status__in=adapters.OVERLAP_STATUSES,
            final_label__isnull=True,
        )
        .only("id", "annotation_count", "predicted_probs")
        .first()
    )
    if item is None or not answer_classes(project).counts_votes:
        return None
    labels = label_schema_for(project=project)
    label_values = labels.values
    votes = adapters.item_votes(
        project=project, item_id=item.pk, index=labels.index, n_classes=len(label_values)
    )
    proba = None
    if isinstance(item.predicted_probs, dict):
        proba = np.asarray([[float(item.predicted_probs.get(value, np.nan)) for value in label_values]])
    count = np.asarray([item.annotation_count])
    wanted = _wanted_targets(
        votes=votes[None, :],
        annotation_count=count,
        model_proba=proba,
        project=project,
        confidence=confidence,
    )
    target = _reachable(
        project=project, item_ids=np.asarray([item.pk]), wanted=wanted, annotation_count=count
    )[0]
    if target <= 0:
        if wanted[0] > 0 and not overlap.settled(votes=votes[None, :])[0]:
            adapters.items_route_to_review(item_ids=np.asarray([item.pk]), seen_count=count)
        return None
    relabel = Prediction.objects.filter(item_id=item.pk).values_list("relabel_score", flat=True).first()
    within = NEUTRAL_WITHIN if relabel is None else 1.0 - relabel
    item_state.item_reopen(
        item_id=item.pk,
        target=int(target),
        priority=float(
            priority.priorities(band=np.asarray([priority.BAND_EXTRA]), within=np.asarray([within]))[0]
        ),
    )
    return int(target)
