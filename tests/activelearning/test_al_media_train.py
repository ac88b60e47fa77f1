"""End to end with the real worker on media: small image and audio projects labelled through the annotation
service, consensus set by the worker's label hook, then a training job through the API. The job must record the
media extractor with the model version and store out-of-sample predictions for every labelled item."""

import base64
import io
import time

import numpy as np
import pytest
import soundfile
from PIL import Image

from activelearning.adapters import TRAINABLE_STATUSES
from activelearning.models import FeatureCache, ModelVersion, Prediction
from annotation.models import Item
from core.models import JobStatus
from ingress.services.bulk import item_bulk_create
from tests.activelearning.al_helpers import vote
from tests.conftest import wait_for_job
from tests.factories import add_member, make_project

pytestmark = [pytest.mark.worker]

N_LABELLED, N_POOL = 8, 2  # per class
SIZE = 32
RATE = 16_000


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def image_of(label: str, rng: np.random.Generator) -> bytes:
    """Red horizontal stripes, green vertical stripes or a blue checkerboard, with a random phase and noise."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    period = int(rng.integers(4, 8))
    phase = int(rng.integers(0, period))
    on = {
        "stripes": ((yy + phase) // (period // 2)) % 2 == 0,
        "bars": ((xx + phase) // (period // 2)) % 2 == 0,
        "checks": (((yy + phase) // period) + ((xx + phase) // period)) % 2 == 0,
    }[label]
    channel = {"stripes": 0, "bars": 1, "checks": 2}[label]
    pixels = rng.integers(0, 40, size=(SIZE, SIZE, 3))
    pixels[..., channel] += np.where(on, 200, 40)
    return _png(np.clip(pixels, 0, 255).astype(np.uint8))


def clip_of(label: str, rng: np.random.Generator) -> bytes:
    """Half a second of a sine tone: low (~220 Hz), mid (~880 Hz) or high (~3.5 kHz), jittered, with some noise."""
    base = {"low": 220.0, "mid": 880.0, "high": 3500.0}[label]
    frequency = base * rng.uniform(0.95, 1.05)
    t = np.arange(RATE // 2) / RATE
    signal = rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * frequency * t) + 0.01 * rng.standard_normal(t.size)
    buffer = io.BytesIO()
    soundfile.write(buffer, signal.astype(np.float32), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def media_project(*, task_type: str, labels: tuple[str, ...], make, suffix: str):
    """A k = 1 project of generated media: N_LABELLED items per class labelled by one annotator through the
    annotation service (the worker's label hook then sets each consensus), N_POOL per class left unlabelled."""
    project = make_project(
        task_type=task_type, labels=labels, k=1, rescore_every=0, consensus_method="majority_vote"
    )
    rng = np.random.default_rng(7)
    rows, truth = [], {}
    for label in labels:
        for i in range(N_LABELLED + N_POOL):
            external_id = f"{label}-{i}"
            truth[external_id] = label
            data = base64.b64encode(make(label, rng)).decode()
            rows.append(
                {"external_id": external_id, "file_b64": data, "file_name": f"{external_id}.{suffix}"}
            )
    result = item_bulk_create(project=project, rows=rows)
    assert not result.errors and result.created == len(rows), result.errors
    annotator = add_member(project)
    labelled = []
    for item in Item.objects.filter(project=project).order_by("id"):
        if int(item.external_id.rsplit("-", 1)[1]) < N_LABELLED:
            vote(project, item, [truth[item.external_id]], annotators=[annotator])
            labelled.append(item.pk)
    return project, labelled, truth


def _wait_for_consensus(labelled: list[int], worker, deadline_seconds: float = 120.0) -> None:
    """Until the worker's hook has set every labelled item's consensus (it may route some to needs_review)."""
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        done = Item.objects.filter(
            pk__in=labelled, consensus_label__isnull=False, status__in=TRAINABLE_STATUSES
        )
        if done.count() == len(labelled):
            return
        time.sleep(0.2)
    pytest.fail(
        f"the label hook did not set {len(labelled)} consensus labels in {deadline_seconds}s\n"
        f"{worker.log_tail()}"
    )


def _train_and_check(api, worker, project, labelled, truth, *, extractor_name: str) -> ModelVersion:
    _wait_for_consensus(labelled, worker)
    # When the manager starts training and the worker runs it
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/model/train/", {"seed": 2}, format="json"
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker, deadline_seconds=300)
    # Then a model was trained on every labelled item, and the version records the media extractor
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["mode"], job.result["n_train"]) == ("model", len(labelled)), job.result
    version = ModelVersion.objects.get(project=project)
    assert (version.extractor_name, version.extractor_version) == (extractor_name, "1")
    assert version.extractor.startswith(f"{extractor_name}/1#") and version.n_train == len(labelled)
    # and every item's media was read (no feature errors)
    cache = FeatureCache.objects.filter(extractor=version.extractor, item__project=project)
    assert cache.count() == len(truth) and not cache.exclude(error="").exists()
    # and every labelled item has an out-of-sample prediction over the project's labels; pool items a pool one
    predictions = {p.item_id: p for p in Prediction.objects.filter(item__project=project)}
    assert set(predictions) == set(Item.objects.filter(project=project).values_list("pk", flat=True))
    assert {pk for pk, p in predictions.items() if p.is_out_of_sample} == set(labelled)
    assert all(p.probabilities.shape == (len(version.label_values),) for p in predictions.values())
    assert all(abs(float(p.probabilities.sum()) - 1.0) < 1e-4 for p in predictions.values())
    # and the classes, built to differ plainly, were learnt: k-fold accuracy well above chance (1/3)
    assert version.cv_accuracy >= 0.8
    names = dict(Item.objects.filter(project=project).values_list("pk", "external_id"))
    pool = [pk for pk in predictions if pk not in set(labelled)]
    assert sum(predictions[pk].predicted == truth[names[pk]] for pk in pool) >= len(pool) - 1
    return version


def test_an_image_project_trains_on_image_features_in_the_worker(worker, api):
    # Given 30 generated PNGs in three visually distinct classes, 24 of them labelled
    project, labelled, truth = media_project(
        task_type="image_classification", labels=("stripes", "bars", "checks"), make=image_of, suffix="png"
    )
    _train_and_check(api, worker, project, labelled, truth, extractor_name="image-pixels-hist-hog")


def test_an_audio_project_trains_on_audio_features_in_the_worker(worker, api):
    # Given 30 generated WAV tones of three pitches, 24 of them labelled
    project, labelled, truth = media_project(
        task_type="audio_classification", labels=("low", "mid", "high"), make=clip_of, suffix="wav"
    )
    _train_and_check(api, worker, project, labelled, truth, extractor_name="audio-mfcc-spectral")
