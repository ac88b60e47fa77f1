"""Member-only media serving: item files (with HTTP Range) and cached waveform images for audio items.

Stored media are never on a public URL. Every response is for a project member (anyone else gets 404, so
neither the item nor the project is revealed), carries ``X-Content-Type-Options: nosniff`` and a
``sandbox`` CSP, and is shown inline only when its type is an image/audio type browsers cannot execute.
SVG, HTML and anything unrecognised go out as ``application/octet-stream`` attachments.
"""

import logging
import re
from collections.abc import Iterator
from typing import TypeVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.views.decorators.http import require_safe
from rest_framework.exceptions import AuthenticationFailed

from annotation import blind
from annotation.models import Item, Role
from core.api.authentication import TokenAuthentication
from core.permissions import membership_for

logger = logging.getLogger(__name__)

# Types a browser renders without running code. Anything else is sent as an opaque download.
SAFE_INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "audio/wav",
        "audio/x-wav",
        "audio/flac",
        "audio/ogg",
        "audio/mpeg",
        "audio/aiff",
        "audio/x-aiff",
    }
)
OPAQUE_TYPE = "application/octet-stream"
STREAM_BLOCK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _caller(request: HttpRequest):
    """The session user, or the user of an API token header (scripts fetch media too), with the API's own schemes:
    ``Authorization: Token <key>`` or ``Bearer <key>``."""
    if request.user.is_authenticated:
        return request.user
    try:
        # It reads only the Authorization header, which a Django request has as DRF's Request does.
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def _item_for_member(request: HttpRequest, item_id: int) -> tuple[Item, str]:
    """The item when the caller may see it, and the file name to send; Http404 for a missing item, a non-member
    or no file.

    An annotator gets a neutral ``item-<id>.<ext>`` (annotation.blind): the data owner's file names often carry
    the class (``tone-08.wav``, ``cat_01.jpg``)."""
    item = (
        Item.objects.filter(pk=item_id)
        .only("id", "project_id", "file", "file_name", "content_type", "sha256")
        .first()
    )
    user = _caller(request)
    if item is None or user is None or not item.file:
        raise Http404("Not found.")
    if user.is_staff:
        return item, item.file_name
    membership = membership_for(user=user, project_id=item.project_id)
    if membership is None:
        raise Http404("Not found.")
    if membership.role == Role.ANNOTATOR:
        return item, blind.media_name_for_annotator(item_id=item.pk, file_name=item.file_name)
    return item, item.file_name


_Response = TypeVar("_Response", bound=HttpResponseBase)


