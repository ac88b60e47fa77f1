"""The freeze job end to end with the real Celery worker, and snapshot consistency under concurrent writes."""

import hashlib
import threading

import pytest
from django.db import connection

from annotation.models import Item, ItemStatus, Role
from datasets import services
from datasets.models import DatasetEntry, DatasetVersion
from tests.conftest import wait_for_job
from tests.datasets.builders import freeze, labelled_items
from tests.factories import add_member, make_project


@pytest.mark.worker
def test_a_freeze_job_runs_on_the_real_worker_and_its_version_exports_with_its_checksum(worker, api):
    # Given a project with 10 labelled items and a reviewer (an ML engineer's token)
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 6, "neg": 4})
    reviewer = add_member(project, Role.REVIEWER)
    client = api(reviewer)
    # When the reviewer asks for a freeze over REST and the worker runs it
    response = client.post(
        f"/api/projects/{project.pk}/dataset-versions/",
        {"name": "from the worker", "splits": {"train": 0.6, "dev": 0.2, "test": 0.2}, "seed": 3},
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    # Then the job succeeded and points at a complete version
    assert job.status == "succeeded", job.error
    version = DatasetVersion.objects.get(pk=job.result["version"])
    assert (version.name, version.n_entries, version.job_id, version.created_by_id) == (
        "from the worker",
        10,
        job.pk,
        reviewer.pk,
    )
    assert version.split_counts == {"train": 6, "dev": 2, "test": 2}
    assert job.result["checksum"] == version.checksum
    data = b"".join(client.get(f"/api/dataset-versions/{version.pk}/export/?format=jsonl").streaming_content)
    assert hashlib.sha256(data).hexdigest() == version.checksum
    assert client.get(f"/api/jobs/{job.pk}/").json()["status"] == "succeeded"


@pytest.mark.postgres
def test_a_freeze_reads_one_snapshot_while_a_quality_run_writes(transactional_db, monkeypatch):
    # Given 20 items labelled "pos", and a freeze paused between its two passes over them
    project = make_project(labels=("pos", "neg"))
    ids = labelled_items(project, {"pos": 20})
    reached, resume = threading.Event(), threading.Event()
    real_assign = services.assign_splits

    def paused(**kwargs):
        assigned = real_assign(**kwargs)
        reached.set()
        resume.wait(60)
        return assigned

    monkeypatch.setattr(services, "assign_splits", paused)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["version"] = freeze(project)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert reached.wait(120), "the freeze never reached its pause"
    # When a quality run commits new labels and discards meanwhile
    Item.objects.filter(pk__in=ids).update(consensus_label="neg")
    Item.objects.filter(pk__in=ids[:5]).update(status=ItemStatus.DISCARDED)
    resume.set()
    thread.join(120)
    # Then the version is the state the freeze started from, whole
    assert "error" not in outcome, outcome.get("error")
    version = outcome["version"]
    assert version.n_entries == 20 and version.label_distribution == {"pos": 20}
    assert set(DatasetEntry.objects.filter(version=version).values_list("label", flat=True)) == {"pos"}
    # And the next freeze sees the writes
    assert freeze(project).label_distribution == {"neg": 15}
