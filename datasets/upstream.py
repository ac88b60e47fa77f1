"""The one place that reads the quality and active-learning apps' own models.

Those apps are built alongside this one, so their models are looked up by name and every field is checked
before use: a missing model or field yields ``None``, never an error. Item-level figures are read from the
denormalised ``Item`` fields instead (see ``datasets.selectors``).
"""

import json
import logging
import math
from collections.abc import Callable
from typing import TypeVar

from django.apps import apps
from django.db import DatabaseError, connection, models, transaction
from django.db.models import OuterRef, Subquery

from annotation.models import Project

logger = logging.getLogger(__name__)
T = TypeVar("T")
# quality.models.ReviewAction.ACCEPT, spelled out: this module reads the quality app by name only.
ACCEPT = "accept"


def _guarded(read: Callable[[], T], fallback: T) -> T:
    """Run a read in a savepoint: a model whose table is not migrated yet must not abort the freeze."""
    try:
        with transaction.atomic():
            return read()
    except DatabaseError as exc:
        logger.warning("upstream read skipped: %s", exc)
        return fallback


def _model(app_label: str, name: str) -> type[models.Model] | None:
    """The model, or None when its app does not define it. Callers query it through ``_default_manager``: a model
    looked up by name is typed as any model, which has no ``objects``; these models declare no other manager."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _fields(model: type[models.Model]) -> set[str]:
    return {field.name for field in model._meta.get_fields()}


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return value


def _latest(model: type[models.Model] | None, project: Project) -> models.Model | None:
    if model is None or "project" not in _fields(model):
        return None
    return _guarded(lambda: model._default_manager.filter(project=project).order_by("-pk").first(), None)


def _kind_hlp(kind_figures) -> dict | None:
    """A span or box run's HLP (a judgement F1, not an accuracy) against each reference, with the model's F1 when
    the kind has one; None for a class run."""
    hlp = (kind_figures or {}).get("hlp_f1")
    if not isinstance(hlp, dict):
        return None
    keep = ("f1", "ci", "n_judgements", "n_items")
    figures = _jsonable(
        {
            "consensus": {k: (hlp.get("consensus") or {}).get(k) for k in keep},
            "gold": None if not hlp.get("gold") else {k: hlp["gold"].get(k) for k in keep},
            "model_f1": hlp.get("model_f1"),
        }
    )
    return figures if isinstance(figures, dict) else None


def quality_figures(*, project: Project) -> dict:
    """α, HLP and model accuracy from the latest quality report (and model version), or nulls."""
    figures: dict = {
        "krippendorff_alpha": None,
        "fleiss_kappa": None,
        "hlp": None,
        "model_accuracy": None,
        "quality_report_id": None,
        "model_version_id": None,
        "accuracy_by_reference": [],
        "kind_hlp": None,
    }
    report = _latest(_model("quality", "QualityReport"), project)
    if report is not None:
        figures["quality_report_id"] = report.pk
        for name in ("krippendorff_alpha", "fleiss_kappa", "hlp", "model_accuracy"):
            figures[name] = _jsonable(getattr(report, name, None))
        # HLP and the model per reference on the same judgements, the model named (the bare ``hlp`` and
        # ``model_accuracy`` above may be measured against different references on different items).
        figures["accuracy_by_reference"] = _jsonable(
            list(getattr(report, "accuracy_by_reference", None) or [])
        )
        figures["kind_hlp"] = _kind_hlp(getattr(report, "kind_figures", None))
    model_version = _latest(_model("activelearning", "ModelVersion"), project)
    if model_version is not None:
        figures["model_version_id"] = model_version.pk
        if figures["model_accuracy"] is None:
            figures["model_accuracy"] = _jsonable(getattr(model_version, "cv_accuracy", None))
    return figures


def latest_decision_subquery(*, project: Project) -> Subquery | None:
    """A subquery giving the id of the review decision behind an item's label (for ``OuterRef("pk")``): its
    current decision when that is an accept, else NULL. Returns None when the project has no decisions, or the
    quality app has no ReviewDecision table yet (the model may exist before its migration).

    Only a current accept produces a label (``Item.final_label``). A relabel, discard or escalation clears
    ``final_label``, so such an item's label is its consensus and no decision stands behind it; an accept that a
    later decision superseded no longer does either.
    """
    decision = _model("quality", "ReviewDecision")
    if decision is None or not {"item", "action", "is_current"} <= _fields(decision):
        return None
    if decision._meta.db_table not in connection.introspection.table_names():
        return None
    if not _guarded(lambda: decision._default_manager.filter(item__project=project).exists(), False):
        return None
    current_accept = decision._default_manager.filter(item=OuterRef("pk"), is_current=True, action=ACCEPT)
    return Subquery(current_accept.order_by("-pk").values("pk")[:1])
