"""Every page that shows a job shows it with the one job-progress component: while the job runs, the element the
script polls carries its percentage and message; once it ended, only its status in words."""

import re

import pytest
from django.urls import reverse

from activelearning.job_kinds import TRAIN_JOB
from annotation.models import Role
from core.models import Job, JobStatus
from datasets.job_kinds import FREEZE_JOB
from ingress.job_kinds import IMPORT_JOB
from quality.job_kinds import QUALITY_JOB
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db

PAGES = {
    QUALITY_JOB: lambda project, job: reverse("quality-page", args=[project.pk]),
    TRAIN_JOB: lambda project, job: reverse("model-page", args=[project.pk]),
    FREEZE_JOB: lambda project, job: reverse("dataset-versions", args=[project.pk]),
    IMPORT_JOB: lambda project, job: reverse("batches", args=[project.pk]),
    "import-detail": lambda project, job: reverse("import-detail", args=[project.pk, job.pk]),
}


def _page(client, kind: str, **job_fields) -> tuple[str, Job]:
    project = make_project()
    client.force_login(add_member(project, Role.MANAGER))
    job = Job.objects.create(
        kind=IMPORT_JOB if kind == "import-detail" else kind,
        task_name="t",
        project=project,
        params={"file_name": "rows.csv"},
        **job_fields,
    )
    response = client.get(PAGES[kind](project, job))
    assert response.status_code == 200
    return response.content.decode(), job


def _watched(html: str, job: Job) -> str:
    """The element polling ``job``, from its start tag to the end of its content's last job field."""
    start = re.search(rf'<(\w+)[^>]* data-job-progress="{job.pk}"[^>]*>', html)
    assert start, "no element polls the job"
    return html[start.start() : html.index("</" + start.group(1), start.end())]


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_running_job_shows_its_status_percentage_and_message_in_the_polled_fields(client, kind):
    html, job = _page(client, kind, status=JobStatus.RUNNING, progress=0.4, message="step 2 of 5")
    watched = _watched(html, job)
    assert 'data-status="running"' in watched
    assert '<span data-job-field="status" data-outcome="">running</span>' in watched
    assert '<span data-job-field="percent">40%</span>' in watched
    assert '<span class="muted small" data-job-field="message">step 2 of 5</span>' in watched


@pytest.mark.parametrize("kind", [QUALITY_JOB, FREEZE_JOB, IMPORT_JOB, "import-detail"])
def test_a_job_that_succeeded_with_errors_says_so_and_is_not_polled(client, kind):
    html, job = _page(client, kind, status=JobStatus.SUCCEEDED, progress=1.0, result={"errors": 2})
    assert f'data-job-progress="{job.pk}"' not in html
    assert 'data-outcome="completed_with_errors" style="color:#8a5a00">succeeded with errors</span>' in html
