"""What a kind's quality part hands the engine (:class:`Consensus` for a run, :class:`ItemConsensus` for the
per-item update), and how the engine finds the kind's encoding (``kinds.registry``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kinds.registry import kind_for_task_type
from quality.adapters import ProjectData

# Confusion matrices larger than this many numbers are not kept for the per-item update (JSON size).
MAX_PARAMS = 1_000_000


def encoding_for(data: ProjectData) -> Any:
    """The project's kind's encoding and metric steps (``kinds.registry``)."""
    return kind_for_task_type(data.task_type).quality_part.encoding(multi_label=data.multi_label)


@dataclass
class Consensus:
    """A kind's consensus per item (codes of the kind's encoding, -1 = none) and per annotator."""

    label: np.ndarray
    confidence: np.ndarray
    is_tie: np.ndarray
    annotator_quality: np.ndarray
    params: dict
    #: probabilities the consensus was computed with, when they should also drive the label-issue check
    model_probs: np.ndarray | None = None
    #: the method's top class where no annotator chose it (``-1`` elsewhere); None for multi-label projects
    suggestion: np.ndarray | None = None
    #: the method's top class has fewer votes than the item's most-voted class
    overrides: np.ndarray | None = None


@dataclass(frozen=True)
class ItemConsensus:
    """A kind's consensus for one item from its live votes (the per-item update): a code of the kind's encoding
    (-1 = none), its confidence, whether the votes split evenly, the method's top class where no annotator chose
    it (-1 elsewhere), whether that top class has fewer votes than the most-voted one, and the vote counts the
    label-issue check reads (``(1, n_classes)``, None where the kind has none)."""

    code: int
    confidence: float
    is_tie: bool
    suggestion: int = -1
    overrides: bool = False
    vote_counts: np.ndarray | None = None


@dataclass
class StructuredRun:
    """What a kind whose answers are structured (``encoding.structured``: spans, boxes, any answer that is not
    one class code) returns from its own ``encoding.run(answers=..., method=..., review_threshold=...,
    route_profile_flags=..., progress=...)``, which replaces the class-code steps of a run.

    ``scalars`` has the report's shared figures (``n_items``, ``n_annotations``, ``n_annotators``,
    ``n_issues``, and the agreement figures with their ``*_ci``, None where the kind has none);
    ``kind_figures`` the kind's own report figures (``QualityReport.kind_figures``); each row of ``annotators``
    the ``AnnotatorQuality`` fields plus ``user_id`` and its own ``kind_figures``."""

    method: str
    method_note: str
    scalars: dict
    kind_figures: dict
    per_label: dict
    pairwise: list
    annotators: list[dict]
    items: Any
    consensus_params: dict
    n_boot: int = 0
    hlp_absent_note: str | None = None
