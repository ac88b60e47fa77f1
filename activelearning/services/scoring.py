"""Scoring the unlabelled pool chunk by chunk: probabilities, a score per strategy, priorities, early-stop targets,
and the ActiveLab scores of new items that doubtful labelled items are weighed against.

Peak memory is one chunk of features and predictions plus one int per pool item (ids and the two predicted-label
arrays stability needs) and one float32 per pool item (ActiveLab scores, kept until the batch is picked), so a
1,000,000-item pool is scored in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np

from activelearning import adapters, priority, relabel
from activelearning.models import FeatureSpace
from annotation.models import ItemStatus, Project
from core.jobs import JobContext

if TYPE_CHECKING:
    from activelearning.basemodel import BaseModel  # type hints only: torch loads inside the training job

N_MC_SAMPLES = 10
EARLY_STOP_TARGET = 2
CONFIDENT = 0.9  # the model's top probability needed to settle an item on two agreeing votes
BATCH_SIZE = 50  # the diverse batch lifted to the BATCH band
# Pool items read, scored and written per round trip: per-statement and per-torch-call overheads stay small next
# to the rows, and a chunk's arrays (features, 10 dropout samples, rows to COPY) stay a few MB.
POOL_CHUNK = 10_000
CANDIDATES_PER_BATCH = 4


@dataclass
class PoolOutcome:
    n_pool: int = 0
    n_scored: int = 0
    n_batch: int = 0
    n_target_lowered: int = 0
    n_target_restored: int = 0
    previous: list[np.ndarray] = field(default_factory=list)
    current: list[np.ndarray] = field(default_factory=list)
    activelab: list[np.ndarray] = field(default_factory=list)  # per chunk; NaN except for new POOL-band items
    # ActiveLab scores of the new items served next (the diverse batch; every new item when there is none)
    new_scores: np.ndarray = field(default_factory=lambda: np.empty(0))

    def stability_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        empty = np.empty(0, dtype=np.int64)
        return (
            np.concatenate(self.previous) if self.previous else empty,
            np.concatenate(self.current) if self.current else empty,
        )


def _all_scores(
    model: BaseModel, X: np.ndarray, proba: np.ndarray, rng: np.random.Generator, seed: int
) -> dict[str, np.ndarray]:
    from activelearning import strategies  # lazy: scipy (keeps web/worker startup free of the ML stack)

    finite = np.isfinite(X).all(axis=1)
    samples = np.full((N_MC_SAMPLES, *proba.shape), np.nan, dtype=np.float32)
    if finite.any():
        samples[:, finite] = model.mc_dropout_proba(X[finite], n_samples=N_MC_SAMPLES, seed=seed)
    scores = {
        name: strategies.score(strategy=name, proba=proba)
        for name in ("least_confidence", "margin", "entropy")
    }
    scores["bald"] = strategies.score(strategy="bald", samples=samples)
    scores["random"] = strategies.score(strategy="random", proba=proba, rng=rng)
    return scores


def _early_stop_targets(
    project: Project, chunk: adapters.PoolChunk, proba: np.ndarray, outcome: PoolOutcome
) -> None:
    """New items the model is confident about need only two agreeing votes (``project.early_stopping``); the rest
    keep the project's k. Only ``new`` items are touched, so no annotator holding a lease is cut short."""
    k = project.annotations_per_item
    if k <= EARLY_STOP_TARGET:
        return
    is_new = chunk.status == ItemStatus.NEW
    with np.errstate(invalid="ignore"):
        confident = np.nan_to_num(proba.max(axis=1), nan=0.0) >= CONFIDENT
    lower = is_new & confident & bool(project.early_stopping) & (chunk.target != EARLY_STOP_TARGET)
    restore = is_new & ~(confident & bool(project.early_stopping)) & (chunk.target == EARLY_STOP_TARGET)
    if lower.any():
        outcome.n_target_lowered += adapters.targets_set_for_new(
            item_ids=chunk.item_ids[lower], target=EARLY_STOP_TARGET
        )
    if restore.any():
        outcome.n_target_restored += adapters.targets_set_for_new(item_ids=chunk.item_ids[restore], target=k)