def _harden(response: _Response, *, content_type: str, filename: str) -> _Response:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    disposition = "inline" if content_type in SAFE_INLINE_TYPES else "attachment"
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)[:100] or "file"
    response["Content-Disposition"] = f'{disposition}; filename="{safe_name}"'
    return response


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive for one ``bytes=`` range; None to send the whole file (no, invalid or
    unsupported header, several ranges); ``"unsatisfiable"`` when the range starts past the end."""
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: RFC 9110 says to ignore the header
    if first >= size:
        return "unsatisfiable"
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _stream(name: str, first: int, length: int) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        handle.seek(first)
        left = length
        while left > 0:
            block = handle.read(min(STREAM_BLOCK, left))
            if not block:
                break
            left -= len(block)
            yield block


MEDIA_LINK_SALT = "labelgate.annotation.media-link"


def media_link_sign(*, item_id: int, max_age: int) -> str:
    """A token for ``/media/signed/<token>/``: the item's file without a session, for ``max_age`` seconds.

    Handed out only inside exports a project member downloaded (the Label Studio export), so a tool that loads
    URLs itself (Label Studio's image tag) can show the file. The lifetime is inside the signed payload."""
    return signing.TimestampSigner(salt=MEDIA_LINK_SALT).sign_object({"i": int(item_id), "t": int(max_age)})


def _item_for_link(token: str) -> Item:
    signer = signing.TimestampSigner(salt=MEDIA_LINK_SALT)
    try:
        payload = signer.unsign_object(token)
        signer.unsign_object(token, max_age=payload["t"])
    except (
        signing.BadSignature,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:  # SignatureExpired is a BadSignature
        raise PermissionDenied("This media link was changed or has expired.") from exc
    item = (
        Item.objects.filter(pk=payload["i"])
        .only("id", "project_id", "file", "file_name", "content_type", "sha256")
        .first()
    )
    if item is None or not item.file:
        raise Http404("Not found.")
    return item


def _cors(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Let the configured origins (``LABELGATE_CORS_ORIGINS``; none by default) read a signed media response."""
    origin = request.headers.get("Origin")
    allowed = getattr(settings, "LABELGATE_CORS_ORIGINS", [])
    if origin and ("*" in allowed or origin in allowed):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Content-Length, Content-Range, Accept-Ranges, ETag"
        response["Vary"] = "Origin"
    return response


@require_safe
def item_media_signed(request: HttpRequest, token: str) -> HttpResponseBase:
    """An item's file for a signed link (``media_link_sign``): no session or token needed, 403 when the link was
    changed or expired. The same hardening as member media; CORS only for configured origins."""
    try:
        item = _item_for_link(token)
    except PermissionDenied:
        return HttpResponseForbidden("This media link was changed or has expired.")
    return _cors(request, _serve(request, item, filename=item.file_name))


@require_safe
def item_media(request: HttpRequest, item_id: int) -> HttpResponseBase:
    item, filename = _item_for_member(request, item_id)
    return _serve(request, item, filename=filename)


def _serve(request: HttpRequest, item: Item, *, filename: str) -> HttpResponseBase:
    content_type = item.content_type if item.content_type in SAFE_INLINE_TYPES else OPAQUE_TYPE
    etag = f'"{item.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return _harden(HttpResponseNotModified(), content_type=content_type, filename=filename)
    try:
        size = default_storage.size(item.file.name)
    except OSError as exc:
        logger.error("media file of item %s is missing: %s", item.pk, exc)
        raise Http404("The file of this item is missing from storage.") from exc
    wanted = parse_range(request.headers.get("Range", ""), size) if size else None
    if wanted == "unsatisfiable":
        refusal = HttpResponse(status=416)
        refusal["Content-Range"] = f"bytes */{size}"
        return _harden(refusal, content_type=content_type, filename=filename)
    first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
    length = max(0, last - first + 1)
    body = _stream(item.file.name, first, length) if request.method == "GET" else iter(())
    response = StreamingHttpResponse(
        body, content_type=content_type, status=206 if isinstance(wanted, tuple) else 200
    )
    if isinstance(wanted, tuple):
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    return _harden(response, content_type=content_type, filename=filename)


# Bumped when the picture changes (v2: spectrogram in dB re full scale), so no old rendering is served again.
WAVEFORM_VERSION = "v2"


def waveform_cache_name(sha256: str) -> str:
    return f"cache/waveforms/{WAVEFORM_VERSION}/{sha256[:2]}/{sha256}.png"


@require_safe
def item_waveform(request: HttpRequest, item_id: int) -> HttpResponse:
    """A PNG waveform + spectrogram of an audio item, rendered once and cached in storage by content hash."""
    item, _ = _item_for_member(request, item_id)
    if not item.content_type.startswith("audio/"):
        raise Http404("Only audio items have a waveform.")
    name = waveform_cache_name(item.sha256)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            png = handle.read()
    else:
        png = _render_waveform(item)
        try:
            default_storage.save(name, ContentFile(png))
        except OSError:
            logger.warning("could not cache the waveform of item %s", item.pk)
    response = HttpResponse(png, content_type="image/png")
    response["ETag"] = f'"wave-{WAVEFORM_VERSION}-{item.sha256}"'
    return _harden(response, content_type="image/png", filename="waveform.png")


def _render_waveform(item: Item) -> bytes:
    # Lazy: librosa and soundfile stay out of web startup (see the startup-footprint rule).
    from annotation.waveform import render_audio_png

    with default_storage.open(item.file.name, "rb") as handle:
        data = handle.read()
    try:
        return render_audio_png(data)
    except ValueError:
        raise Http404("This audio file cannot be decoded.") from None
