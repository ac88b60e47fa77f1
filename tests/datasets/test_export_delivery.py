"""Downloads carry a digest of their own bytes; signed, expiring links download without credentials."""

import base64
import hashlib
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Membership, Role
from datasets.links import export_link_sign
from tests.datasets.builders import freeze, labelled_items
from tests.factories import add_member, make_project


@pytest.fixture(autouse=True)
def export_cache(settings, tmp_path):
    settings.LABELGATE_EXPORT_CACHE_DIR = str(tmp_path / "export-cache")
    return tmp_path / "export-cache"


@pytest.fixture
def project():
    project = make_project(labels=("pos", "neg"), name="Reviews")
    labelled_items(project, {"pos": 6, "neg": 4})
    return project


def _received(response) -> bytes:
    return b"".join(response.streaming_content)


def _repr_digest_of(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


CASES = [
    (fmt, split)
    for fmt in ("jsonl", "csv", "parquet", "labelstudio")
    for split in (None, "train", "dev", "test")
]
CASES.append(("zip", None))


@pytest.mark.django_db
def test_every_format_and_split_carries_the_digest_of_its_own_bytes(api, project):
    # Given a frozen version with all three splits
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    reviewer = add_member(project, Role.REVIEWER)
    client = api(reviewer)
    for fmt, split in CASES:
        url = f"/api/dataset-versions/{version.pk}/export/?format={fmt}" + (
            f"&split={split}" if split else ""
        )
        # When each export is downloaded twice (the second from the cache, for the deterministic ones)
        first, second = client.get(url), client.get(url)
        data = _received(first)
        # Then Repr-Digest is the sha256 of exactly the bytes received, and Content-Length their length
        assert first.status_code == 200, (fmt, split)
        assert first["Repr-Digest"] == _repr_digest_of(data), (fmt, split)
        assert int(first["Content-Length"]) == len(data), (fmt, split)
        assert _received(second) == data and second["Repr-Digest"] == first["Repr-Digest"], (fmt, split)
        # and the version's checksum keeps its own name and meaning (the full JSONL), whatever was sent
        assert first["X-Dataset-Checksum"] == version.checksum, (fmt, split)
        assert (hashlib.sha256(data).hexdigest() == version.checksum) == (fmt == "jsonl" and split is None), (
            fmt,
            split,
        )


def _link(api, user, version, **payload) -> dict:
    response = api(user).post(f"/api/dataset-versions/{version.pk}/export-links/", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.django_db
def test_a_link_lasts_an_hour_by_default_and_names_its_file(api, project):
    version = freeze(project)
    before = timezone.now()
    link = _link(api, project.created_by, version, format="parquet", split="train")
    expires_at = timezone.datetime.fromisoformat(link["expires_at"])
    assert before + timedelta(seconds=3600) <= expires_at <= timezone.now() + timedelta(seconds=3600)
    assert link["url"].startswith("http://testserver/api/dataset-exports/")
    assert (
        link["url"].endswith("/reviews-v1-train.parquet") and link["filename"] == "reviews-v1-train.parquet"
    )


@pytest.mark.django_db
def test_an_annotator_cannot_make_a_link(api, project):
    version = freeze(project)
    annotator = add_member(project, Role.ANNOTATOR)
    response = api(annotator).post(
        f"/api/dataset-versions/{version.pk}/export-links/", {"format": "csv"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_signed_link_downloads_without_any_header(api, project, live_server):
    # Given a link made by a reviewer for the dev split as CSV
    version = freeze(project, splits={"train": 0.6, "dev": 0.2, "test": 0.2})
    link = _link(api, project.created_by, version, format="csv", split="dev")
    url = live_server.url + link["url"].removeprefix("http://testserver")
    # When a plain urllib request (no Authorization, no cookie) fetches it
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
        headers = response.headers
    # Then it gets that export, with the digest of what it received
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Repr-Digest"] == _repr_digest_of(data)
    lines = data.decode().splitlines()
    assert lines[0].startswith("item_id,") and len(lines) == 1 + version.split_counts["dev"]
    assert all(",dev," in line for line in lines[1:])
    # and the same URL without the link's token is refused
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            f"{live_server.url}/api/dataset-versions/{version.pk}/export/?format=csv", timeout=60
        )
    assert refused.value.code in (401, 403)


def _get(client, url):
    return client.get(url.removeprefix("http://testserver"))


@pytest.mark.django_db
def test_an_expired_link_is_refused_with_a_clear_message(api, client, project):
    version = freeze(project)
    # Given a link whose lifetime (signed into it) is already over: max_age below the zero seconds it has lived
    token, _ = export_link_sign(
        version=version, user_id=project.created_by.pk, fmt="jsonl", split=None, max_age=-1
    )
    response = client.get(f"/api/dataset-exports/{token}/reviews-v1-all.jsonl")
    assert response.status_code == 403
    assert response.json()["code"] == "export_link_expired" and "expired" in response.json()["detail"]
    # while the same link with a lifetime left downloads
    token, _ = export_link_sign(
        version=version, user_id=project.created_by.pk, fmt="jsonl", split=None, max_age=60
    )
    assert client.get(f"/api/dataset-exports/{token}/reviews-v1-all.jsonl").status_code == 200


@pytest.mark.django_db
def test_a_tampered_link_is_refused(api, client, project):
    version = freeze(project)
    other = freeze(project)
    link = _link(api, project.created_by, version, format="jsonl")
    assert _get(client, link["url"]).status_code == 200
    prefix, token, filename = link["url"].rsplit("/", 2)
    # Change the payload (point it at another version) but keep the signature
    payload, timestamp, signature = token.split(":")
    forged_payload = (
        base64.urlsafe_b64encode(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(
                f'"v":{version.pk}'.encode(), f'"v":{other.pk}'.encode()
            )
        )
        .decode()
        .rstrip("=")
    )
    assert forged_payload != payload
    # and change one character of the signature
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for forged in (f"{forged_payload}:{timestamp}:{signature}", f"{payload}:{timestamp}:{flipped}"):
        response = client.get(f"/api/dataset-exports/{forged}/{filename}")
        assert response.status_code == 403
        assert response.json()["code"] == "export_link_invalid"
    # A valid token under another file name is not a way to fetch something else
    assert client.get(f"/api/dataset-exports/{token}/reviews-v1-all.csv").status_code == 404


@pytest.mark.django_db
def test_a_link_stops_working_when_its_maker_loses_access(api, client, project):
    version = freeze(project)
    reviewer = add_member(project, Role.REVIEWER)
    link = _link(api, reviewer, version, format="jsonl")
    Membership.objects.filter(user=reviewer, project=project).delete()
    response = _get(client, link["url"])
    assert response.status_code == 403 and response.json()["code"] == "export_link_revoked"
