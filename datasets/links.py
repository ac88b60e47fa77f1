"""Signed, expiring export links: a URL that downloads one export of one version without any header.

Tools that read URLs themselves (polars, duckdb, curl, a browser) cannot send a token. A link carries a
``django.core.signing.TimestampSigner`` token naming the version, format and split, the member who made it and
its lifetime; it reads that one export and nothing else. It is checked on every use: a changed token is refused,
an expired one is refused, and so is a link whose maker has since lost the reviewer role in the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone

from annotation.models import Role
from core.errors import Forbidden, NotFound
from core.permissions import project_for_role
from datasets.models import DatasetVersion

SALT = "labelgate.datasets.export-link"
DEFAULT_MAX_AGE = 3600
LONGEST_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class ExportLink:
    version: DatasetVersion
    fmt: str
    split: str | None


def export_link_sign(
    *, version: DatasetVersion, user_id: int, fmt: str, split: str | None, max_age: int
) -> tuple[str, datetime]:
    """``(token, expires_at)`` for one export of ``version``; the caller has checked the user's role."""
    payload = {"v": version.pk, "f": fmt, "s": split or "", "u": user_id, "t": int(max_age)}
    token = signing.TimestampSigner(salt=SALT).sign_object(payload)
    return token, timezone.now() + timedelta(seconds=int(max_age))


def export_link_open(*, token: str) -> ExportLink:
    """The export a token names. Raises Forbidden (code ``export_link_invalid`` or ``export_link_expired``, or
    the maker's lost access) and NotFound when the version no longer exists."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token)
        # The lifetime is inside the signed payload, so it is only trusted once the signature is.
        signer.unsign_object(token, max_age=payload["t"])
    except signing.SignatureExpired as exc:
        raise Forbidden(
            f"This export link has expired ({exc}). Ask for a new one: POST /api/dataset-versions/{{id}}/export-links/.",
            code="export_link_expired",
        ) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Forbidden(
            "This export link is not valid: it was changed or was not made by this server.",
            code="export_link_invalid",
        ) from exc
    version = DatasetVersion.objects.select_related("project").filter(pk=payload["v"]).first()
    if version is None:
        raise NotFound("Dataset version not found.")
    user = get_user_model().objects.filter(pk=payload["u"], is_active=True).first()
    try:
        if user is None:
            raise NotFound("The link's maker no longer exists.")
        project_for_role(user=user, project_id=version.project_id, role=Role.REVIEWER)
    except (NotFound, Forbidden) as exc:
        raise Forbidden(
            "This export link was made by someone who no longer has access to this project.",
            code="export_link_revoked",
        ) from exc
    return ExportLink(version=version, fmt=payload["f"], split=payload["s"] or None)
