"""The media a Label Studio task refers to, read for an import: its uploads, web addresses (when allowed) and
paths under the ordinary import roots."""

import os
import urllib.request
from urllib.parse import unquote, urlparse

from django.conf import settings

from ingress.services.media_rows import MAX_MEDIA_BYTES, MediaRowError, read_import_file


def labelstudio_media_read(file_url: str) -> tuple[bytes, str]:
    """(content, base name) of a Label Studio task's media reference.

    ``/data/upload/<project>/<file>`` (Label Studio's uploads) is read from ``LABELGATE_LS_MEDIA_ROOT`` (Label
    Studio's ``media`` directory, which holds ``upload/``); http(s) URLs are fetched only when
    ``LABELGATE_LS_FETCH_URLS`` is on (off by default: an import must not make the server fetch arbitrary
    addresses); anything else goes through the ordinary import roots. Raises MediaRowError (field
    ``file_url``) with the reason and the setting that would make it work.
    """
    parsed = urlparse(file_url)
    if parsed.scheme in ("http", "https"):
        if not getattr(settings, "LABELGATE_LS_FETCH_URLS", False):
            raise MediaRowError(
                "file_url",
                f"{file_url} is a web address; Labelgate does not fetch those during an import unless "
                "LABELGATE_LS_FETCH_URLS is on. Export the project with its media (a zip) or set the setting.",
            )
        return _fetch(file_url, max_bytes=MAX_MEDIA_BYTES)
    path = unquote(parsed.path)
    if path.startswith("/data/upload/"):
        root = getattr(settings, "LABELGATE_LS_MEDIA_ROOT", "") or ""
        if not root:
            raise MediaRowError(
                "file_url",
                f"{file_url} is a Label Studio upload; set LABELGATE_LS_MEDIA_ROOT to Label Studio's "
                "media folder (the one holding upload/), or import a zip holding the export and its files.",
            )
        real_root = os.path.realpath(root)
        real = os.path.realpath(os.path.join(real_root, path[len("/data/") :]))
        if not real.startswith(real_root + os.sep) or not os.path.isfile(real):
            raise MediaRowError("file_url", f"No file for {file_url} in LABELGATE_LS_MEDIA_ROOT.")
        if os.path.getsize(real) > MAX_MEDIA_BYTES:
            raise MediaRowError("file_url", f"The file is larger than {MAX_MEDIA_BYTES} bytes.")
        with open(real, "rb") as handle:
            return handle.read(), os.path.basename(real)
    if path.startswith("/data/"):
        raise MediaRowError(
            "file_url",
            f"{file_url} is served by Label Studio's storage; export its files with the "
            "project, or point LABELGATE_IMPORT_ROOTS at them and use their paths.",
        )
    return read_import_file(file_url)


def _fetch(url: str, *, max_bytes: int) -> tuple[bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - http(s) only, checked above
            data = response.read(max_bytes + 1)
    except OSError as exc:
        raise MediaRowError("file_url", f"Could not fetch {url}: {exc}") from exc
    if len(data) > max_bytes:
        raise MediaRowError("file_url", f"The file at {url} is larger than {max_bytes} bytes.")
    return data, os.path.basename(unquote(urlparse(url).path)) or "download"
