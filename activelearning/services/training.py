"""The training job's work: features → base model → out-of-sample probabilities → learning curve and stopping
signals → ActiveLab scores of labelled items → pool scores and priorities (with the new items' ActiveLab scores on
the same scale) → adaptive overlap, where ActiveLab decides "relabel or label new?" → a ModelVersion.

Deterministic for a seed. Item writes happen chunk by chunk in short transactions (annotators keep working
during a long job); the version row is written last, so a retried job recomputes and overwrites the same rows
and never leaves a second version behind.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
from django.db import transaction
from django.db.models import Max

from activelearning import adapters
from activelearning.answers import answer_classes
from activelearning.models import ModelVersion
from activelearning.relabel import ActiveLab, activelab_labelled, votes_matrix
from activelearning.services import outlook, scoring, targets
from activelearning.services.features import feature_space_ensure
from activelearning.strategy_names import STRATEGIES
from annotation.models import Project
from annotation.selectors import LabelSchema, label_schema_for
from annotation.services.projects import project_lock
from core.errors import ValidationFailed
from core.jobs import JobContext
from core.models import Job

if TYPE_CHECKING:
    from activelearning.basemodel import BaseModel, TrainingConfig

MIN_TRAIN = 10  # labelled items (with two classes or more) before a model replaces the cold-start rule
N_FOLDS = 5
# ActiveLab builds an items × annotators matrix; past this many cells the relabel scores are skipped.
MAX_ACTIVELAB_CELLS = 20_000_000


def strategy_check(strategy: object, *, field: str = "strategy") -> str:
    """The strategy name, or ValidationFailed naming the allowed ones."""
    if strategy not in STRATEGIES:
        raise ValidationFailed(
            f"Unknown strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}.", field=field
        )
    return str(strategy)


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _per_label(metrics, label_values: list[str]) -> dict:
    return {
        value: {
            "support": int(metrics.per_label_support[i]),
            "recall": _finite_or_none(metrics.per_label_recall[i]),
            "precision": _finite_or_none(metrics.per_label_precision[i]),
        }
        for i, value in enumerate(label_values)
    }


def _relabel_scores(
    project: Project, index: dict[str, int], training: adapters.TrainingSet, oos_proba: np.ndarray
) -> tuple[adapters.Votes, np.ndarray, ActiveLab]:
    """(votes, ids of the scored items, their ActiveLab run); computed before the pool is scored because the
    run's scale puts the pool's new items on the same footing. Nothing is written here."""
    votes = adapters.votes_load(project=project, index=index, statuses=adapters.TRAINABLE_STATUSES)
    in_training = np.isin(votes.item_ids, training.item_ids)
    if in_training.any() and len(votes.item_ids) * max(votes.n_annotators, 1) <= MAX_ACTIVELAB_CELLS:
        matrix = votes_matrix(
            item_index=votes.item_index,
            annotator_index=votes.annotator_index,
            labels=votes.labels,
            n_items=len(votes.item_ids),
            n_annotators=votes.n_annotators,
        )
        rows = np.flatnonzero(in_training)
        proba = oos_proba[np.searchsorted(training.item_ids, votes.item_ids[rows])]
        return votes, votes.item_ids[rows], activelab_labelled(votes=matrix[rows], pred_probs=proba)
    return votes, np.empty(0, dtype=np.int64), ActiveLab(scores=np.empty(0), scale=None)


def _write_labelled(
    project: Project,
    job: Job,
    label_values: list[str],
    training: adapters.TrainingSet,
    oos_proba: np.ndarray,
    previous: dict[int, str],
) -> None:
    for start in range(0, len(training.item_ids), adapters.CHUNK):
        ids = training.item_ids[start : start + adapters.CHUNK]
        adapters.predictions_write(
            project=project,
            job_id=job.pk,
            label_values=label_values,
            rows=adapters.PredictionRows(
                item_ids=ids,
                proba=oos_proba[start : start + adapters.CHUNK],
                previous=[previous.get(pk, "") for pk in ids.tolist()],
                out_of_sample=True,
            ),
        )


def _write_held_out(
    project: Project,
    job: Job,
    label_values: list[str],
    space,
    model: BaseModel,
    training: adapters.TrainingSet,
) -> int:
    """Probabilities for gold items and labelled items left out of training, from the final model.

    That model was fitted on ``training`` only, so these are honest held-out predictions: gold labels are never
    trained on, yet the quality engine gets probabilities for every labelled item (CROWDLAB, its model check
    and the model-vs-gold accuracy need them). Returns how many predictions were stored.
    """
    stored = 0
    for ids, X in adapters.held_out_chunks(
        project=project, key=space.key, dim=space.dim, training_ids=training.item_ids
    ):
        previous = adapters.previous_predictions(item_ids=ids, job_id=job.pk)
        stored += adapters.predictions_write(
            project=project,
            job_id=job.pk,
            label_values=label_values,
            rows=adapters.PredictionRows(
                item_ids=ids,
                proba=model.predict_proba(X),
                previous=[previous.get(pk, "") for pk in ids.tolist()],
                out_of_sample=True,
            ),
        )
    return stored


def _cold_start(
    project: Project, job: Job, space, seed: int, reason: str, labels: LabelSchema, context: JobContext
) -> dict:
    context.progress(0.6, "cold start: diverse random priorities")
    result = scoring.cold_start_priorities(project=project, space=space.space, seed=seed)
    votes = adapters.votes_load(project=project, index=labels.index, statuses=adapters.OVERLAP_STATUSES)
    result.update(
        targets.overlap_apply(
            project=project,
            votes=votes,
            n_classes=len(labels.values),
            proba_by_item={},
            relabel_by_item={},
            confidence=scoring.CONFIDENT,
        )
    )
    return {
        "mode": "cold_start",
        "reason": reason,
        "extractor": space.space.key,
        "n_features_computed": space.computed,
        **result,
    }


def model_train_run(*, job: Job, context: JobContext) -> dict:
    """The work function of a ``train`` job (see the module docstring). Returns the job's result dict."""
    # Lazy: torch loads only when a training job runs; web/worker startup imports this module via the tasks.
    from activelearning.basemodel import BaseModel, TrainingConfig, out_of_sample_proba

    if job.project_id is None:
        raise ValueError(f"Training job {job.pk} has no project.")
    project = Project.objects.get(pk=job.project_id)
    seed = int(job.params.get("seed", 0))
    strategy = strategy_check(job.params.get("strategy", "margin"))
    space = feature_space_ensure(project=project, seed=seed, context=context)
    if space is None:
        return {"mode": "empty", "reason": "The project has no items yet."}
    labels = label_schema_for(project=project)
    label_values, index = labels.values, labels.index
    answers = answer_classes(project)
    token_encoding = getattr(answers, "token_encoding", "")
    if token_encoding:
        # Lazy, like the base model's import above: the token model's torch code loads only in a training job.
        from activelearning.services.token_training import MIN_TRAIN as TOKEN_MIN_TRAIN
        from activelearning.services.token_training import token_model_train_run

        result = token_model_train_run(
            job=job,
            context=context,
            project=project,
            strategy=strategy,
            seed=seed,
            space=space.space,
            encoding=token_encoding,
        )
        if result is not None:
            return result
        return _cold_start(
            project,
            job,
            space,
            seed,
            f"The token model needs {TOKEN_MIN_TRAIN} labelled items with consensus spans.",
            labels,
            context,
        )
    cold_start_reason = answers.cold_start_reason
    if cold_start_reason is not None:
        return _cold_start(project, job, space, seed, cold_start_reason, labels, context)
    context.progress(0.32, "loading labelled items")
    training = adapters.training_set_load(
        project=project, key=space.space.key, dim=space.space.dim, index=index
    )
    if len(training.y) < MIN_TRAIN or len(np.unique(training.y)) < 2:
        return _cold_start(
            project,
            job,
            space,
            seed,
            f"A model needs {MIN_TRAIN} labelled items with at least two "
            f"different labels; there are {len(training.y)}.",
            labels,
            context,
        )
    n_classes = len(label_values)
    config = TrainingConfig(seed=seed)
    context.progress(0.35, f"out-of-sample probabilities for {len(training.y)} labelled items")
    oos = out_of_sample_proba(
        training.X, training.y, n_classes=n_classes, n_folds=N_FOLDS, seed=seed, config=config
    )
    context.progress(0.45, "learning curve")
    curve, projection = outlook.curve_and_projection(
        training.X,
        training.y,
        n_classes=n_classes,
        seed=seed,
        config=config,
        full_accuracy=oos.metrics.cv_accuracy,
        n_folds=N_FOLDS,
        min_size=MIN_TRAIN,
    )
    context.progress(0.55, "training the base model")
    model = BaseModel(config=config).fit(training.X, training.y, n_classes=n_classes)
    previous_predictions = adapters.previous_predictions(item_ids=training.item_ids, job_id=job.pk)
    context.progress(0.58, "ActiveLab scores of labelled items")
    votes, scored_ids, activelab = _relabel_scores(project, index, training, oos.proba)
    outcome = scoring.pool_score(
        project=project,
        space=space.space,
        model=model,
        strategy=strategy,
        seed=seed,
        label_values=label_values,
        job_id=job.pk,
        context=context,
        n_pool_estimate=max(space.computed, 1),
        activelab_scale=activelab.scale,
    )
    context.progress(0.92, "labelled and gold items: out-of-sample probabilities and relabel scores")
    _write_labelled(project, job, label_values, training, oos.proba, previous_predictions)
    n_held_out = _write_held_out(project, job, label_values, space.space, model, training)
    if len(scored_ids):
        adapters.relabel_scores_write(item_ids=scored_ids, scores=activelab.scores)
    relabel = {
        pk: float(s)
        for pk, s in zip(scored_ids.tolist(), activelab.scores.tolist(), strict=True)
        if np.isfinite(s)
    }
    proba_by_item = dict(zip(training.item_ids.tolist(), oos.proba, strict=True))
    stability = outlook.stability_figures(outcome)
    # One transaction: reopening items (adaptive overlap, relabel-over-new) takes them out of the training set,
    # so a worker killed after reopening but before the version was stored would make the retry train on fewer
    # items than an undisturbed run. Together, a kill rolls both back and the retry redoes both.
    with transaction.atomic():
        overlap_result = targets.overlap_apply(
            project=project,
            votes=votes,
            n_classes=n_classes,
            proba_by_item=proba_by_item,
            relabel_by_item=relabel,
            confidence=scoring.CONFIDENT,
            new_scores=outcome.new_scores,
        )
        overlap_result.update(
            n_target_lowered=outcome.n_target_lowered, n_target_restored=outcome.n_target_restored
        )
        version = _version_store(
            project=project,
            job=job,
            space=space,
            strategy=strategy,
            seed=seed,
            config=config,
            training=training,
            label_values=label_values,
            oos=oos,
            curve=curve,
            projection=projection,
            stability=stability,
            outcome=outcome,
            overlap_result=overlap_result,
        )
    return {
        "mode": "model",
        "version": version.version,
        "model_version": version.pk,
        "strategy": strategy,
        "extractor": space.space.key,
        "n_features_computed": space.computed,
        "n_train": version.n_train,
        "cv_accuracy": version.cv_accuracy,
        "n_pool": outcome.n_pool,
        "n_scored": outcome.n_scored,
        "n_batch": outcome.n_batch,
        "n_held_out": n_held_out,
        "n_relabel_scores": len(relabel),
        **overlap_result,
        "summary": version.summary,
    }


