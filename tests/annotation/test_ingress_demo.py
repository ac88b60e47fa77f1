"""Demo image and audio projects (annotation/demo/media.py): loaded through the import job, idempotent."""

import pytest

from annotation.demo import seed
from annotation.demo.media import AUDIO_PROJECT, IMAGE_PROJECT, seed_audio_project, seed_image_project
from annotation.models import ImportBatch, Item, Project

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
    assert members(project) == {"manager": "manager", "alice": "annotator", "bob": "annotator", "carol": "annotator"}
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
