"""Bad input through the import job and the bulk API: good rows land, each bad row is reported with its
reason, and nothing half-written remains (no item without its file, no file without its item)."""

import base64
import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from annotation.models import Item
from core.models import JobStatus
from ingress.models import ImportBatch
from tests.factories import make_project
from tests.ingress.ingress_fixtures import (  # noqa: F401
    png_bytes,
    run_import,
    stored_media,
    tone,
    wav_bytes,
)

pytestmark = pytest.mark.django_db


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def image_project(**fields):
    return make_project(task_type="image_classification", labels=("cat", "dog"), **fields)


def audio_project(**fields):
    return make_project(task_type="audio_classification", labels=("tone", "noise", "chirp"), **fields)


def assert_storage_consistent(project, media_root):
    """Every item has its file on disk and every stored file belongs to an item."""
    names = set(Item.objects.filter(project=project).exclude(file="").values_list("file", flat=True))
    on_disk = {str(p.relative_to(media_root)) for p in stored_media(media_root)}
    assert on_disk == names


def report_by_line(job) -> dict[int, dict]:
    return {row["line"]: row for row in job.result["report"]}


def test_corrupt_png_is_reported_and_leaves_nothing_behind(media_roots):
    project = image_project()
    good = png_bytes(90, pattern=4)
    corrupt = good[:40] + b"\x00garbage" * 10  # a PNG signature and header, then nonsense
    job = run_import(project, "imgs.zip", zip_of({"good.png": good, "broken.png": corrupt}))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 1 and job.result["errors"] == 1
    (row,) = job.result["report"]
    assert row["field"] == "file"
    assert row["message"] == "broken.png is not a readable image (PNG, JPEG, GIF, WebP, BMP or TIFF)."
    assert list(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["good.png"]
    assert_storage_consistent(project, media_roots["media"])


def test_zero_byte_file_is_reported(media_roots):
    project = image_project()
    job = run_import(project, "imgs.zip", zip_of({"good.png": png_bytes(), "empty.png": b""}))
    assert job.result["created"] == 1
    assert job.result["report"][0]["message"] == "The file is empty (0 bytes)."
    assert_storage_consistent(project, media_roots["media"])


def test_decompression_bomb_is_refused_without_decoding_it(media_roots):
    # Given a PNG whose header declares 10,000 x 10,000 pixels (a few KB compressed)
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 100_000
    project = image_project()
    job = run_import(project, "imgs.zip", zip_of({"ok.png": png_bytes(), "bomb.png": bomb.getvalue()}))
    assert job.result["created"] == 1
    message = job.result["report"][0]["message"]
    assert message.startswith("Refused as a possible decompression bomb: ") and "100000000 pixels" in message
    assert not Item.objects.filter(external_id="bomb.png").exists()
    assert_storage_consistent(project, media_roots["media"])


def test_text_file_named_wav_is_refused_and_real_audio_lands(media_roots):
    project = audio_project()
    job = run_import(
        project, "clips.zip", zip_of({"real.wav": wav_bytes(tone()), "fake.wav": b"just some text\n" * 20})
    )
    assert job.result["created"] == 1
    (row,) = job.result["report"]
    assert row["field"] == "file"
    assert row["message"] == "fake.wav is not a readable audio file (WAV, FLAC, OGG, MP3 or AIFF)."
    real = Item.objects.get(project=project, external_id="real.wav")
    assert real.content_type == "audio/wav" and real.profile["sample_rate"] == 16000
    assert_storage_consistent(project, media_roots["media"])


def test_zip_slip_and_absolute_paths_are_refused(media_roots):
    project = image_project()
    job = run_import(
        project,
        "evil.zip",
        zip_of(
            {
                "ok.png": png_bytes(),
                "../../escape.png": png_bytes(10),
                "/etc/abs.png": png_bytes(20),
            }
        ),
    )
    assert job.result["created"] == 1
    messages = sorted(row["message"] for row in job.result["report"])
    assert any("escapes the archive" in m for m in messages) and any("absolute path" in m for m in messages)
    assert (
        not (media_roots["tmp"] / "escape.png").exists()
        and not (media_roots["media"].parent / "escape.png").exists()
    )
    assert_storage_consistent(project, media_roots["media"])


def test_zip_bomb_member_is_refused_before_decompressing(media_roots):
    # 20 MB of zeros deflates to ~20 KB: a ratio of ~1000, over the limit of 100.
    project = image_project()
    job = run_import(
        project, "bomb.zip", zip_of({"ok.png": png_bytes(), "zeros.png": bytes(20 * 1024 * 1024)})
    )
    assert job.result["created"] == 1
    assert "possible zip bomb" in job.result["report"][0]["message"]
    assert_storage_consistent(project, media_roots["media"])


def test_latin1_csv_is_decoded(media_roots):
    project = make_project()
    data = "external_id,text\nc1,Café crème très bon\nc2,Ça va\n".encode("latin-1")
    job = run_import(project, "latin1.csv", data)
    assert job.result["created"] == 2 and job.result["errors"] == 0
    assert Item.objects.get(external_id="c1").text == "Café crème très bon"
    assert Item.objects.get(external_id="c2").flags == []


def test_csv_missing_required_column_fails_the_import(media_roots):
    project = make_project()
    job = run_import(project, "wrong.csv", b"external_id,body\nx1,hello\n")
    assert job.status == JobStatus.FAILED
    assert job.error == "The CSV has no 'text' column. Columns found: external_id, body."
    assert job.result is None
    assert not Item.objects.filter(project=project).exists() and not ImportBatch.objects.exists()


def test_a_10mb_field_fails_its_row_only(media_roots):
    project = make_project()
    data = b"external_id,text\nsmall1,hello\nhuge," + b"x" * (10 * 1024 * 1024) + b"\nsmall2,world\n"
    job = run_import(project, "big.csv", data)
    assert job.result["created"] == 2 and job.result["errors"] == 1
    row = job.result["report"][0]
    assert row["line"] == 3 and row["field"] == "text" and "longer than" in row["message"]
    assert set(Item.objects.values_list("external_id", flat=True)) == {"small1", "small2"}


def test_duplicate_external_ids_in_one_file_and_across_files(media_roots):
    project = make_project()
    first = run_import(project, "a.csv", b"external_id,text\nd1,one\nd2,two\nd1,one again\n")
    assert first.result["created"] == 2
    assert report_by_line(first)[4] == {
        "line": 4,
        "field": "external_id",
        "message": "duplicate external_id 'd1' in this file",
    }
    second = run_import(project, "b.csv", b"external_id,text\nd2,two\nd3,three\n")
    assert second.result["created"] == 1 and second.result["duplicates"] == 1
    assert second.result["duplicate_ids"] == ["d2"]
    assert Item.objects.get(external_id="d1").text == "one"


NUL_FILES = {
    # A raw NUL byte in one row's text; a \u0000 escape inside the JSON of another row's metadata column.
    "nul.csv": b'external_id,text,metadata\ng1,fine,\nbad-text,be\x00fore,\nbad-meta,ok,"{""k"": ""a\\u0000b""}"\n'
    b"g2,also fine,\n",
    "nul.jsonl": b'{"external_id": "g1", "text": "fine"}\n{"external_id": "bad-text", "text": "be\\u0000fore"}\n'
    b'{"external_id": "bad-meta", "text": "ok", "metadata": {"k": ["a\\u0000b"]}}\n'
    b'{"external_id": "g2", "text": "also fine"}\n',
}


@pytest.mark.parametrize("name", sorted(NUL_FILES))
def test_a_nul_character_fails_its_row_only(media_roots, name):
    # Given a file whose second row has a NUL in its text and third row one in its metadata
    # (PostgreSQL stores neither: the whole chunk's insert used to fail, and with it the job)
    project = make_project()
    # When it is imported
    job = run_import(project, name, NUL_FILES[name])
    # Then the job succeeds, the good rows land, and each NUL row is reported with its line and field
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["errors"] == 2
    line = 3 if name.endswith(".csv") else 2
    assert job.result["report"] == [
        {"line": line, "field": "text", "message": "text contains a NUL character."},
        {"line": line + 1, "field": "metadata", "message": "metadata contains a NUL character."},
    ]
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {"g1", "g2"}


def test_file_url_outside_the_import_roots_is_refused(media_roots, api):
    # Given one image inside the allowed root, one outside, and a symlink inside pointing outside
    project = image_project()
    inside = media_roots["import"] / "in.png"
    inside.write_bytes(png_bytes(70, pattern=4))
    outside = media_roots["tmp"] / "secret.png"
    outside.write_bytes(png_bytes(30))
    os.symlink(outside, media_roots["import"] / "link.png")
    rows = [
        {"external_id": "i1", "file_url": "in.png"},
        {"external_id": "i2", "file_url": str(outside)},
        {"external_id": "i3", "file_url": "link.png"},
        {"external_id": "i4", "file_url": "../secret.png"},
        {"external_id": "i5", "file_url": "https://example.org/cat.png"},
    ]
    response = api(project.created_by).post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
    body = response.json()
    assert response.status_code == 201 and body["created"] == 1
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 2, 3, 4} and all(e["field"] == "file_url" for e in errors.values())
    for index in (1, 2, 3):
        assert "outside the allowed import roots" in errors[index]["message"]
    assert "Remote URLs are not fetched" in errors[4]["message"]
    assert Item.objects.get(external_id="i1").file.read() == png_bytes(70, pattern=4)
    assert_storage_consistent(project, media_roots["media"])


