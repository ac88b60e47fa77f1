"""Per-item results of a quality run: stored as ``ItemQuality`` rows with bulk statements (COPY on PostgreSQL,
chunked ``bulk_create`` elsewhere) and handed to the item state machine, which owns the items."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db import connection

from annotation.services.item_state import ConsensusRows, items_consensus_set
from quality.models import ItemQuality


@dataclass(frozen=True)
class ItemResults:
    """Per-item results in the item order of :class:`ProjectData`. ``consensus`` holds JSON values (a label
    value, a sorted list of values for multi-label, or None); ``is_issue`` marks labels that are probably wrong;
    ``route`` marks items to move from ``labelled`` to ``needs_review`` (any reason to look); ``model_label``
    is the checking model's top label (a label value, or None where the item was not model-checked)."""

    item_ids: np.ndarray
    consensus: list
    confidence: np.ndarray
    is_tie: np.ndarray
    label_quality: np.ndarray
    is_issue: np.ndarray
    reasons: list[list[str]]
    severity: np.ndarray
    route: np.ndarray
    model_label: list | None = None
    #: the consensus method's top label where no annotator chose it (a label value, else None); None for all
    #: items of multi-label runs
    suggestion: list | None = None


def _rows(results: ItemResults) -> Iterable[tuple]:
    """(id, label JSON text, confidence, tie, label quality, issue, reasons JSON text, severity, route, model
    label JSON text).

    Labels and reason lists repeat across items, so their JSON text is encoded once per distinct value.
    """
    label_json: dict = {}
    reasons_json: dict = {}
    confidence = results.confidence.tolist()
    quality = results.label_quality.tolist()
    severity = results.severity.tolist()
    tie, issue, route = results.is_tie.tolist(), results.is_issue.tolist(), results.route.tolist()
    model_labels = results.model_label or [None] * len(results.consensus)

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

    for i, pk in enumerate(results.item_ids.tolist()):
        text = encoded(results.consensus[i])
        reasons = tuple(results.reasons[i])
        reasons_text = reasons_json.get(reasons)
        if reasons_text is None:
            reasons_text = reasons_json[reasons] = json.dumps(list(reasons))
        conf, qual = confidence[i], quality[i]
        yield (
            pk,
            text,
            conf if math.isfinite(conf) else None,
            bool(tie[i]),
            qual if math.isfinite(qual) else None,
            bool(issue[i]),
            reasons_text,
            # Items with only a reason to look keep their severity: it orders them in the review queue.
            severity[i],
            bool(route[i]),
            encoded(model_labels[i]),
        )


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def item_results_write(*, report_id: int, results: ItemResults) -> None:
    """Insert one ItemQuality row per item. Precondition: inside the caller's transaction, no rows yet for
    ``report_id``."""
    if _is_postgres():
        table = ItemQuality._meta.db_table
        sql = (
            f"COPY {table} (report_id, item_id, consensus_label, confidence, is_tie, label_quality, is_issue, "
            "reasons, severity, model_label) FROM STDIN"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for pk, label, conf, tie, quality, issue, reasons, severity, _, model in _rows(results):
                copy.write_row((report_id, pk, label, conf, tie, quality, issue, reasons, severity, model))
        return
    batch = []
    for pk, label, conf, tie, quality, issue, reasons, severity, _, model in _rows(results):
        batch.append(
            ItemQuality(
                report_id=report_id,
                item_id=pk,
                consensus_label=None if label is None else json.loads(label),
                confidence=conf,
                is_tie=tie,
                label_quality=quality,
                is_issue=issue,
                reasons=json.loads(reasons),
                severity=severity,
                model_label=None if model is None else json.loads(model),
            )
        )
        if len(batch) >= 2000:
            ItemQuality.objects.bulk_create(batch)
            batch = []
    if batch:
        ItemQuality.objects.bulk_create(batch)


def items_denormalise(*, project_id: int, results: ItemResults, snapshot_at, flag_model: str = "") -> int:
    """Hand the run's per-item results (consensus, flags, suggestions, routing) to the item state machine
    (``annotation.services.item_state.items_consensus_set``: items updated after ``snapshot_at`` keep what the
    per-item pass wrote). Returns how many items moved to review. Precondition: inside the caller's transaction.
    """
    return items_consensus_set(
        project_id=project_id,
        rows=ConsensusRows(
            item_ids=results.item_ids,
            label=results.consensus,
            confidence=results.confidence,
            label_quality=results.label_quality,
            is_issue=results.is_issue,
            reasons=results.reasons,
            severity=results.severity,
            route=results.route,
            model_label=results.model_label,
            suggestion=results.suggestion,
        ),
        snapshot_at=snapshot_at,
        flag_model=flag_model,
    )
