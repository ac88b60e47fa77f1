"""Exact and near-duplicate groups across the whole project (ingress/services/near_duplicates.py)."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from annotation.models import Item
from ingress.services.bulk import item_bulk_create
from ingress.services.near_duplicates import near_dup_refresh
from tests.factories import make_project
from tests.ingress.ingress_fixtures import png_bytes, run_import  # noqa: F401

pytestmark = pytest.mark.django_db

LONG_A = (
    "The quarterly report shows revenue growth across all regions, driven by strong demand for the new "
    "product line and improved retention among enterprise customers in the second half of the year."
)
LONG_B = LONG_A.replace("strong demand", "robust demand")
UNRELATED = "Configure the router to forward port 8080 to the internal build server before the deploy window."


def csv_of(rows: list[tuple[str, str]]) -> bytes:
    lines = ["external_id,text"] + [f'{eid},"{text}"' for eid, text in rows]
    return ("\n".join(lines) + "\n").encode()


def state(project) -> dict[str, tuple[int | None, list[str]]]:
    return {
        eid: (group, flags)
        for eid, group, flags in Item.objects.filter(project=project).values_list(
            "external_id", "near_dup_group", "flags"
        )
    }


def test_same_text_under_another_id_in_a_later_file_is_kept_and_grouped(media_roots):
    project = make_project()
    run_import(
        project, "a.csv", csv_of([("x1", "The cat sat on the mat"), ("x2", "Something else entirely")])
    )
    job = run_import(project, "b.csv", csv_of([("y1", "The cat sat on the mat")]))
    # Then both copies exist, share a group whose id is the older item's id, and carry the duplicate flag
    assert job.result["created"] == 1
    x1 = Item.objects.get(external_id="x1")
    now = state(project)
    assert now["x1"] == (x1.pk, ["duplicate"]) and now["y1"] == (x1.pk, ["duplicate"])
    assert now["x2"] == (None, [])
    assert job.result["near_duplicates"]["exact_duplicates"] == 2


def test_text_equal_after_normalisation_is_a_near_duplicate(media_roots):
    project = make_project()
    run_import(
        project, "a.csv", csv_of([("n1", "Hello, World!"), ("n2", "hello   world"), ("n3", "goodbye world")])
    )
    now = state(project)
    assert now["n1"][0] is not None and now["n1"][0] == now["n2"][0]
    assert now["n1"][1] == ["near_duplicate"] and now["n2"][1] == ["near_duplicate"]
    assert now["n3"] == (None, [])


def test_minhash_groups_texts_differing_by_one_word(media_roots):
    project = make_project()
    run_import(project, "a.csv", csv_of([("m1", LONG_A), ("m2", UNRELATED)]))
    run_import(project, "b.csv", csv_of([("m3", LONG_B)]))
    now = state(project)
    m1 = Item.objects.get(external_id="m1").pk
    assert now["m1"] == (m1, ["near_duplicate"]) and now["m3"] == (m1, ["near_duplicate"])
    assert now["m2"] == (None, [])


def test_bulk_api_items_are_sketched_and_grouped_by_the_next_import(media_roots):
    project = make_project()
    item_bulk_create(project=project, rows=[{"external_id": "b1", "text": LONG_A}])
    assert Item.objects.get(external_id="b1").minhash is None
    run_import(project, "a.csv", csv_of([("c1", LONG_B)]))
    b1 = Item.objects.get(external_id="b1")
    assert b1.minhash is not None and len(bytes(b1.minhash)) == 128
    assert state(project)["c1"] == (b1.pk, ["near_duplicate"])


def test_refresh_is_stable_and_clears_groups_that_dissolve(media_roots):
    project = make_project()
    run_import(project, "a.csv", csv_of([("s1", "same text"), ("s2", "same text"), ("s3", "other")]))
    # Running again changes nothing
    assert near_dup_refresh(project=project)["updated"] == 0
    # When one copy is edited away (e.g. a fix), the other loses its group and flag, other flags stay
    Item.objects.filter(external_id="s2").update(
        text="changed", sha256="0" * 64, near_dup_key="", minhash=None
    )
    Item.objects.filter(external_id="s1").update(flags=["duplicate", "mojibake"])
    result = near_dup_refresh(project=project)
    assert result["groups"] == 0 and result["updated"] == 2
    now = state(project)
    assert now["s1"] == (None, ["mojibake"]) and now["s2"] == (None, [])


def shifted_png(base: np.ndarray, delta: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(base.astype(int) + delta, 0, 255).astype(np.uint8), mode="L").save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def test_images_exact_and_perceptual_duplicates(media_roots):
    rng = np.random.default_rng(3)
    base = (rng.random((8, 8)) * 255).astype(np.uint8).repeat(8, axis=0).repeat(8, axis=1)  # blocky 64x64
    other = (rng.random((8, 8)) * 255).astype(np.uint8).repeat(8, axis=0).repeat(8, axis=1)
    project = make_project(task_type="image_classification", labels=("a", "b"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orig.png", shifted_png(base, 0))
        archive.writestr("copy.png", shifted_png(base, 0))  # same bytes, another id
        archive.writestr("brighter.png", shifted_png(base, 6))  # same picture, slightly brighter
        archive.writestr("other.png", shifted_png(other, 0))
    job = run_import(project, "imgs.zip", buffer.getvalue())
    assert job.result["created"] == 4
    now = state(project)
    group = now["orig.png"][0]
    assert group is not None and now["copy.png"][0] == group and now["brighter.png"][0] == group
    assert now["orig.png"][1] == ["duplicate"] and now["copy.png"][1] == ["duplicate"]
    assert now["brighter.png"][1] == ["near_duplicate"]
    assert now["other.png"] == (None, [])


def test_near_duplicate_groups_api_reports_label_disagreement(media_roots, api):
    project = make_project()
    run_import(project, "a.csv", csv_of([("g1", "same words"), ("g2", "same words!"), ("g3", "unrelated")]))
    Item.objects.filter(external_id="g1").update(final_label="pos")
    Item.objects.filter(external_id="g2").update(consensus_label="neg")
    response = api(project.created_by).get(f"/api/projects/{project.pk}/near-duplicates/")
    assert response.status_code == 200
    (group,) = response.json()
    assert group["size"] == 2 and group["labels_disagree"] is True
    assert [m["external_id"] for m in group["members"]] == ["g1", "g2"]
    bad = api(project.created_by).get(f"/api/projects/{project.pk}/near-duplicates/?limit=0")
    assert bad.status_code == 400 and "limit" in bad.json()


def test_bulk_api_items_are_grouped_by_a_refresh_job_shared_by_the_calls_before_it_starts(
    media_roots, api, django_capture_on_commit_callbacks
):
    from config.celery import app
    from core import jobs
    from core.models import Job, JobStatus
    from ingress.job_kinds import NEAR_DUPLICATES_JOB
    from ingress.services.near_duplicates import near_dup_refresh_run

    project = make_project()
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/items/bulk/"

    def post(rows):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, rows, format="json")
        assert response.status_code in (200, 201), response.content
        return Job.objects.filter(project=project, kind=NEAR_DUPLICATES_JOB).order_by("created_at")

    # Given a bulk call, then a second one and a call that creates nothing, all before the refresh job starts
    post([{"external_id": "b1", "text": LONG_A}])
    post([{"external_id": "b2", "text": LONG_B}, {"external_id": "b3", "text": UNRELATED}])
    waiting = post([{"external_id": "b1", "text": LONG_A}])
    # Then one refresh job is queued for all of them, under a task name the worker registers
    (job,) = waiting
    app.loader.import_default_modules()  # what a worker does at startup
    assert job.status == JobStatus.QUEUED and job.task_name in app.tasks
    assert state(project)["b2"] == (None, [])
    # When it runs
    jobs.job_execute(job_id=str(job.pk), work=near_dup_refresh_run)
    job.refresh_from_db()
    # Then the bulk items are grouped without waiting for a file import
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["groups"] == 1 and job.result["items_in_groups"] == 2
    b1 = Item.objects.get(project=project, external_id="b1").pk
    now = state(project)
    assert now["b1"] == (b1, ["near_duplicate"]) and now["b2"] == (b1, ["near_duplicate"])
    assert now["b3"] == (None, [])
    # And a later bulk call queues a new job, since the finished one cannot see its items
    after = post([{"external_id": "b4", "text": UNRELATED}])
    assert [j.status for j in after] == [JobStatus.SUCCEEDED, JobStatus.QUEUED]


def test_bulk_batches_are_summarised_together_in_queries_independent_of_their_number(media_roots):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.models import Job
    from ingress.job_kinds import IMPORT_JOB
    from ingress.models import ImportBatch
    from ingress.services.batch_summaries import bulk_batches_summarise
    from ingress.services.batches import batch_open

    def project_with_bulk_batches(n_batches: int):
        project = make_project()
        for b in range(n_batches):
            rows = [{"external_id": f"{b}-{i}", "text": f"{'x' * (5 + 100 * b)} {i}"} for i in range(25)]
            item_bulk_create(project=project, rows=rows)
        return project

    def queries_to_summarise(project, expected: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bulk_batches_summarise(project=project) == expected
        return len(captured.captured_queries)

    # Given one project with one bulk batch, another with four and a file import still inserting its items
    one, four = project_with_bulk_batches(1), project_with_bulk_batches(4)
    importing = batch_open(project=four, source="big.csv")
    importing.job = Job.objects.create(kind=IMPORT_JOB, task_name="annotation.import", project=four)
    importing.save(update_fields=["job"])
    # When their bulk batches are summarised, then four cost as many queries as one
    assert queries_to_summarise(four, 4) == queries_to_summarise(one, 1)
    # And each has its own summary, and drift against the batches before it (each longer than all earlier)
    batches = list(ImportBatch.objects.filter(project=four).order_by("number"))
    assert [b.profile_summary.get("n_items") for b in batches] == [25, 25, 25, 25, None]
    assert batches[0].drift == [] and batches[4].summary_state == {}
    for batch in batches[1:4]:
        (finding,) = batch.drift
        assert finding["sentence"].startswith(f"Batch {batch.number}: mean text length rose")
    # And a second run finds nothing left to do
    assert bulk_batches_summarise(project=four) == 0


def test_a_file_import_summarises_waiting_bulk_batches_but_not_another_running_import(media_roots):
    from core.models import Job
    from ingress.job_kinds import IMPORT_JOB
    from ingress.models import ImportBatch
    from ingress.services.batches import batch_open

    # Given a bulk batch whose refresh job has not run, and another file import still inserting its items
    project = make_project()
    item_bulk_create(
        project=project, rows=[{"external_id": f"b-{i}", "text": f"short {i}"} for i in range(10)]
    )
    running = batch_open(project=project, source="other.csv")
    running.job = Job.objects.create(kind=IMPORT_JOB, task_name="annotation.import", project=project)
    running.save(update_fields=["job"])
    # When a file import finishes
    csv = "external_id,text\n" + "".join(f"f-{i},{'long text ' * 30}{i}\n" for i in range(10))
    job = run_import(project, "rows.csv", csv.encode())
    # Then the bulk batch got its summary, the running import's batch was left for its own job
    assert job.status == "succeeded", job.error
    bulk, other, imported = ImportBatch.objects.filter(project=project).order_by("number")
    assert bulk.profile_summary["n_items"] == 10
    assert other.summary_state == {}
    assert imported.profile_summary["n_items"] == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_a_project_run_one_after_the_other(media_roots, monkeypatch):
    """A refresh that read the project before a newer one wrote must not write its stale groups over the newer
    ones: the second waits at the project's lock until the first commits, then reads what it wrote."""
    import threading
    import time

    from django.db import connection

    from annotation.models import Project
    from ingress.services import near_duplicates

    # Given two near-duplicate texts, grouped
    project = make_project()
    item_bulk_create(
        project=project,
        rows=[{"external_id": "y", "text": "Hello, World!"}, {"external_id": "w", "text": "hello   world"}],
    )
    near_dup_refresh(project=project)
    y = Item.objects.get(project=project, external_id="y").pk
    assert state(project) == {"y": (y, ["near_duplicate"]), "w": (y, ["near_duplicate"])}
    # And a first refresh paused after reading the project, before writing its groups
    has_read, resume = threading.Event(), threading.Event()
    store = near_duplicates._store

    def paused_store(*args):
        if threading.current_thread().name == "first":
            has_read.set()
            assert resume.wait(timeout=120)
        return store(*args)

    monkeypatch.setattr(near_duplicates, "_store", paused_store)
    outcome: dict[str, object] = {}

    def refresh() -> None:
        try:
            outcome[threading.current_thread().name] = near_dup_refresh(
                project=Project.objects.get(pk=project.pk)
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread's assertion
            outcome[threading.current_thread().name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=refresh, name="first")
    first.start()
    assert has_read.wait(timeout=120)
    # When an exact copy of y arrives and a second refresh starts while the first is paused
    item_bulk_create(project=project, rows=[{"external_id": "n", "text": "Hello, World!"}])
    second = threading.Thread(target=refresh, name="second")
    second.start()

    def second_waits_at_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            return cursor.fetchone()[0] > 0

    deadline = time.monotonic() + 120
    waited = False
    while time.monotonic() < deadline and second.is_alive() and not waited:
        second.join(timeout=0.05)
        waited = second_waits_at_a_lock()
    resume.set()
    first.join(timeout=120)
    second.join(timeout=120)
    # Then the second refresh waited for the first, and its newer groups are the ones that stay
    assert not first.is_alive() and not second.is_alive()
    assert isinstance(outcome["first"], dict) and isinstance(outcome["second"], dict), outcome
    now = state(project)
    assert now == {"y": (y, ["duplicate"]), "n": (y, ["duplicate"]), "w": (y, ["near_duplicate"])}, now
    assert waited, "the second refresh ran while the first held its stale reading"
    # And they left what a single refresh computes
    assert near_dup_refresh(project=project)["updated"] == 0
