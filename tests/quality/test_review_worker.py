"""A label merge through the API enqueues a quality run that a real Celery worker executes on the mapped labels."""

import pytest

from quality.models import LabelSchemaChange, QualityReport
from tests.conftest import wait_for_job
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db(transaction=True)

VOTES = [["scratch_deep", "scratch_light", "scratch_deep"], ["dent", "dent", "ok"]]


def test_merge_via_api_recomputes_quality_on_the_worker(api, worker):
    # Given two scratch kinds the annotators cannot tell apart
    project, _, _ = votes_project(
        make_project,
        VOTES,
        labels=("scratch_deep", "scratch_light", "dent", "ok"),
        consensus_method="majority_vote",
    )
    client = api(project.created_by)
    # When the manager merges them into scratch_deep
    response = client.post(
        f"/api/projects/{project.pk}/label-changes/merge/",
        {"labels": ["scratch_light"], "into": "scratch_deep", "note": "indistinguishable"},
        format="json",
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["change"]["quality_job"]
    assert job_id is not None and "recomputed" in response.json()["message"]
    # Then the worker runs the quality check on the mapped labels: item 0 is unanimous now
    job = wait_for_job(job_id, worker=worker)
    assert job.status == "succeeded", job.error
    report = QualityReport.objects.get(job_id=job_id)
    assert set(report.per_label) == {"scratch_deep", "dent", "ok"}
    # percent agreement = mean(1 (3 × scratch_deep), 1/3 (dent, dent, ok)) = 2/3
    assert report.percent_agreement == pytest.approx(2 / 3)
    assert LabelSchemaChange.objects.get(project=project).quality_job_id is not None
