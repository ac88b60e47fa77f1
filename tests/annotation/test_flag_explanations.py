"""Every profile flag a page shows carries the value that raised it and the threshold, in words; a duplicate flag
names (and links) the other item and how close it is. Values below are written by hand into the stored profile,
so the expected text is read off them, not off the code."""

import html
import re

import pytest

from annotation.flag_text import explain_profile_flag
from annotation.models import Item, ItemStatus
from annotation.profile_thresholds import ProfileThresholds
from ingress.models import ImportBatch
from tests.factories import make_project

AUDIO_PROFILE = {
    "kind": "audio",
    "duration": 2.0,
    "analysed_seconds": 2.0,
    "loudness_dbfs": -62.25,
    "silence_ratio": 1.0,
    "clipping_ratio": 0.0,
    "snr_db": 3.14,
    "corrupt": False,
}


def _text(page: bytes) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page.decode())))


def test_audio_flags_read_as_value_and_threshold():
    t = ProfileThresholds()  # silent -50 dBFS, low SNR 10 dB
    assert (
        explain_profile_flag("silent", AUDIO_PROFILE, t).detail
        == "RMS \u221262.2 dBFS (threshold \u221250 dBFS)"
    )
    low_snr = explain_profile_flag("low_snr", AUDIO_PROFILE, t)
    assert (low_snr.words, low_snr.detail) == ("low SNR", "3.1 dB (threshold 10 dB)")


def test_image_and_text_flags_read_as_value_and_threshold():
    image = {
        "kind": "image",
        "width": 20,
        "height": 16,
        "brightness": 0.081,
        "contrast": 0.0312,
        "blur": 12.0,
    }
    t = ProfileThresholds(blurry=50)
    assert explain_profile_flag("blurry", image, t).detail == "Laplacian variance 12 (threshold 50)"
    assert explain_profile_flag("too_dark", image, t).detail == "mean brightness 0.081 (threshold 0.15)"
    assert (
        explain_profile_flag("low_contrast", image, t).detail == "contrast (luma std) 0.031 (threshold 0.05)"
    )
    assert explain_profile_flag("tiny", image, t).detail == "20 × 16 px, shorter side 16 px (threshold 32 px)"
    clipped = {"kind": "audio", "clipping_ratio": 0.005}
    assert explain_profile_flag("clipped", clipped, t).detail == "0.5 % of samples clipped (threshold 0.1 %)"
    long_text = {"kind": "text", "length": 123456}
    assert explain_profile_flag("too_long", long_text, t).detail == "123,456 characters (threshold 100,000)"


@pytest.mark.django_db
def test_review_item_page_shows_audio_flag_values_and_thresholds(client):
    project = make_project(task_type="audio_classification", profile_thresholds={"low_snr_db": 12})
    item = Item.objects.create(
        project=project,
        external_id="tone-01",
        sha256="a" * 64,
        profile=AUDIO_PROFILE,
        flags=["silent", "low_snr"],
        status=ItemStatus.NEEDS_REVIEW,
    )
    client.force_login(project.created_by)
    page = _text(client.get(f"/projects/{project.pk}/review/items/{item.pk}/").content)
    assert "silent: RMS \u221262.2 dBFS (threshold \u221250 dBFS)" in page
    # The project's own threshold (12 dB), not the default.
    assert "low SNR: 3.1 dB (threshold 12 dB)" in page
    assert "low_snr" not in page


def _image_pair(project, *, exact: bool):
    first = Item.objects.create(
        project=project,
        external_id="a.png",
        sha256="1" * 64,
        near_dup_key="00000000000000ff",
        profile={"kind": "image", "blur": 300.0},
        flags=[],
    )
    second = Item.objects.create(
        project=project,
        external_id="b.png",
        sha256="1" * 64 if exact else "2" * 64,
        near_dup_key="00000000000000ff" if exact else "000000000000000f",
        profile={"kind": "image", "blur": 12.0},
        flags=[],
    )
    flag = "duplicate" if exact else "near_duplicate"
    Item.objects.filter(pk__in=[first.pk, second.pk]).update(near_dup_group=first.pk)
    Item.objects.filter(pk=first.pk).update(flags=[flag])
    Item.objects.filter(pk=second.pk).update(flags=["blurry", flag])
    return first, second


