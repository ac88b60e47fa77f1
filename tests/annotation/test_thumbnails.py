"""Thumbnails of image items: a small WebP, made once and cached, for members only, like the media it is made of."""

import base64
import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from annotation.models import Item, Role
from annotation.thumbnails import thumbnail_bytes, thumbnail_cache_name
from ingress.services.bulk import item_bulk_create
from tests.factories import UserFactory, add_member, make_project
from tests.ingress.ingress_fixtures import png_bytes


def test_a_thumbnail_fits_the_box_and_keeps_the_aspect_ratio():
    # Given a 300×120 PNG; when it is made a thumbnail; then it is 96×38 (300→96 scales 120 to 38.4), a WebP
    picture = Image.open(io.BytesIO(thumbnail_bytes(png_bytes(size=(300, 120)))))
    assert picture.format == "WEBP" and picture.size == (96, 38)


def test_bytes_that_are_not_an_image_are_refused():
    with pytest.raises(ValueError):
        thumbnail_bytes(b"not an image")


@pytest.mark.django_db
def test_members_get_the_cached_thumbnail_others_a_404(media_roots):
    # Given an image project with one photo and one member of each kind
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    item_bulk_create(
        project=project,
        rows=[
            {
                "external_id": "p",
                "file_b64": base64.b64encode(png_bytes(size=(60, 200))).decode(),
                "file_name": "p.png",
            }
        ],
    )
    item = Item.objects.get(project=project)
    annotator = add_member(project, Role.ANNOTATOR)
    outsider = UserFactory()

    def get(user):
        client = Client()
        client.force_login(user)
        return client.get(f"/media/items/{item.pk}/thumbnail.webp")

    # When the manager and an annotator ask for it
    for user in (project.created_by, annotator):
        response = get(user)
        # Then it is a 29×96 WebP with the media's hardened headers, and cached in storage
        assert response.status_code == 200 and response["Content-Type"] == "image/webp"
        assert Image.open(io.BytesIO(response.content)).size == (29, 96)
        assert (
            response["X-Content-Type-Options"] == "nosniff"
            and "sandbox" in response["Content-Security-Policy"]
        )
        assert "p.png" not in response["Content-Disposition"]
    assert default_storage.exists(thumbnail_cache_name(item.sha256))
    # And a non-member gets 404, as for the media itself
    assert get(outsider).status_code == 404


@pytest.mark.django_db
def test_a_text_item_has_no_thumbnail():
    project = make_project()
    item_bulk_create(project=project, rows=[{"external_id": "t", "text": "hello"}])
    client = Client()
    client.force_login(project.created_by)
    item = Item.objects.get(project=project)
    assert client.get(f"/media/items/{item.pk}/thumbnail.webp").status_code == 404