def test_file_url_outside_roots_in_a_csv_import(media_roots):
    project = image_project()
    (media_roots["import"] / "a.png").write_bytes(png_bytes(60, pattern=2))
    job = run_import(project, "urls.csv", b"external_id,file_url\nu1,a.png\nu2,/etc/passwd\nu3,missing.png\n")
    assert job.result["created"] == 1
    by_line = report_by_line(job)
    assert "outside the allowed import roots" in by_line[3]["message"]
    assert "No file at 'missing.png'" in by_line[4]["message"]


def test_bulk_api_file_b64_bad_rows(media_roots, api):
    project = audio_project()
    good = base64.b64encode(wav_bytes(tone(freq=300))).decode()
    rows = [
        {"external_id": "w1", "file_b64": good},
        {"external_id": "w2", "file_b64": "%%% not base64"},
        {"external_id": "w3", "file_b64": base64.b64encode(b"plain text").decode()},
        {"external_id": "w4"},
        {"external_id": "w5", "file_b64": base64.b64encode(b"").decode()},
    ]
    response = api(project.created_by).post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
    body = response.json()
    assert body["created"] == 1
    errors = {e["index"]: e for e in body["errors"]}
    assert errors[1]["field"] == "file_b64" and "not valid base64" in errors[1]["message"]
    assert errors[2]["field"] == "file" and errors[2]["message"].startswith(
        "The file is not a readable audio file"
    )
    assert errors[3]["field"] == "file_b64" and "needs file_b64 or file_url" in errors[3]["message"]
    assert errors[4]["message"] == "The file is empty (0 bytes)."
    item = Item.objects.get(external_id="w1")
    assert item.content_type == "audio/wav" and item.file.name.endswith(".wav")
    assert_storage_consistent(project, media_roots["media"])