@pytest.mark.django_db
def test_near_duplicate_names_and_links_the_other_item_with_the_phash_distance(client):
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    first, second = _image_pair(project, exact=False)
    client.force_login(project.created_by)
    raw = client.get(f"/projects/{project.pk}/review/items/{second.pk}/").content.decode()
    page = _text(raw.encode())
    # 0xff ^ 0x0f = 0xf0: four differing bits; the default limit is 6.
    assert f"near duplicate of item #{first.pk} (pHash distance 4 ≤ 6)" in page
    assert f'href="/projects/{project.pk}/review/items/{first.pk}/"' in raw
    assert "blurry: Laplacian variance 12 (threshold 60)" in page

    items_page = _text(client.get(f"/projects/{project.pk}/items/").content)
    assert f"near duplicate of item #{second.pk} (pHash distance 4 ≤ 6)" in items_page
    assert "blurry: Laplacian variance 12 (threshold 60)" in items_page


@pytest.mark.django_db
def test_exact_duplicate_says_of_which_item(client):
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    first, second = _image_pair(project, exact=True)
    client.force_login(project.created_by)
    page = _text(client.get(f"/projects/{project.pk}/items/").content)
    assert f"duplicate of item #{second.pk} (identical content)" in page
    assert f"duplicate of item #{first.pk} (identical content)" in page


@pytest.mark.django_db
def test_batches_page_explains_flagged_items_and_batch_flag_counts(client):
    project = make_project(task_type="audio_classification")
    batch = ImportBatch.objects.create(
        project=project,
        number=1,
        source="upload",
        profile_summary={
            "n_items": 1,
            "numeric": {},
            "categorical": {},
            "flags": {"low_snr": 1, "silent": 1},
        },
    )
    Item.objects.create(
        project=project,
        external_id="tone-01",
        sha256="a" * 64,
        profile=AUDIO_PROFILE,
        batch=batch,
        flags=["silent", "low_snr"],
    )
    client.force_login(project.created_by)
    page = _text(client.get(f"/projects/{project.pk}/batches/").content)
    assert "low SNR × 1 (SNR under 10 dB)" in page
    assert "silent × 1 (RMS under \u221250 dBFS)" in page
    assert "low SNR: 3.1 dB (threshold 10 dB)" in page
    assert "RMS \u221262.2 dBFS (threshold \u221250 dBFS)" in page


@pytest.mark.django_db
def test_batches_page_says_a_three_row_batch_is_too_few_to_judge_drift(client):
    project = make_project(task_type="text_classification")
    summary = {"numeric": {}, "categorical": {}, "flags": {}}
    ImportBatch.objects.create(
        project=project, number=1, source="upload", profile_summary={"n_items": 60, **summary}
    )
    ImportBatch.objects.create(
        project=project, number=2, source="upload", profile_summary={"n_items": 3, **summary}
    )
    ImportBatch.objects.create(
        project=project, number=3, source="upload", profile_summary={"n_items": 25, **summary}
    )
    client.force_login(project.created_by)
    page = _text(client.get(f"/projects/{project.pk}/batches/").content)
    assert "Too few rows in this batch to judge drift (3; at least 20 needed)." in page
    # batch 3 has 25 rows against 63 earlier ones: only there may the page say nothing moved
    assert page.count("No material drift from the earlier batches.") == 1


@pytest.mark.django_db
def test_batches_page_pluralises_the_batch_counts(client):
    # Given one batch with one duplicate and one error, and one with two of each
    project = make_project(task_type="text_classification")
    ImportBatch.objects.create(
        project=project, number=1, source="upload", n_created=3, n_duplicates=1, n_errors=1
    )
    ImportBatch.objects.create(
        project=project, number=2, source="upload", n_created=1, n_duplicates=2, n_errors=2
    )
    client.force_login(project.created_by)
    # When the manager opens the batches page
    page = _text(client.get(f"/projects/{project.pk}/batches/").content)
    # Then each count agrees with its noun
    assert "3 created, 1 duplicate, 1 error" in page and "1 errors" not in page
    assert "1 created, 2 duplicates, 2 errors" in page
