from celery import shared_task

from core import jobs
from datasets.policy import policy_from_params
from datasets.services import dataset_version_freeze


def _freeze(job, context) -> dict:
    version = dataset_version_freeze(
        project=job.project,
        policy=policy_from_params(job.params.get("policy") or {}),
        name=job.params.get("name") or "",
        job_id=job.pk,
        user_id=job.created_by_id,
        progress=context.progress,
    )
    return {
        "version": version.pk,
        "number": version.number,
        "n_entries": version.n_entries,
        "checksum": version.checksum,
    }


@shared_task(name="datasets.freeze", acks_late=True)
def freeze(*, job_id: str) -> None:
    jobs.job_execute(job_id=job_id, work=_freeze)