@transaction.atomic
def _version_store(
    *,
    project: Project,
    job: Job,
    space,
    strategy: str,
    seed: int,
    config: TrainingConfig,
    training: adapters.TrainingSet,
    label_values: list[str],
    oos,
    curve: list[dict],
    projection: dict,
    stability: dict | None,
    outcome: scoring.PoolOutcome,
    overlap_result: dict,
) -> ModelVersion:
    project_lock(project_id=project.pk)  # serialises version numbering
    existing = ModelVersion.objects.filter(job=job).first()
    previous = ModelVersion.objects.filter(project=project).exclude(job=job).order_by("-version").first()
    summary, worth = outlook.summary_sentence(
        previous=previous,
        n_train=len(training.y),
        accuracy=oos.metrics.cv_accuracy,
        stability=stability,
        projection=projection,
    )
    identity = space.space.extractor
    name, _, extractor_version = identity.partition("/")
    fields = {
        "extractor": space.space.key,
        "extractor_name": name,
        "extractor_version": extractor_version,
        "seed": seed,
        "strategy": strategy,
        "label_values": label_values,
        "config": asdict(config),
        "n_train": len(training.y),
        "n_labelled": training.n_labelled,
        "n_pool": outcome.n_pool,
        "n_folds": oos.metrics.n_folds,
        "cv_accuracy": float(oos.metrics.cv_accuracy),
        "per_label": _per_label(oos.metrics, label_values),
        "learning_curve": curve,
        "projection": projection,
        "stability": stability,
        "summary": summary,
        "worth_labelling": worth,
        "overlap": overlap_result,
    }
    if existing is not None:
        for name_, value in fields.items():
            setattr(existing, name_, value)
        existing.save(update_fields=list(fields))
        return existing
    number = (ModelVersion.objects.filter(project=project).aggregate(n=Max("version"))["n"] or 0) + 1
    return ModelVersion.objects.create(project=project, job=job, version=number, **fields)
