"""The model-based steps a run can take: the quality model refitted inside the run, the consensus method that
follows from what model probabilities exist, and the probabilities the label-issue check uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quality.adapters import ProjectData
from quality.metrics.consensus_oos import cross_val_pred_probs
from quality.services.kind_steps import encoding_for

# The quality model needs this many annotated items with features before it replaces the base model's
# probabilities (five folds that each see every common class).
QUALITY_MODEL_MIN_ITEMS = 30
QUALITY_MODEL_ROUNDS = 2
# Which model's probabilities the label-issue check (``model_disagrees``, ``is_label_issue``) used; the run stores
# it with the model's top label per item so every page shows that model's prediction next to the flag.
CHECK_MODEL_QUALITY = "quality"
CHECK_MODEL_BASE = "base"
QUALITY_MODEL_TEXT = (
    "a quality model (logistic regression + 10 nearest neighbours on the items' cached features, 5-fold "
    "out-of-sample on the consensus)"
)


@dataclass(frozen=True)
class QualityModel:
    """The model behind CROWDLAB and the label-issue check when items have cached features.

    The base model's stored probabilities come from a network trained on the consensus of an earlier run. The
    quality model is refitted inside the run, cross-validated on the current consensus, with the recipe that
    won the benchmarks (``bench/results/quality_accuracy.md``, ``bench/results/label_issues.md``):
    :func:`~quality.metrics.consensus_oos.cross_val_pred_probs`, alternated with CROWDLAB by
    :func:`~quality.metrics.consensus_iterative.iterative_crowdlab`.

    Attributes:
        covered: bool ``(n_items,)``, annotated items whose features are complete (the model's rows).
        features: float ``(covered.sum(), dim)``.
        n_classes: columns of the probabilities.
    """

    covered: np.ndarray
    features: np.ndarray
    n_classes: int
    seed: int = 0

    def fit(self, labels: np.ndarray) -> np.ndarray:
        """``(n_items, n_classes)`` probabilities, out-of-sample for every covered item with a label (``-1`` =
        none, not trained on); uniform rows for items the model does not cover."""
        out = np.full((self.covered.size, self.n_classes), 1.0 / self.n_classes)
        out[self.covered] = cross_val_pred_probs(
            features=self.features,
            labels=np.asarray(labels)[self.covered],
            n_classes=self.n_classes,
            seed=self.seed,
        )
        return out

    def masked(self, probs: np.ndarray) -> np.ndarray:
        """``probs`` with NaN rows where the model does not cover an item (those are not model-checked)."""
        return np.where(self.covered[:, None], probs, np.nan)


def quality_model_for(data: ProjectData) -> QualityModel | None:
    """The quality model of a project whose kind takes model probabilities and whose annotated items have
    features (None otherwise, or when fewer than ``QUALITY_MODEL_MIN_ITEMS`` of them do)."""
    if encoding_for(data).model_free_reason is not None or data.features is None:
        return None
    features = np.asarray(data.features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] != data.table.n_items:
        raise ValueError(f"features must have shape ({data.table.n_items}, dim), got {features.shape}")
    covered = np.isfinite(features).all(axis=1) & (data.table.annotations_per_item() > 0)
    if covered.sum() < QUALITY_MODEL_MIN_ITEMS:
        return None
    return QualityModel(covered=covered, features=features[covered], n_classes=data.table.n_classes)


def choose_method(
    *, requested: str, data: ProjectData, quality_model: QualityModel | None = None
) -> tuple[str, str]:
    """The consensus method to run and a note on it (empty when it is exactly what was asked for).

    CROWDLAB runs on the labelled items that have out-of-sample model probabilities (from the quality model when
    there is one, else the base model's stored ones); labelled items without them (content the model could not
    read, items labelled after the last training run) take their consensus from Dawid–Skene, so one missing
    prediction does not switch the model off for the whole project.
    """
    table = data.table
    per_item = table.annotations_per_item()
    annotated = per_item > 0
    has = data.has_probs if quality_model is None else quality_model.covered
    covered = annotated & has
    n_missing = int((annotated & ~has).sum())
    # cleanlab's multi-annotator model needs at least one item with two annotations among those it scores.
    model_free_reason = encoding_for(data).model_free_reason
    can_crowdlab = model_free_reason is None and bool((covered & (per_item >= 2)).any())
    if quality_model is not None:
        crowdlab_note = (
            f"CROWDLAB with {QUALITY_MODEL_TEXT}, fitted on Dawid–Skene labels and refitted once"
            + (
                "."
                if not n_missing
                else f", on the {int(covered.sum()):,} labelled items with features; Dawid–Skene for the "
                f"{n_missing:,} labelled item{'s' if n_missing != 1 else ''} without them."
            )
        )
    else:
        crowdlab_note = (
            "CROWDLAB, because model probabilities exist for every labelled item."
            if not n_missing
            else f"CROWDLAB on the {int(covered.sum()):,} labelled items with model probabilities; Dawid–Skene "
            f"for the {n_missing:,} labelled item{'s' if n_missing != 1 else ''} without them."
        )
    if requested == "auto":
        if can_crowdlab:
            return "crowdlab", crowdlab_note
        reason = (
            model_free_reason
            if model_free_reason is not None
            else "there are no model probabilities yet"
            if not covered.any()
            else "no item with model probabilities has two annotations yet"
        )
        return "dawid_skene", f"Dawid–Skene, because {reason}."
    if requested == "crowdlab" and not can_crowdlab:
        return (
            "dawid_skene",
            "CROWDLAB was asked for but cannot run here (it needs model probabilities and two "
            "annotations on at least one item of a single-label project); Dawid–Skene was used instead.",
        )
    if requested == "crowdlab" and n_missing:
        return "crowdlab", crowdlab_note
    if requested not in ("majority_vote", "dawid_skene", "crowdlab"):
        return "dawid_skene", f"Unknown consensus method {requested!r}; Dawid–Skene was used."
    return requested, ""


def base_model_probs(data: ProjectData, label: np.ndarray) -> np.ndarray | None:
    """Model probabilities for the label-issue check, NaN rows where an item has none (that item is not
    model-checked); None when no item with a consensus has probabilities (or for multi-label projects)."""
    if encoding_for(data).model_free_reason is not None or not (data.has_probs & (label >= 0)).any():
        return None
    return np.where(data.has_probs[:, None], data.pred_probs, np.nan)
