"""Consensus set: the quality layer's per-item results stored on the items, and routing to review.

``items_consensus_set`` is a whole run's results (COPY into a temporary table and one UPDATE … FROM on
PostgreSQL, chunked ``bulk_update`` elsewhere; bench/results/quality_scale.md); ``item_consensus_set`` is one
item's (the per-item pass). Both bump ``updated_at`` on every row they change: a run that started reading
earlier (``snapshot_at``) then leaves the item alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.utils import timezone

from annotation.models import Item, ItemStatus

CHUNK = 1000
_FIELDS = (
    "consensus_label",
    "consensus_confidence",
    "label_quality",
    "is_label_issue",
    "issue_kinds",
    "issue_severity",
    "flag_model",
    "flag_model_label",
    "consensus_suggestion",
)


@dataclass(frozen=True)
class ConsensusRows:
    """Per-item results, one position per item. Labels are JSON values (a label value, a sorted list of values
    for multi-label, or None); NaN confidence or quality is stored as NULL. ``route`` asks to move a
    ``labelled`` item to ``needs_review``. ``model_label`` is the checking model's top label (None where the item
    was not model-checked; the whole list None when no model checked the run); ``suggestion`` the consensus
    method's pick no annotator chose (None where there is none; the whole list None for none at all)."""

    item_ids: np.ndarray
    label: Sequence
    confidence: np.ndarray
    label_quality: np.ndarray
    is_issue: np.ndarray
    reasons: Sequence[Sequence[str]]
    severity: np.ndarray
    route: np.ndarray
    model_label: Sequence | None = None
    suggestion: Sequence | None = None


def _encoded_rows(rows: ConsensusRows, flag_model: str) -> Iterable[tuple]:
    """(id, label JSON, confidence, quality, issue, reasons JSON, severity, route, flag model, model label JSON,
    suggestion JSON). Labels and reason lists repeat across items, so each distinct one is encoded once."""
    label_json: dict = {}
    reasons_json: dict = {}
    n = len(rows.item_ids)
    confidence, quality = rows.confidence.tolist(), rows.label_quality.tolist()
    severity, issue, route = rows.severity.tolist(), rows.is_issue.tolist(), rows.route.tolist()
    model_labels = rows.model_label or [None] * n
    suggestions = rows.suggestion or [None] * n

    def encoded(label):
        key = tuple(label) if isinstance(label, list) else label
        try:
            text = label_json.get(key)
        except TypeError:
            # Structured values (a list of spans or boxes, i.e. of dicts) are no dict key; they rarely repeat.
            return json.dumps(label)
        if text is None and label is not None:
            text = label_json[key] = json.dumps(label)
        return text

    for i, pk in enumerate(np.asarray(rows.item_ids).tolist()):
        reasons = tuple(rows.reasons[i])
        reasons_text = reasons_json.get(reasons)
        if reasons_text is None:
            reasons_text = reasons_json[reasons] = json.dumps(list(reasons))
        conf, qual = confidence[i], quality[i]
        model = encoded(model_labels[i])
        yield (
            pk,
            encoded(rows.label[i]),
            conf if math.isfinite(conf) else None,
            qual if math.isfinite(qual) else None,
            bool(issue[i]),
            reasons_text,
            severity[i],
            bool(route[i]),
            flag_model if model is not None else "",
            model,
            encoded(suggestions[i]),
        )


def items_consensus_set(*, project_id: int, rows: ConsensusRows, snapshot_at, flag_model: str = "") -> int:
    """Store a run's results on the items and move routed ``labelled`` items to ``needs_review``; clear the
    suggestion of the project's other items. Returns how many items moved.

    Items updated after ``snapshot_at`` (when the run started reading) are left alone: the per-item pass already
    wrote fresher values from votes this run did not see. Only ``labelled`` items move, so a reviewer's decision
    taken meanwhile stands. ``flag_model`` names the model whose top labels ``rows.model_label`` holds; items
    without one get "". Precondition: inside the caller's transaction.
    """
    now = timezone.now()
    moved = 0
    if len(rows.item_ids):
        if connection.vendor == "postgresql":
            moved = _set_postgres(rows, now, snapshot_at, flag_model)
        else:
            moved = _set_orm(rows, now, snapshot_at, flag_model)
    # After the update: the rows it changed are newer than snapshot_at now, so this leaves them as written.
    suggested = [
        pk
        for pk, value in zip(np.asarray(rows.item_ids).tolist(), rows.suggestion or [], strict=False)
        if value is not None
    ]
    (
        Item.objects.filter(
            project_id=project_id, consensus_suggestion__isnull=False, updated_at__lte=snapshot_at
        )
        .exclude(pk__in=suggested)
        .update(consensus_suggestion=None, updated_at=now)
    )
    return moved


