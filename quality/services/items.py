"""The cheap per-item consensus update run when an item receives its k-th annotation."""

from __future__ import annotations

import numpy as np
from django.db import transaction

from annotation.item_flags import profiling_flagged
from annotation.models import ItemStatus, Project
from annotation.services.item_state import item_consensus_set
from kinds.registry import kind_for
from quality.adapters import ItemVotes, item_votes_load, items_votes_load
from quality.metrics.consensus_votes import gold_settled_confidence
from quality.services.kind_steps import ItemConsensus


@transaction.atomic
def item_consensus_update(*, project_id: int, item_id: int) -> dict | None:
    """Recompute one item's consensus from its live votes (Dawid–Skene weights from the last quality run when
    present, with the item's model probabilities as its prior when that run was model-aware, else majority
    vote), flag it, and route low-agreement ``labelled`` items to ``needs_review``.

    Idempotent: it reads the votes and writes derived values only. Returns a summary, or None when the
    project or item is gone or the item is discarded.
    """
    project = Project.objects.filter(pk=project_id).first()
    if project is None or _left_to_the_run(project):
        return None
    votes = item_votes_load(project=project, item_id=item_id)
    if votes is None or votes.item.status == ItemStatus.DISCARDED:
        return None
    return _consensus_apply(project=project, votes=votes)


ITEMS_CHUNK = 500


def items_consensus_update(*, project_id: int, item_ids: list[int]) -> dict:
    """``item_consensus_update`` for many items of one project: the per-item pass's handler. Votes are read a
    chunk of items at a time (each chunk one transaction, its items locked in id order); items gone or
    discarded are skipped. Returns how many items were updated and how many moved to review."""
    project = Project.objects.filter(pk=project_id).first()
    updated = moved = 0
    if project is None or _left_to_the_run(project):
        return {"updated": 0, "moved": 0}
    for start in range(0, len(item_ids), ITEMS_CHUNK):
        with transaction.atomic():
            for votes in items_votes_load(project=project, item_ids=item_ids[start : start + ITEMS_CHUNK]):
                if votes.item.status == ItemStatus.DISCARDED:
                    continue
                updated += 1
                moved += int(_consensus_apply(project=project, votes=votes)["moved"])
    return {"updated": updated, "moved": moved}


def _left_to_the_run(project: Project) -> bool:
    """Whether the project's kind has structured answers (spans, boxes): their consensus needs the whole
    document's answers decoded together, which the next quality run does; the per-item pass leaves the item."""
    encoding = kind_for(project).quality_part.encoding(multi_label=project.multi_label)
    return bool(getattr(encoding, "structured", False))


def _consensus_apply(*, project: Project, votes: ItemVotes) -> dict:
    """Compute and store one item's consensus from ``votes`` (its row locked by the caller)."""
    # Imported here: the metrics pull in cleanlab/scikit-learn (seconds), which web processes never need.
    from quality.metrics.label_issues import decode_reasons, find_label_issues

    # The consensus rule, and how codes read back as labels, are the kind's (loaded here, by the task only).
    encoding = kind_for(project).quality_part.encoding(multi_label=project.multi_label)
    result = (
        ItemConsensus(code=-1, confidence=float("nan"), is_tie=False)
        if votes.labels.size == 0
        else encoding.item_consensus(votes)
    )
    code, tie, overrides = result.code, result.is_tie, result.overrides
    # As in the run: on a gold item the consensus is known right or wrong, whatever the votes' posterior says.
    confidence = float(
        gold_settled_confidence(
            label=np.array([code]),
            confidence=np.array([result.confidence], dtype=np.float64),
            gold=np.array([votes.gold]),
        )[0]
    )
    consensus, suggestion = encoding.decode(votes.label_values, np.array([code, result.suggestion]))
    unchanged = consensus == votes.item.consensus_label
    stored_quality = (
        votes.item.label_quality if unchanged and votes.item.label_quality is not None else np.nan
    )
    # The last run's model check cannot be redone for one item (cleanlab's pruning needs the whole project), but
    # its model's top label is stored: ``model_disagrees`` is recomputed against the new consensus, and a label
    # issue the run found stands while the consensus it judged stands.
    model_code = encoding.model_label_code(votes.item.flag_model_label, votes.label_values)
    issues = find_label_issues(
        consensus_label=np.array([code]),
        model_label=np.array([model_code]),
        label_quality=np.array([stored_quality]),
        consensus_confidence=np.array([confidence]),
        vote_counts=result.vote_counts,
        gold_label=np.array([votes.gold]),
        profile_flag=np.array([profiling_flagged(votes.item.flags)]),
        unsure_count=np.array([votes.unsure_count]),
        unusable_count=np.array([votes.unusable_count]),
        confidence_threshold=project.review_confidence_threshold,
    )
    reasons = list(decode_reasons(issues.reasons)[0])
    if overrides:
        reasons.append("model_overrides_annotators")
    kept = (
        votes.item.is_label_issue
        and unchanged
        and "model_disagrees" in reasons
        and "model_disagrees" in (votes.item.issue_kinds or [])
    )
    is_issue = bool(issues.is_label_issue[0]) or kept
    route = bool(reasons) and (project.route_flagged_to_review or reasons != ["profile_flag"])
    moved = item_consensus_set(
        item_id=votes.item.pk,
        status=votes.item.status,
        consensus=consensus,
        confidence=float(confidence) if np.isfinite(confidence) else None,
        is_issue=is_issue,
        reasons=reasons,
        severity=float(issues.severity[0]),
        route=route,
        suggestion=suggestion,
    )
    return {
        "consensus": consensus,
        "confidence": confidence,
        "tie": tie,
        "reasons": reasons,
        "moved": moved,
        "suggestion": suggestion,
    }
