"""Member-only media serving (annotation/media.py): Range, content types, nosniff, waveform cache."""

import base64

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from annotation.media import parse_range, waveform_cache_name
from annotation.models import Item, Role
from tests.factories import UserFactory, add_member, make_project
from tests.ingress.ingress_fixtures import png_bytes, tone, wav_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_media(project, rows):
    from ingress.services.bulk import item_bulk_create

    result = item_bulk_create(project=project, rows=rows)
    assert not result.errors, result.errors
    return {item.external_id: item for item in Item.objects.filter(project=project)}


@pytest.fixture
def image_item(media_roots):
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    data = png_bytes(pattern=3)
    items = add_media(
        project, [{"external_id": "p1", "file_b64": base64.b64encode(data).decode(), "file_name": "cat.png"}]
    )
    return project, items["p1"], data


def test_member_gets_the_image_with_safe_headers(image_item):
    project, item, data = image_item
    annotator = add_member(project, Role.ANNOTATOR)
    response = browser_for(annotator).get(f"/media/items/{item.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The uploaded name ("cat.png") names the class: the annotator gets a neutral one (annotation.blind)
    assert response["Content-Disposition"] == f'inline; filename="item-{item.pk}.png"'
    assert response["Content-Length"] == str(len(data)) and response["Accept-Ranges"] == "bytes"
    assert "sandbox" in response["Content-Security-Policy"]


def test_reviewer_and_manager_get_the_uploaded_file_name(image_item):
    project, item, _ = image_item
    for user in (add_member(project, Role.REVIEWER), project.created_by):
        response = browser_for(user).get(f"/media/items/{item.pk}/")
        assert response["Content-Disposition"] == 'inline; filename="cat.png"'


def test_range_request_gets_206_with_the_slice(image_item):
    project, item, data = image_item
    client = browser_for(project.created_by)
    response = client.get(f"/media/items/{item.pk}/", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == data[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(data)}" and response["Content-Length"] == "10"
    suffix = client.get(f"/media/items/{item.pk}/", HTTP_RANGE="bytes=-5")
    assert suffix.status_code == 206 and b"".join(suffix.streaming_content) == data[-5:]
    beyond = client.get(f"/media/items/{item.pk}/", HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"


def test_non_members_and_anonymous_get_404(image_item):
    project, item, _ = image_item
    assert browser_for(UserFactory()).get(f"/media/items/{item.pk}/").status_code == 404
    assert Client().get(f"/media/items/{item.pk}/").status_code == 404
    assert browser_for(project.created_by).get("/media/items/999999/").status_code == 404


def test_token_auth_is_accepted_for_scripts(image_item, api):
    project, item, data = image_item
    member = add_member(project, Role.REVIEWER)
    response = api(member).get(f"/media/items/{item.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert api(UserFactory()).get(f"/media/items/{item.pk}/").status_code == 404


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_media_accept_the_token_schemes_the_api_accepts(image_item, scheme):
    # Given a member's API token, sent with each scheme the API takes
    project, item, data = image_item
    member = add_member(project, Role.REVIEWER)
    key = Token.objects.create(user=member).key
    client = Client(HTTP_AUTHORIZATION=f"{scheme} {key}")
    # When a script fetches the item's file with it, the API's answer and the file's agree: both are served
    assert client.get(f"/api/projects/{project.pk}/").status_code == 200
    response = client.get(f"/media/items/{item.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    # And a wrong key gets neither
    wrong = Client(HTTP_AUTHORIZATION=f"{scheme} {'0' * 40}")
    assert wrong.get(f"/api/projects/{project.pk}/").status_code == 401
    assert wrong.get(f"/media/items/{item.pk}/").status_code == 404


def test_unsafe_stored_type_is_sent_as_an_opaque_attachment(image_item):
    # Given an item whose stored content type claims SVG (never produced by ingress, but defended anyway)
    project, item, _ = image_item
    Item.objects.filter(pk=item.pk).update(content_type="image/svg+xml")
    response = browser_for(project.created_by).get(f"/media/items/{item.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_etag_gives_304(image_item):
    project, item, _ = image_item
    client = browser_for(project.created_by)
    etag = client.get(f"/media/items/{item.pk}/")["ETag"]
    assert client.get(f"/media/items/{item.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_waveform_is_rendered_once_and_cached(media_roots):
    project = make_project(task_type="audio_classification", labels=("tone", "noise"))
    data = wav_bytes(tone(seconds=0.5))
    item = add_media(project, [{"external_id": "w", "file_b64": base64.b64encode(data).decode()}])["w"]
    client = browser_for(add_member(project, Role.ANNOTATOR))
    response = client.get(f"/media/items/{item.pk}/waveform.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG") and response["X-Content-Type-Options"] == "nosniff"
    cached = media_roots["media"] / waveform_cache_name(item.sha256)
    assert cached.read_bytes() == response.content
    # A second request is served from the cache file (replace it to prove it is read)
    cached.write_bytes(b"\x89PNG cached")
    assert client.get(f"/media/items/{item.pk}/waveform.png").content == b"\x89PNG cached"
    audio = client.get(f"/media/items/{item.pk}/")
    assert audio["Content-Type"] == "audio/wav" and audio["Content-Disposition"].startswith("inline;")
    assert browser_for(UserFactory()).get(f"/media/items/{item.pk}/waveform.png").status_code == 404


def test_image_items_have_no_waveform(image_item):
    project, item, _ = image_item
    assert browser_for(project.created_by).get(f"/media/items/{item.pk}/waveform.png").status_code == 404


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=95-200", 100, (95, 99)),
        ("bytes=100-", 100, "unsatisfiable"),
        ("bytes=5-2", 100, None),
        ("bytes=-0", 100, "unsatisfiable"),
        ("bytes=0-1,5-6", 100, None),
        ("items=0-1", 100, None),
        ("", 100, None),
    ],
)
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected
