"""Jobs stored before the Job model moved from annotation to core are still there, with their import batch."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import Job
from tests.factories import make_project

BEFORE_THE_MOVE = [
    ("annotation", "0009_item_pass_marks"),
    ("quality", "0009_annotatorquality_agreement_counts"),
    ("activelearning", "0001_initial"),
]


@pytest.mark.django_db(transaction=True)
def test_a_job_stored_in_annotation_job_is_read_back_by_core_after_migrating():
    # Given the schema as it was before the move, with an import job and the batch that points at it
    project = make_project(name="Before the move")
    executor = MigrationExecutor(connection)
    executor.migrate([("core", None), *BEFORE_THE_MOVE])
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    job = old.get_model("annotation", "Job").objects.create(
        kind="import",
        task_name="annotation.import",
        project_id=project.pk,
        status="succeeded",
        result={"created": 3},
        params={"file_name": "rows.csv"},
    )
    old.get_model("annotation", "ImportBatch").objects.create(project_id=project.pk, number=1, job_id=job.pk)
    # When every migration runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # Then core reads the same row from its own table, and the batch still points at it
    moved = Job.objects.get(pk=job.pk)
    assert (moved.kind, moved.status, moved.result, moved.params, moved.project_id) == (
        "import",
        "succeeded",
        {"created": 3},
        {"file_name": "rows.csv"},
        project.pk,
    )
    assert moved.import_batch.number == 1
    assert Job._meta.db_table == "core_job"
    assert "core_job" in connection.introspection.table_names()
    assert "annotation_job" not in connection.introspection.table_names()
