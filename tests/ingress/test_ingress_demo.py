"""Demo image and audio projects (ingress/demo/media.py): loaded through the import job, idempotent."""

import re
from collections import Counter, defaultdict

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from annotation.models import Annotation, Item, Project
from ingress.demo import seed
from ingress.demo.media import AUDIO_PROJECT, IMAGE_PROJECT, seed_audio_project, seed_image_project
from ingress.models import ImportBatch
from ingress.services.near_duplicates import near_dup_refresh

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
    assert members(project) == {
        "manager": "manager",
        "alice": "annotator",
        "bob": "annotator",
        "carol": "annotator",
        **{name: "annotator" for name in simulated},
    }
    # 90 digits plus two exact "rescans" per batch
    assert Item.objects.filter(project=project).count() == 94
    first = Item.objects.get(project=project, metadata__index=0, metadata__rescan__isnull=True)
    assert first.content_type == "image/png" and first.profile["width"] == 64 and first.file.size > 0
    rescan = Item.objects.get(project=project, metadata__index=0, metadata__rescan=True)
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
    # (the generator's kind and variant are kept in the metadata; the ids are neutral)
    items = list(Item.objects.filter(project=project))
    flags = {(item.metadata["kind"], item.metadata["variant"]): item.flags for item in items}
    for kind in ("tone", "noise", "chirp"):
        assert "silent" in flags[(kind, 0)] and "clipped" in flags[(kind, 1)]
        assert "too_short" in flags[(kind, 3)]
    assert "low_snr" in flags[("tone", 2)]
    routed = {
        (item.metadata["kind"], item.metadata["variant"]) for item in items if item.status == "needs_review"
    }
    assert routed == {("tone", 0), ("noise", 0), ("chirp", 0), ("tone", 3), ("noise", 3), ("chirp", 3)}
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
    truth = {
        item.pk: str(reference.target[_digit_index(item, flat)])
        for item in Item.objects.filter(project=project)
    }
    # Then every gold digit is its load_digits class
    gold = dict(Item.objects.filter(project=project, is_gold=True).values_list("pk", "gold_label"))
    assert len(gold) == 3 and all(label == truth[pk] for pk, label in gold.items()), (gold, truth)
    # And a share of the digits carries three votes from three simulated annotators, as the text demo does
    votes: dict[int, list[str]] = defaultdict(list)
    voters: dict[int, set[int]] = defaultdict(set)
    for item_id, annotator_id, labels in Annotation.objects.filter(
        item__project=project, is_live=True
    ).values_list("item_id", "annotator_id", "labels"):
        votes[item_id].extend(labels)
        voters[item_id].add(annotator_id)
    assert 0.35 * len(truth) < len(votes) < 0.65 * len(truth)
    assert all(len(v) == 3 and len(voters[pk]) == 3 for pk, v in votes.items())
    # whose majority is the real class of the digit shown (labels unrelated to the image would agree 1 time in 10)
    majority_right = sum(Counter(v).most_common(1)[0][0] == truth[pk] for pk, v in votes.items())
    assert majority_right >= 0.7 * len(votes), (majority_right, len(votes))


def test_demo_ids_and_file_names_name_no_answer(media_roots):
    # Given the three demo projects (the media ones cut down)
    seed.seed_text_project(simulate_fraction=0.0)
    seed_image_project(n_images=60)
    seed_audio_project(per_label=5)
    expected = {
        seed.TEXT_PROJECT: (r"doc-\d{4}", None, "function"),
        IMAGE_PROJECT: (r"digit-\d{4}", r"digit-\d{4}\.png", "index"),
        AUDIO_PROJECT: (r"clip-\d{4}", r"clip-\d{4}\.wav", "kind"),
    }
    for name, (id_pattern, file_pattern, source_key) in expected.items():
        project = Project.objects.get(name=name)
        labels = list(project.labels.values_list("value", flat=True))
        items = list(Item.objects.filter(project=project).order_by("id"))
        for item in items:
            # Then every external id and stored file name is neutral, with no label word in it
            assert re.fullmatch(id_pattern, item.external_id), (name, item.external_id)
            if file_pattern is not None:
                assert re.fullmatch(file_pattern, item.file_name), (name, item.file_name)
            if name != IMAGE_PROJECT:  # the digit labels are digits, which every number contains
                assert not any(label in item.external_id + item.file_name for label in labels), (
                    item.external_id
                )
            # and the source reference is kept in the metadata (which annotators do not receive)
            assert source_key in item.metadata, (name, item.metadata)
        # And neither the ids nor the item ids (insertion order) run through the classes in blocks: in id order
        # the class changes at most steps; a shuffled order changes it at well over half of them
        classes = [
            item.metadata.get("kind") or item.metadata.get("module") or item.metadata["index"]
            for item in items
        ]
        if name == IMAGE_PROJECT:
            # (load_digits itself runs through the classes in turn, so its index must not show through the id)
            assert sum(
                int(item.external_id[-4:]) in (index, index + 1)
                for item, index in zip(items, classes, strict=True)
            ) < 0.2 * len(items)
            classes = [int(load_digits().target[index]) for index in classes]
        elif name == seed.TEXT_PROJECT:
            from ingress.demo.stdlib_corpus import TOPIC_MODULES

            topic_of = {module: topic for topic, modules in TOPIC_MODULES.items() for module in modules}
            classes = [topic_of[module] for module in classes]
        changes = sum(a != b for a, b in zip(classes, classes[1:], strict=False))
        assert changes > 0.5 * (len(classes) - 1), (name, changes, len(classes))


def test_text_demo_shows_its_duplicate_groups_from_the_start(client):
    # Given the text demo as the seed command loads it (no import or bulk-API call after it)
    project = seed.seed_text_project(simulate_fraction=0.0)
    grouped = list(
        Item.objects.filter(project=project, near_dup_group__isnull=False).values_list(
            "near_dup_group", flat=True
        )
    )
    # Then the duplicate scan has already run: running it again changes no item
    assert near_dup_refresh(project=project)["updated"] == 0
    # and the corpus has near-duplicate docstrings (near-identical sentences in several modules) in groups
    assert len(grouped) >= 2
    # which the batches page lists, one block per group (the first 20), instead of "No duplicates found"
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.pk}/batches/").content.decode()
    assert "No duplicates found" not in html
    assert html.count('class="dup-group"') == min(20, len(set(grouped)))
