"""The token model's last label-issue check, carried into a span quality run: the run recomputes every item's
reasons from the answers, so the model's ``model_disagrees`` flags (``activelearning.services.token_training``)
are merged back for items whose consensus spans are still the ones the model was checked against, and the
model's out-of-sample F1 (``model_f1``) joins the report's ``kind_figures`` beside HLP.

Imported by quality tasks only (through ``kinds.spans.spans_quality``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from activelearning.models import ModelVersion, TokenPrediction
from quality.adapters import ItemResults

MODEL_REASON = "model_disagrees"
MODEL_SEVERITY = 0.9


def _span_set(spans: object) -> frozenset | None:
    if not isinstance(spans, list):
        return None
    return frozenset((s.get("start"), s.get("end"), s.get("label")) for s in spans if isinstance(s, dict))


def token_model_check(*, items: ItemResults, project_id: int | None) -> tuple[ItemResults, dict]:
    """``items`` with the token model's flags merged in, and the figures to add to ``kind_figures``
    (``model_f1``: None before a token model was trained). Without a project (answers built in memory) nothing is
    read and ``items`` come back as they are."""
    ids = np.asarray(items.item_ids).tolist()
    if project_id is None or not ids:
        return items, {}
    version = (
        ModelVersion.objects.filter(project_id=project_id, extractor_name="token-ngram-cnn")
        .order_by("-version")
        .only("figures")
        .first()
    )
    if version is None:
        return items, {"model_f1": None}
    flagged = dict(
        TokenPrediction.objects.filter(project_id=project_id, is_issue=True).values_list(
            "item_id", "checked_spans"
        )
    )
    position = {pk: i for i, pk in enumerate(ids)}
    keep = np.zeros(len(ids), dtype=bool)
    for pk, checked in flagged.items():
        i = position.get(pk)
        if i is not None and _span_set(items.consensus[i]) == _span_set(checked):
            keep[i] = True
    reasons = [
        [*row, MODEL_REASON] if keep[i] and MODEL_REASON not in row else list(row)
        for i, row in enumerate(items.reasons)
    ]
    merged = dataclasses.replace(
        items,
        is_issue=np.asarray(items.is_issue, dtype=bool) | keep,
        reasons=reasons,
        severity=np.where(keep, np.maximum(items.severity, MODEL_SEVERITY), items.severity),
    )
    return merged, {"model_f1": (version.figures or {}).get("model_f1")}
