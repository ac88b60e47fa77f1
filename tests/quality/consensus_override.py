"""A project whose item the per-item consensus update finds overridden by the model: two annotators the last
quality run knew said "network", a newcomer said "math", and the item's model probabilities put 0.98 on
"concurrency", which nobody chose (the socket.getprotobyname case)."""

from annotation.models import Item
from core.models import Job
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from quality.services import item_consensus_update
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

LABELS = ("network", "math", "concurrency")
# Both known annotators are right half the time and spread their mistakes evenly.
NOISY = [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]


def overridden_project(extra_votes: list[list[str]] = ()):
    """Item 0 as above; items 1.. get ``extra_votes`` (plain majorities). Runs the per-item update on every item.
    Returns (project, items, annotators)."""
    project, items, annotators = votes_project(
        make_project, [["network", "network", "math"], *extra_votes], labels=LABELS, k=3
    )
    Item.objects.filter(pk=items[0].pk).update(
        predicted_label="concurrency", predicted_probs={"network": 0.01, "math": 0.01, "concurrency": 0.98}
    )
    job = Job.objects.create(kind=QUALITY_JOB, task_name="quality.run", project=project)
    QualityReport.objects.create(
        project=project,
        job=job,
        consensus_method="crowdlab",
        consensus_params={
            "method": "dawid_skene",
            "user_ids": [annotators[0].pk, annotators[1].pk],
            "label_values": list(LABELS),
            "confusion": [NOISY, NOISY],
            "priors": [1 / 3] * 3,
            "item_prior": "model",
        },
    )
    for item in items:
        item_consensus_update(project_id=project.pk, item_id=item.pk)
    return project, items, annotators


# The posterior of item 0 by hand (the newcomer counts as the mean of the two known annotators, i.e. NOISY):
# network 0.01·0.5·0.5·0.25, math 0.01·0.25·0.25·0.5, concurrency 0.98·0.25·0.25·0.25.
JOINT = {"network": 0.01 * 0.5 * 0.5 * 0.25, "math": 0.01 * 0.25 * 0.25 * 0.5, "concurrency": 0.98 * 0.25**3}
POSTERIOR = {label: value / sum(JOINT.values()) for label, value in JOINT.items()}
