"""The Job lifecycle (core/jobs.py): a real worker runs a job; the sweep re-drives what was left behind."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import jobs
from core.models import Job, JobStatus
from tests.conftest import wait_for_job
from tests.factories import UserFactory


def create_selftest(user=None, **params):
    with transaction.atomic():
        return jobs.job_create(
            kind="selftest",
            task_name="annotation.selftest",
            params={"steps": 3, "echo": "hi", **params},
            user=user,
        )


@pytest.mark.worker
def test_selftest_job_runs_to_success_on_the_real_worker(worker):
    # Given a selftest job created in a committed transaction
    job = create_selftest()
    # When the worker picks it up
    done = wait_for_job(job.pk, worker=worker)
    # Then it succeeded with the echoed result and full progress
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result == {"steps": 3, "echo": "hi"}
    assert done.progress == 1.0
    assert done.attempts == 1
    assert done.enqueued_at is not None and done.started_at is not None and done.finished_at is not None


@pytest.mark.worker
def test_job_detail_shows_the_job_to_its_creator_only(worker, api):
    # Given a job created by one user and run by the worker
    creator, stranger = UserFactory(), UserFactory()
    job = create_selftest(user=creator)
    wait_for_job(job.pk, worker=worker)
    # When the creator and another user ask for it
    mine = api(creator).get(f"/api/jobs/{job.pk}/")
    theirs = api(stranger).get(f"/api/jobs/{job.pk}/")
    # Then the creator sees the finished job and the other user gets 404
    assert mine.status_code == 200
    body = mine.json()
    assert (body["id"], body["status"], body["progress"], body["result"]) == (
        str(job.pk),
        "succeeded",
        1.0,
        {"steps": 3, "echo": "hi"},
    )
    assert body["finished_at"] is not None
    assert theirs.status_code == 404


class FakeApp:
    """Stands in for the Celery app: records sent tasks instead of talking to a broker."""

    def __init__(self, fail: bool = False):
        self.sent: list[tuple[str, dict]] = []
        self.fail = fail

    def send_task(self, name, kwargs=None, **options):
        if self.fail:
            raise ConnectionError("broker down")
        self.sent.append((name, kwargs))


@pytest.fixture
def fake_app(monkeypatch):
    app = FakeApp()
    monkeypatch.setattr(jobs, "current_app", app)
    return app


@pytest.mark.django_db
def test_job_create_enqueues_only_after_commit(fake_app, django_capture_on_commit_callbacks):
    # When a job is created inside a transaction
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.job_create(kind="selftest", task_name="annotation.selftest")
    # Then nothing was sent before the commit, and the commit callback sends it
    assert fake_app.sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert fake_app.sent == [("annotation.selftest", {"job_id": str(job.pk)})]
    assert Job.objects.get(pk=job.pk).enqueued_at is not None


@pytest.mark.django_db
def test_broker_outage_leaves_the_job_queued_with_a_message(monkeypatch):
    # Given a broker that refuses connections
    monkeypatch.setattr(jobs, "current_app", FakeApp(fail=True))
    job = Job.objects.create(kind="selftest", task_name="annotation.selftest")
    # When the job is enqueued
    sent = jobs.job_enqueue(job_id=job.pk)
    # Then it was not sent, not run inline, and says it is waiting
    job.refresh_from_db()
    assert sent is False
    assert job.status == JobStatus.QUEUED and job.enqueued_at is None
    assert "broker" in job.message


@pytest.mark.django_db
def test_sweep_resends_a_queued_job_that_was_never_enqueued(fake_app):
    # Given a queued job whose enqueue never happened (its transaction's on_commit never ran)
    job = Job.objects.create(kind="selftest", task_name="annotation.selftest")
    later = timezone.now() + timedelta(minutes=5)
    # When the sweep runs a few minutes later
    counts = jobs.jobs_sweep(now=later)
    # Then the job's task was sent and the job is marked enqueued
    assert counts == {"resent": 1, "requeued": 0, "failed": 0}
    assert fake_app.sent == [("annotation.selftest", {"job_id": str(job.pk)})]
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.enqueued_at is not None


@pytest.mark.django_db
def test_sweep_leaves_a_recently_enqueued_job_alone(fake_app):
    # Given a queued job enqueued a moment ago
    Job.objects.create(kind="selftest", task_name="annotation.selftest", enqueued_at=timezone.now())
    # When the sweep runs a minute later
    counts = jobs.jobs_sweep(now=timezone.now() + timedelta(minutes=1))
    # Then nothing is re-sent
    assert counts["resent"] == 0 and fake_app.sent == []


@pytest.mark.django_db
def test_sweep_fails_a_running_job_with_a_stale_heartbeat_after_max_attempts(fake_app):
    # Given a running job whose worker died on its last allowed attempt
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS + 60)
    job = Job.objects.create(
        kind="selftest",
        task_name="annotation.selftest",
        status=JobStatus.RUNNING,
        attempts=settings.LABELGATE_JOB_MAX_ATTEMPTS,
        started_at=stale,
        heartbeat_at=stale,
        enqueued_at=stale,
    )
    # When the sweep runs
    counts = jobs.jobs_sweep(now=now)
    # Then the job failed with a reason and was not re-sent
    assert counts == {"resent": 0, "requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped responding" in job.error
    assert job.finished_at == now
    assert fake_app.sent == []


@pytest.mark.django_db
def test_sweep_requeues_a_running_job_with_a_stale_heartbeat_below_max_attempts(fake_app):
    # Given a running job on its first attempt whose worker died
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LABELGATE_JOB_STALE_SECONDS + 60)
    job = Job.objects.create(
        kind="selftest",
        task_name="annotation.selftest",
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=stale,
        enqueued_at=stale,
    )
    # When the sweep runs
    counts = jobs.jobs_sweep(now=now)
    # Then the job is queued again and re-sent
    assert counts["requeued"] == 1 and counts["failed"] == 0
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert fake_app.sent == [("annotation.selftest", {"job_id": str(job.pk)})]


@pytest.mark.django_db
def test_sweep_leaves_a_running_job_with_a_fresh_heartbeat_alone(fake_app):
    # Given a running job that reported progress just now
    job = Job.objects.create(
        kind="selftest",
        task_name="annotation.selftest",
        status=JobStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now(),
    )
    # When the sweep runs
    counts = jobs.jobs_sweep()
    # Then it is untouched
    assert counts == {"resent": 0, "requeued": 0, "failed": 0}
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


@pytest.mark.django_db
def test_job_execute_skips_a_terminal_job():
    # Given a job that already succeeded
    job = Job.objects.create(
        kind="selftest", task_name="annotation.selftest", status=JobStatus.SUCCEEDED, result={"a": 1}
    )
    calls = []
    # When a duplicate delivery runs it again
    jobs.job_execute(job_id=str(job.pk), work=lambda j, c: calls.append(j) or {"b": 2})
    # Then the work does not run and the result is unchanged
    assert calls == []
    job.refresh_from_db()
    assert job.result == {"a": 1} and job.attempts == 0


@pytest.mark.django_db
def test_job_execute_records_the_error_of_a_failing_job():
    # Given a job whose work raises
    job = Job.objects.create(kind="selftest", task_name="annotation.selftest")

    def work(job, context):
        raise ValueError("bad params: steps must be positive")

    # When it runs
    jobs.job_execute(job_id=str(job.pk), work=work)
    # Then it failed with the exception text
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "ValueError: bad params: steps must be positive" in job.error
    assert job.finished_at is not None and job.attempts == 1
