"""Demo image and audio projects (annotation/demo/media.py): loaded through the import job, idempotent."""

from collections import Counter, defaultdict

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from annotation.demo import seed
from annotation.demo.media import AUDIO_PROJECT, IMAGE_PROJECT, seed_audio_project, seed_image_project
from annotation.models import Annotation, ImportBatch, Item, Project

pytestmark = pytest.mark.django_db


def members(project) -> dict[str, str]:
    return dict(project.memberships.values_list("user__username", "role"))


def test_both_media_demos_are_registered_with_the_seed_command():
    assert seed_image_project in seed.EXTRA_SEEDERS and seed_audio_project in seed.EXTRA_SEEDERS


def test_image_demo_renders_digits_in_two_batches_with_drift(media_roots):
    message = seed_image_project(n_images=90)
    project = Project.objects.get(name=IMAGE_PROJECT)
    assert project.task_type == "image_classification"
    assert [label.value for label in project.labels.all()] == [str(d) for d in range(10)]
    simulated = ("sim-ann", "sim-ben", "sim-cat", "sim-dan", "sim-eve", "sim-spam")
    assert members(project) == {"manager": "manager", "alice": "annotator", "bob": "annotator", "carol": "annotator",
                                **{name: "annotator" for name in simulated}}
    # 90 digits plus two exact "rescans" per batch
    assert Item.objects.filter(project=project).count() == 94
    first = Item.objects.get(project=project, external_id="digit-0000")
    assert first.content_type == "image/png" and first.profile["width"] == 64 and first.file.size > 0
    rescan = Item.objects.get(project=project, external_id="digit-0000-rescan")
    assert rescan.sha256 == first.sha256 and rescan.near_dup_group == first.near_dup_group == first.pk
    assert Item.objects.filter(project=project, is_gold=True).count() == 2
    batches = list(ImportBatch.objects.filter(project=project).order_by("number"))
    assert [b.n_created for b in batches] == [62, 32]
    assert any(d["field"] == "brightness" for d in batches[1].drift) and "brightness dropped" in message
    assert seed_image_project(n_images=90) is None  # idempotent


def test_audio_demo_has_flagged_clips_routed_to_review(media_roots):
    seed_audio_project(per_label=5)
    project = Project.objects.get(name=AUDIO_PROJECT)
    assert members(project)["carol"] == "annotator"
    assert Item.objects.filter(project=project).count() == 15
    flags = dict(Item.objects.filter(project=project).values_list("external_id", "flags"))
    for kind in ("tone", "noise", "chirp"):
        assert "silent" in flags[f"{kind}-00"] and "clipped" in flags[f"{kind}-01"]
        assert "too_short" in flags[f"{kind}-03"]
    assert "low_snr" in flags["tone-02"]
    routed = set(Item.objects.filter(project=project, status="needs_review").values_list("external_id", flat=True))
    assert routed == {"tone-00", "noise-00", "chirp-00", "tone-03", "noise-03", "chirp-03"}
    assert seed_audio_project(per_label=5) is None


def _digit_index(item: Item, digits: np.ndarray) -> int:
    """Which of ``digits`` (n × 64 ink values) the item's stored image shows, read from its pixels alone."""
    with item.file.open("rb") as handle:
        grey = np.asarray(Image.open(handle).convert("L"), dtype=float)
    # One pixel from the middle of each enlarged cell; ink is dark, and each batch maps ink to grey linearly
    # (the second on darker paper), so the right digit correlates perfectly whatever the paper.
    ink = -grey[4::8, 4::8].ravel()
    return int(np.argmax([np.corrcoef(ink, row)[0, 1] for row in digits]))


def test_image_demo_items_carry_the_load_digits_class_of_the_digit_they_show(media_roots):
    # Given the image demo of the first 150 digits, about half of them voted on
    seed_image_project(n_images=150, simulate_fraction=0.5)
    project = Project.objects.get(name=IMAGE_PROJECT)
    reference = load_digits()
    flat = reference.images[:150].reshape(150, -1)
    truth = {item.pk: str(reference.target[_digit_index(item, flat)])
             for item in Item.objects.filter(project=project)}
    # Then every gold digit is its load_digits class
    gold = dict(Item.objects.filter(project=project, is_gold=True).values_list("pk", "gold_label"))
    assert len(gold) == 3 and all(label == truth[pk] for pk, label in gold.items()), (gold, truth)
    # And a share of the digits carries three votes from three simulated annotators, as the text demo does
    votes: dict[int, list[str]] = defaultdict(list)
    voters: dict[int, set[int]] = defaultdict(set)
    for item_id, annotator_id, labels in Annotation.objects.filter(item__project=project, is_live=True).values_list(
            "item_id", "annotator_id", "labels"):
        votes[item_id].extend(labels)
        voters[item_id].add(annotator_id)
    assert 0.35 * len(truth) < len(votes) < 0.65 * len(truth)
    assert all(len(v) == 3 and len(voters[pk]) == 3 for pk, v in votes.items())
    # whose majority is the real class of the digit shown (labels unrelated to the image would agree 1 time in 10)
    majority_right = sum(Counter(v).most_common(1)[0][0] == truth[pk] for pk, v in votes.items())
    assert majority_right >= 0.7 * len(votes), (majority_right, len(votes))