def test_failed_chunk_removes_the_files_it_wrote(media_roots, monkeypatch):
    # Given an insert that fails after the chunk's files were written
    from annotation.services import item_create

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(item_create, "_rows_insert", broken)
    project = image_project()
    job = run_import(
        project, "imgs.zip", zip_of({"a.png": png_bytes(pattern=2), "b.png": png_bytes(pattern=6)})
    )
    # Then the job fails with the reason and no file is left without its item
    assert job.status == JobStatus.FAILED and "database went away" in job.error
    assert not Item.objects.filter(project=project).exists()
    assert stored_media(media_roots["media"]) == []


def test_unknown_format_and_missing_upload_are_refused_at_upload(media_roots, api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = make_project()
    client = api(project.created_by)
    url = f"/api/projects/{project.pk}/imports/"
    response = client.post(
        url, {"file": SimpleUploadedFile("data.xlsx", b"\x00\x01binary")}, format="multipart"
    )
    assert (
        response.status_code == 400 and "cannot tell the format of 'data.xlsx'" in response.json()["file"][0]
    )
    response = client.post(url, {}, format="multipart")
    assert response.status_code == 400 and response.json()["file"] == ["No file was submitted."]


def test_audio_profile_flags_silence_and_clipping(media_roots):
    project = audio_project()
    silent = wav_bytes(np.zeros(16000))
    clipped = wav_bytes(np.clip(tone(amp=3.0), -1, 1))
    job = run_import(
        project,
        "clips.zip",
        zip_of({"silent.wav": silent, "clipped.wav": clipped, "ok.wav": wav_bytes(tone())}),
    )
    assert job.result["created"] == 3
    flags = dict(Item.objects.filter(project=project).values_list("external_id", "flags"))
    assert "silent" in flags["silent.wav"] and "clipped" in flags["clipped.wav"] and flags["ok.wav"] == []
    statuses = dict(Item.objects.filter(project=project).values_list("external_id", "status"))
    assert statuses == {"silent.wav": "needs_review", "clipped.wav": "new", "ok.wav": "new"}