def _scored_chunks(
    *,
    project: Project,
    space: FeatureSpace,
    model: BaseModel,
    strategy: str,
    seed: int,
    label_values: list[str],
    job_id: UUID | str,
    outcome: PoolOutcome,
    ids: list[np.ndarray],
    context: JobContext | None,
    n_pool_estimate: int,
    scale: relabel.ActiveLabScale | None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Score, store and yield (start row, scores of POOL-band rows, NaN elsewhere) per chunk."""
    rng = np.random.default_rng(seed)
    index = {value: position for position, value in enumerate(label_values)}
    k = project.annotations_per_item
    start = 0
    for chunk in adapters.pool_chunks(
        project=project, key=space.key, dim=space.dim, job_id=job_id, chunk=POOL_CHUNK
    ):
        proba = model.predict_proba(chunk.X)
        scores = _all_scores(model, chunk.X, proba, rng, seed)
        chosen = scores[strategy]
        band = priority.bands(
            annotation_count=chunk.annotation_count, target=chunk.target, k=k, current=chunk.priority
        )
        within = priority.normalised(scores=chosen, strategy=strategy, n_classes=len(label_values))
        adapters.predictions_write(
            project=project,
            job_id=job_id,
            label_values=label_values,
            rows=adapters.PredictionRows(
                item_ids=chunk.item_ids,
                proba=proba,
                previous=chunk.previous,
                out_of_sample=False,
                score=chosen,
                scores=scores,
                priority=priority.priorities(band=band, within=within),
            ),
        )
        _early_stop_targets(project, chunk, proba, outcome)
        finite = np.isfinite(proba).all(axis=1)
        previous = np.asarray([index.get(value, -1) for value in chunk.previous], dtype=np.int64)
        compare = finite & (previous >= 0)
        outcome.previous.append(previous[compare])
        outcome.current.append(np.nan_to_num(proba[compare], nan=0.0).argmax(axis=1))
        outcome.n_pool += len(chunk.item_ids)
        outcome.n_scored += int(finite.sum())
        new = band == priority.BAND_POOL  # no annotation yet (see priority.bands)
        activelab = np.full(len(proba), np.nan, dtype=np.float32)
        if scale is not None and new.any():
            activelab[new] = relabel.activelab_unlabelled(pred_probs=proba[new], scale=scale)
        outcome.activelab.append(activelab)
        ids.append(chunk.item_ids)
        if context:
            context.progress(
                0.6 + 0.3 * min(outcome.n_pool / max(n_pool_estimate, 1), 1.0),
                f"scored {outcome.n_pool} pool items",
            )
        yield start, np.where(band == priority.BAND_POOL, chosen, np.nan)
        start += len(chunk.item_ids)


def pool_score(
    *,
    project: Project,
    space: FeatureSpace,
    model: BaseModel,
    strategy: str,
    seed: int,
    label_values: list[str],
    job_id: UUID | str,
    context: JobContext | None = None,
    n_pool_estimate: int = 0,
    activelab_scale: relabel.ActiveLabScale | None = None,
) -> PoolOutcome:
    """Score and store the whole pool, then lift a diverse batch from its top candidates to the BATCH band.

    Random sampling skips the diversity step (it is already spread out). With ``activelab_scale`` (from the
    labelled items' ActiveLab run) ``outcome.new_scores`` holds the ActiveLab scores of the new items served
    next: the batch's, or every new item's when no batch is picked.
    """
    from activelearning import strategies  # lazy: scipy (keeps web/worker startup free of the ML stack)

    outcome = PoolOutcome()
    ids: list[np.ndarray] = []
    batch = 0 if strategy == "random" else BATCH_SIZE
    candidates = strategies.top_candidates(
        chunks=_scored_chunks(
            project=project,
            space=space,
            model=model,
            strategy=strategy,
            seed=seed,
            label_values=label_values,
            job_id=job_id,
            outcome=outcome,
            ids=ids,
            context=context,
            n_pool_estimate=n_pool_estimate,
            scale=activelab_scale,
        ),
        m=max(batch * CANDIDATES_PER_BATCH, 1),
    )
    activelab = np.concatenate(outcome.activelab) if outcome.activelab else np.empty(0, dtype=np.float32)
    outcome.activelab = []
    if batch and len(candidates.indices):
        pool_item_ids = np.concatenate(ids)
        candidate_ids = pool_item_ids[candidates.indices]
        features = adapters.features_for_items(key=space.key, item_ids=candidate_ids, dim=space.dim)
        picked = strategies.diverse_batch(
            features=features,
            candidates=np.arange(len(candidate_ids)),
            batch_size=batch,
            method="kmeans++",
            seed=seed,
        )
        within = priority.normalised(
            scores=candidates.scores[picked], strategy=strategy, n_classes=len(label_values)
        )
        adapters.priorities_write(
            item_ids=candidate_ids[picked],
            priority=priority.priorities(band=np.full(len(picked), priority.BAND_BATCH), within=within),
        )
        outcome.n_batch = len(picked)
        batch_scores = activelab[candidates.indices[picked]].astype(np.float64)
        outcome.new_scores = batch_scores[np.isfinite(batch_scores)]
    else:
        outcome.new_scores = activelab[np.isfinite(activelab)].astype(np.float64)
    return outcome


def cold_start_priorities(
    *, project: Project, space: FeatureSpace, seed: int, max_sample: int = 20_000
) -> dict:
    """Priorities before a model exists: a diverse k-means++ batch from a random sample of the pool (BATCH band),
    every other unlabelled item at a seeded random place in the POOL band, started items in their own bands.

    Two passes over pool ids (ints only) and one over the sampled features: bounded memory for any pool size.
    """
    from activelearning import strategies  # lazy: scipy (keeps web/worker startup free of the ML stack)

    rng = np.random.default_rng(seed)
    k = project.annotations_per_item
    fresh: list[np.ndarray] = []
    for item_ids, counts, _targets, current in adapters.pool_ids(project=project, key=space.key):
        fresh.append(item_ids[(counts == 0) & (current < priority.BAND_EXTRA)])
    fresh_ids = np.concatenate(fresh) if fresh else np.empty(0, dtype=np.int64)
    sample = (
        fresh_ids
        if len(fresh_ids) <= max_sample
        else np.sort(rng.choice(fresh_ids, size=max_sample, replace=False))
    )
    picked_ids = np.empty(0, dtype=np.int64)
    if len(sample):
        features = adapters.features_for_items(key=space.key, item_ids=sample, dim=space.dim)
        picked_ids = sample[strategies.cold_start(features=features, batch_size=BATCH_SIZE, seed=seed)]
    batch_rank = {int(pk): position for position, pk in enumerate(picked_ids.tolist())}
    batch_within = priority.rank_within(len(picked_ids))
    n_pool = 0
    for item_ids, counts, targets, current in adapters.pool_ids(project=project, key=space.key):
        band = priority.bands(annotation_count=counts, target=targets, k=k, current=current)
        within = rng.random(len(item_ids))
        for row, pk in enumerate(item_ids.tolist()):
            rank = batch_rank.get(pk)
            if rank is not None and band[row] == priority.BAND_POOL:
                band[row], within[row] = priority.BAND_BATCH, batch_within[rank]
        adapters.priorities_write(item_ids=item_ids, priority=priority.priorities(band=band, within=within))
        n_pool += len(item_ids)
    return {"n_pool": n_pool, "n_batch": len(picked_ids)}
