"""Services that serialise on the project row do not stall labelling (PostgreSQL).

Creating a guideline, opening an import batch or editing project settings lock the project row so that version
and batch numbers stay gapless. Every assignment and annotation row has a foreign key to the project, and
inserting one takes a KEY SHARE lock on the project row. ``FOR UPDATE`` conflicts with KEY SHARE, so while such a
service's transaction was open every annotator of the project waited; ``FOR NO KEY UPDATE`` does not, and still
serialises the services among themselves. Each test holds a service's transaction open in another thread while an
annotator asks for an item and submits it under a short ``lock_timeout``: a blocked request fails instead of
waiting, so the test cannot pass by waiting the holder out.
"""

import threading

import pytest
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotation.models import Annotation, Guideline, Project
from annotation.services.projects import guideline_create, project_update
from ingress.models import ImportBatch
from ingress.services.batches import batch_open
from tests.factories import add_items, add_member, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOLD_SECONDS = (
    30  # upper bound on how long the holder keeps its transaction open; it is released much earlier
)


def hold_open(
    service, project_id: int, locked: threading.Event, release: threading.Event, errors: list
) -> None:
    try:
        with transaction.atomic():
            service(Project.objects.get(pk=project_id))
            locked.set()
            release.wait(HOLD_SECONDS)
    except Exception as exc:  # noqa: BLE001 - reported to the main thread
        errors.append(exc)
        locked.set()
    finally:
        connection.close()


SERVICES = {
    "guideline_create": lambda project: guideline_create(
        project=project, author=project.created_by, body="# v2\nNew rule.", change_note="v2"
    ),
    "batch_open": lambda project: batch_open(project=project, source="held.csv"),
    "project_update": lambda project: project_update(project=project, name="Renamed while labelling"),
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_an_open_project_lock_lets_annotators_get_and_submit_items(name):
    # Given a project with items and an annotator, and a service holding the project row locked in its transaction
    project = make_project(k=1)
    add_items(project, 3)
    annotator = add_member(project)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=annotator).key}")
    locked, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=hold_open, args=(SERVICES[name], project.pk, locked, release, errors))
    holder.start()
    try:
        assert locked.wait(HOLD_SECONDS)
        assert errors == []
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # a request that has to wait for the holder fails
        # When the annotator asks for an item and submits a label meanwhile
        served = client.get(f"/api/projects/{project.pk}/next/")
        assert served.status_code == 200, served.content
        stored = client.post(
            f"/api/projects/{project.pk}/annotations/",
            {"item": served.json()["item"]["id"], "label": "pos"},
            format="json",
        )
        # Then both succeed while the lock is still held
        assert stored.status_code == 201, stored.content
        assert holder.is_alive()
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    # And the label and the service's own change are both stored
    assert errors == []
    assert Annotation.objects.filter(project=project, annotator=annotator).count() == 1
    changed = {
        "guideline_create": lambda: Guideline.objects.filter(project=project, version=2).exists(),
        "batch_open": lambda: ImportBatch.objects.filter(project=project, source="held.csv").exists(),
        "project_update": lambda: Project.objects.get(pk=project.pk).name == "Renamed while labelling",
    }[name]
    assert changed()


def test_two_services_on_one_project_still_wait_for_each_other():
    # Given a guideline being created in an open transaction
    project = make_project(k=1)
    locked, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(
        target=hold_open, args=(SERVICES["guideline_create"], project.pk, locked, release, errors)
    )
    holder.start()
    try:
        assert locked.wait(HOLD_SECONDS)
        # When another service tries to lock the same project with a short lock_timeout
        with pytest.raises(Exception, match="lock timeout"):  # noqa: PT011 - psycopg's LockNotAvailable, wrapped
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1s'")
                batch_open(project=project, source="second.csv")
    finally:
        release.set()
        holder.join()
    # Then it was refused rather than interleaved, and works once the first has committed
    assert errors == []
    assert not ImportBatch.objects.filter(project=project, source="second.csv").exists()
    assert batch_open(project=project, source="second.csv").number == 1