def _set_orm(rows: ConsensusRows, now, snapshot_at, flag_model: str) -> int:
    moved = 0
    encoded = list(_encoded_rows(rows, flag_model))
    for start in range(0, len(encoded), CHUNK):
        chunk = encoded[start : start + CHUNK]
        fresher = set(
            Item.objects.filter(pk__in=[row[0] for row in chunk], updated_at__gt=snapshot_at).values_list(
                "pk", flat=True
            )
        )
        chunk = [row for row in chunk if row[0] not in fresher]
        Item.objects.bulk_update(
            [
                Item(
                    pk=pk,
                    consensus_label=_decoded(label),
                    consensus_confidence=conf,
                    label_quality=quality,
                    is_label_issue=issue,
                    issue_kinds=json.loads(reasons),
                    issue_severity=severity,
                    flag_model=model_name,
                    flag_model_label=_decoded(model),
                    consensus_suggestion=_decoded(suggestion),
                    updated_at=now,
                )
                for pk, label, conf, quality, issue, reasons, severity, _route, model_name, model, suggestion in chunk
            ],
            [*_FIELDS, "updated_at"],
        )
        routed = [row[0] for row in chunk if row[7]]
        if routed:
            moved += Item.objects.filter(pk__in=routed, status=ItemStatus.LABELLED).update(
                status=ItemStatus.NEEDS_REVIEW, updated_at=now
            )
    return moved


def _decoded(text: str | None):
    return None if text is None else json.loads(text)


def _set_postgres(rows: ConsensusRows, now, snapshot_at, flag_model: str) -> int:
    # One COPY into a temporary table and one UPDATE … FROM (Django's bulk_update needs seconds per thousand
    # rows here). Rows whose values did not change are not rewritten, which keeps re-runs cheap.
    item_table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE item_consensus_rows (id bigint PRIMARY KEY, consensus_label jsonb, "
            "consensus_confidence double precision, label_quality double precision, is_label_issue boolean, "
            "issue_kinds jsonb, issue_severity double precision, route boolean, flag_model varchar(120), "
            "flag_model_label jsonb, consensus_suggestion jsonb, move boolean NOT NULL DEFAULT false) ON COMMIT DROP"
        )
        columns = (
            "id, consensus_label, consensus_confidence, label_quality, is_label_issue, issue_kinds, issue_severity, "
            "route, flag_model, flag_model_label, consensus_suggestion"
        )
        with cursor.cursor.copy(f"COPY item_consensus_rows ({columns}) FROM STDIN") as copy:
            for row in _encoded_rows(rows, flag_model):
                copy.write_row(row)
        # Mark the moves in the (unlogged, cheap) temporary table, so the items get one UPDATE, not two.
        cursor.execute(
            f"UPDATE item_consensus_rows AS t SET move = true FROM {item_table} AS i "
            "WHERE i.id = t.id AND t.route AND i.status = %s AND i.updated_at <= %s",
            [ItemStatus.LABELLED.value, snapshot_at],
        )
        moved = cursor.rowcount
        cursor.execute("ANALYZE item_consensus_rows")
        # Re-checking the status inside the CASE keeps a decision a reviewer committed meanwhile.
        cursor.execute(
            f"UPDATE {item_table} AS i SET consensus_label = t.consensus_label, "
            "consensus_confidence = t.consensus_confidence, label_quality = t.label_quality, "
            "is_label_issue = t.is_label_issue, issue_kinds = t.issue_kinds, issue_severity = t.issue_severity, "
            "flag_model = t.flag_model, flag_model_label = t.flag_model_label, "
            "consensus_suggestion = t.consensus_suggestion, "
            "status = CASE WHEN t.move AND i.status = %s THEN %s ELSE i.status END, updated_at = %s "
            "FROM item_consensus_rows AS t WHERE i.id = t.id AND i.updated_at <= %s "
            "AND (t.move OR (i.consensus_label, i.consensus_confidence, i.label_quality, i.is_label_issue, "
            "i.issue_kinds, i.issue_severity, i.flag_model, i.flag_model_label, i.consensus_suggestion) "
            "IS DISTINCT FROM (t.consensus_label, t.consensus_confidence, t.label_quality, t.is_label_issue, "
            "t.issue_kinds, t.issue_severity, t.flag_model, t.flag_model_label, t.consensus_suggestion))",
            [ItemStatus.LABELLED.value, ItemStatus.NEEDS_REVIEW.value, now, snapshot_at],
        )
        cursor.execute("DROP TABLE item_consensus_rows")
    return int(moved)


def item_consensus_set(
    *,
    item_id: int,
    status: str,
    consensus,
    confidence: float | None,
    is_issue: bool,
    reasons: list[str],
    severity: float,
    route: bool,
    suggestion=None,
) -> bool:
    """Store one item's consensus fields; move it to ``needs_review`` when routed and ``labelled`` (``status``
    is the item's status as read under the caller's row lock). Returns whether it moved."""
    fields = {
        "consensus_label": consensus,
        "consensus_confidence": confidence,
        "is_label_issue": is_issue,
        "issue_kinds": reasons,
        "issue_severity": severity,
        "consensus_suggestion": suggestion,
        "updated_at": timezone.now(),
    }
    moved = route and status == ItemStatus.LABELLED
    if moved:
        fields["status"] = ItemStatus.NEEDS_REVIEW
    Item.objects.filter(pk=item_id).update(**fields)
    return moved
