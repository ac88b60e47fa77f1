"""Starting training jobs: by a manager, or automatically every ``project.rescore_every`` new labels.

At most one train job per project is queued or running: both paths check under a lock on the project row, so
concurrent label hooks cannot start two.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from activelearning import selectors
from activelearning.adapters import TRAINABLE_STATUSES
from activelearning.job_kinds import TRAIN_JOB
from activelearning.services.scoring import CONFIDENT
from activelearning.services.targets import item_overlap_update
from activelearning.services.training import strategy_check
from activelearning.strategy_names import STRATEGIES
from annotation.models import Item, Project
from annotation.services.projects import project_lock
from core.errors import Conflict
from core.jobs import job_create
from core.models import Job

TRAIN_TASK = "activelearning.train"


def _default_strategy(project: Project) -> str:
    """The strategy of the latest model, else the project's setting (margin when that is not a known one)."""
    latest = selectors.model_version_latest(project=project)
    if latest is not None and latest.strategy in STRATEGIES:
        return latest.strategy
    return project.sampling_strategy if project.sampling_strategy in STRATEGIES else "margin"


def _labelled_count(project: Project) -> int:
    return Item.objects.filter(project=project, status__in=TRAINABLE_STATUSES, is_gold=False).count()


def _create(project: Project, *, user, strategy: str, seed: int, trigger: str) -> Job:
    params = {"strategy": strategy, "seed": seed, "n_labelled": _labelled_count(project), "trigger": trigger}
    return job_create(kind=TRAIN_JOB, task_name=TRAIN_TASK, project=project, params=params, user=user)


@transaction.atomic
def model_train_start(
    *, project: Project, user: AbstractBaseUser | None, strategy: str | None = None, seed: int = 0
) -> Job:
    """Create a train job (enqueued on commit). Raises ValidationFailed for an unknown strategy and Conflict
    when a train job of the project is already queued or running."""
    chosen = strategy_check(strategy) if strategy is not None else None
    project_lock(project_id=project.pk)
    active = selectors.train_job_active(project=project)
    if active is not None:
        raise Conflict(
            f"A training job for this project is already {active.status} (job {active.pk}); wait for it to finish.",
            code="train_job_active",
            extra={"job": str(active.pk)},
        )
    return _create(
        project, user=user, strategy=chosen or _default_strategy(project), seed=seed, trigger="manual"
    )


@transaction.atomic
def model_train_trigger(*, project_id: int) -> Job | None:
    """Start a train job when ``rescore_every`` items were labelled since the last train job started (0 turns
    this off) and none is queued or running. Returns the new job or None. Safe to call on every label."""
    project = project_lock(project_id=project_id)
    if project is None or project.rescore_every <= 0:
        return None
    if selectors.train_job_active(project=project) is not None:
        return None
    last = selectors.train_job_latest(project=project)
    baseline = int(last.params.get("n_labelled", 0)) if last is not None else 0
    if _labelled_count(project) - baseline < project.rescore_every:
        return None
    return _create(project, user=None, strategy=_default_strategy(project), seed=0, trigger="labels")


def item_labelled_process(*, project_id: int, item_id: int, confidence: float) -> dict:
    """The label hook: adaptive overlap for the item that reached its target, then the re-score trigger."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {"target": None, "job": None}
    target = item_overlap_update(project=project, item_id=item_id, confidence=confidence)
    job = model_train_trigger(project_id=project_id)
    return {"target": target, "job": None if job is None else str(job.pk)}


def items_labelled_process(*, project_id: int, item_ids: list[int]) -> dict:
    """The per-item pass's handler: adaptive overlap for each item (each in its own transaction), then the
    re-score trigger once for all of them."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {"reopened": 0, "job": None}
    reopened = sum(
        item_overlap_update(project=project, item_id=pk, confidence=CONFIDENT) is not None for pk in item_ids
    )
    job = model_train_trigger(project_id=project_id)
    return {"reopened": reopened, "job": None if job is None else str(job.pk)}
