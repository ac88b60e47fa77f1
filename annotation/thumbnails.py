"""Small cached thumbnails of image items for list pages (the items browser, the review queue), served like the
media they come from: members only, the same hardened headers, cached in storage by content hash and size so
each is made once."""

import io
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_safe
from PIL import Image, UnidentifiedImageError

from annotation.media import _harden, _item_for_member

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = 96
# A decompression bomb (a tiny file declaring a huge canvas) is refused before it is decoded.
MAX_PIXELS = 80_000_000


def thumbnail_cache_name(sha256: str, size: int = THUMBNAIL_SIZE) -> str:
    return f"cache/thumbnails/{sha256[:2]}/{sha256}-{size}.webp"


def thumbnail_bytes(data: bytes, size: int = THUMBNAIL_SIZE) -> bytes:
    """A WebP of at most ``size``×``size`` pixels keeping the aspect ratio (first frame of an animation).
    Raises ValueError when Pillow cannot read the image or it is too large to decode."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValueError("image too large")
            image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
            picture = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(str(exc)) from exc
    picture.thumbnail((size, size))
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=80)
    return out.getvalue()


@require_safe
def item_thumbnail(request: HttpRequest, item_id: int) -> HttpResponse:
    """A small WebP of an image item; 404 for other items, files Pillow cannot read and non-members."""
    item, _ = _item_for_member(request, item_id)
    if not item.content_type.startswith("image/"):
        raise Http404("Only image items have a thumbnail.")
    etag = f'"thumb-{item.sha256}-{THUMBNAIL_SIZE}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    name = thumbnail_cache_name(item.sha256)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            body = handle.read()
    else:
        with default_storage.open(item.file.name, "rb") as handle:
            data = handle.read()
        try:
            body = thumbnail_bytes(data)
        except ValueError:
            raise Http404("This image cannot be read.") from None
        try:
            default_storage.save(name, ContentFile(body))
        except OSError:
            logger.warning("could not cache the thumbnail of item %s", item.pk)
    response = HttpResponse(body, content_type="image/webp")
    response["ETag"] = etag
    return _harden(response, content_type="image/webp", filename=f"item-{item.pk}-thumbnail.webp")
