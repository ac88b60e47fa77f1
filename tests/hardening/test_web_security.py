"""Hostile input and web-layer defences: stored XSS, unsafe uploads, CSRF, login/API throttling, deploy checks,
no secrets in the repository."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.throttling import UserRateThrottle

from annotation.models import Annotation, Item, Label, Role
from annotation.services.annotations import AnnotationInput, annotation_submit
from ingress.services.bulk import item_bulk_create
from tests.datasets.builders import freeze, labelled_items
from tests.factories import PASSWORD, UserFactory, add_member, make_project
from tests.hardening.test_permission_matrix import QUERY, RULES, fill, routes
from tests.ingress.ingress_fixtures import png_bytes, tone, wav_bytes  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

# One payload per source, so a page that leaks shows which source leaked.
PAYLOADS = {
    source: f'<script>alert("{source}")</script><img src=x onerror=alert("{source}")>'
    for source in ("item", "guide", "comment", "label", "file", "project", "metadata")
}
RAW = [re.compile(r"<script>alert\(", re.I), re.compile(r"<img[^>]*onerror=", re.I)]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hostile(media_roots):  # noqa: F811 - the fixture
    """A project where every user-controlled string that pages show carries a script payload."""
    manager = UserFactory()
    project = make_project(
        manager=manager,
        name="P " + PAYLOADS["project"],
        guidelines="# Rules\n" + PAYLOADS["guide"] + "\n\n[click](javascript:alert(1))",
    )
    # A label whose value and description are hostile (stored directly: defence in depth past input validation)
    label = Label.objects.filter(project=project).order_by("order", "id").last()
    Label.objects.filter(pk=label.pk).update(value=PAYLOADS["label"], description=PAYLOADS["label"])
    result = item_bulk_create(
        project=project,
        rows=[
            {"external_id": "x1", "text": PAYLOADS["item"], "metadata": {"source": PAYLOADS["metadata"]}},
            {"external_id": "x2", "text": "plain"},
        ],
    )
    assert not result.errors, result.errors
    item = Item.objects.get(project=project, external_id="x1")
    media = Item.objects.get(project=project, external_id="x2")
    media.file.save("tone.wav", ContentFile(wav_bytes(tone(seconds=0.2))), save=False)
    media.content_type, media.file_name = "audio/wav", PAYLOADS["file"]
    media.save(update_fields=["file", "content_type", "file_name"])
    annotator = add_member(project, Role.ANNOTATOR)
    reviewer = add_member(project, Role.REVIEWER)
    for target in (item, media):
        annotation_submit(
            project=project,
            user=annotator,
            data=AnnotationInput(item_id=target.pk, labels=[PAYLOADS["label"]], comment=PAYLOADS["comment"]),
        )
    Item.objects.filter(pk__in=[item.pk, media.pk]).update(
        consensus_label=PAYLOADS["label"],
        final_label=PAYLOADS["label"],
        is_label_issue=True,
        issue_severity=0.9,
        status="needs_review",
    )
    labelled_items(project, {PAYLOADS["label"]: 2, "pos": 2}, prefix="l")
    version = freeze(project)
    ids = {
        "pid": project.pk,
        "item_id": item.pk,
        "vid": version.pk,
        "aid": 0,
        "example_id": 0,
        "job_id": 0,
        # an invite or password-reset link nobody was sent, and a saved filter that does not exist
        "token": "no-such-token",
        "uidb64": "MA",
        "filter_id": 0,
    }
    return {
        "project": project,
        "manager": manager,
        "annotator": annotator,
        "reviewer": reviewer,
        "ids": ids,
        "media": media,
    }


def html_get_routes():
    for route, pattern in routes():
        rule = RULES.get(pattern.name, {})
        if (
            route.startswith(("api/", "media/"))
            or "GET" not in rule
            or "<aid>" in route
            or "<example_id>" in route
        ):
            continue
        yield route, pattern.name


def test_stored_script_payloads_are_escaped_on_every_page(hostile):
    # Given hostile strings in item text, metadata, guideline markdown, comments, a label and a file name
    assert Annotation.objects.filter(comment=PAYLOADS["comment"]).count() == 2
    pages: dict[str, str] = {}
    # When every HTML page is rendered for the manager, and the annotator's pages for the annotator
    for route, name in html_get_routes():
        url = fill(route, hostile["ids"]) + QUERY.get(name, "").format(**hostile["ids"])
        for who in ("manager", "annotator"):
            response = browser(hostile[who]).get(url)
            # 410: an invite link that is not (or no longer) valid says so on its own page
            assert response.status_code in (200, 302, 403, 404, 410), (url, who, response.status_code)
            if response.status_code == 200:
                pages[f"{who} {url}"] = response.content.decode()
    review_item = f"/projects/{hostile['project'].pk}/review/items/{hostile['media'].pk}/"
    pages["manager " + review_item] = browser(hostile["manager"]).get(review_item).content.decode()
    # Then no page contains a payload unescaped
    leaks = [
        f"{page}: {pattern.pattern}"
        for page, html in pages.items()
        for pattern in RAW
        if pattern.search(html)
    ]
    assert not leaks, "\n".join(leaks)
    assert not [page for page, html in pages.items() if 'href="javascript:' in html.lower()]
    # And each source did reach some page (escaped), so the check above looked at real renderings
    everything = "\n".join(pages.values())
    shown = {
        source
        for source in PAYLOADS
        if f"alert(&quot;{source}&quot;)" in everything
        or f"alert(&#x27;{source}" in everything
        or f'alert(\\"{source}\\")' in everything
    }
    assert {"item", "guide", "comment", "label", "project"} <= shown, shown
    assert len(pages) >= 15, sorted(pages)


def test_svg_and_html_uploads_never_execute(api):  # noqa: F811
    # Given an image project and uploads that are really SVG and HTML with scripts
    project = make_project(task_type="image_classification", labels=("cat", "dog"))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    html = b"<html><body><script>alert(3)</script></body></html>"
    rows = [
        {"external_id": "svg", "file_b64": base64.b64encode(svg).decode(), "file_name": "evil.svg"},
        {"external_id": "html", "file_b64": base64.b64encode(html).decode(), "file_name": "evil.html"},
        {
            "external_id": "png-named-svg",
            "file_b64": base64.b64encode(png_bytes()).decode(),
            "file_name": "a.svg",
        },
    ]
    # When they are imported through the bulk API
    response = api(project.created_by).post(f"/api/projects/{project.pk}/items/bulk/", rows, format="json")
    assert response.status_code == 201, response.content
    # Then the script-bearing files are rejected per row with a reason
    errors = {row["index"]: row for row in response.json()["errors"]}
    assert set(errors) == {0, 1}, response.json()
    # And whatever was stored is served with a safe type, nosniff, and never as svg/html
    stored = Item.objects.filter(project=project)
    assert [item.external_id for item in stored] == ["png-named-svg"]
    for item in stored:
        served = browser(project.created_by).get(f"/media/items/{item.pk}/")
        assert served.status_code == 200
        assert served["X-Content-Type-Options"] == "nosniff"
        assert "svg" not in served["Content-Type"] and "html" not in served["Content-Type"]
        assert served["Content-Type"] in ("image/png", "application/octet-stream")
        assert "sandbox" in served["Content-Security-Policy"]
    # And even a row forced to claim SVG goes out as an opaque attachment
    item = stored.first()
    Item.objects.filter(pk=item.pk).update(content_type="image/svg+xml")
    forced = browser(project.created_by).get(f"/media/items/{item.pk}/")
    assert forced["Content-Type"] == "application/octet-stream"
    assert forced["Content-Disposition"].startswith("attachment;")


def html_post_routes():
    for route, pattern in routes():
        if not route.startswith("api/") and "POST" in RULES.get(pattern.name, {}):
            yield route, pattern.name


def test_every_html_form_refuses_a_post_without_csrf_token():
    # Given a logged-in manager and a browser that enforces CSRF like a real one
    manager = UserFactory()
    project = make_project(manager=manager)
    ids = {
        "pid": project.pk,
        "item_id": 1,
        "vid": 1,
        "aid": 1,
        "example_id": 1,
        "job_id": 1,
        "token": "no-such-token",
        "uidb64": "MA",
        "filter_id": 1,
        "uid": 1,
    }
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    checked = []
    # When each form view receives a POST without the token
    for route, name in html_post_routes():
        if name == "login":
            status = (
                Client(enforce_csrf_checks=True)
                .post("/login/", {"username": "x", "password": "y"})
                .status_code
            )
        else:
            status = client.post(fill(route, ids), {}).status_code
        checked.append((name, status))
    # Then every one answers 403 and nothing else
    assert [c for c in checked if c[1] != 403] == [], checked
    assert len(checked) >= 15
    # And the API refuses a session-authenticated write without the token too
    response = client.post(
        f"/api/projects/{project.pk}/annotations/",
        {"item": 1, "label": "pos"},
        content_type="application/json",
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_token_endpoint_throttles_after_the_login_rate():
    # Given the default login rate of 20 attempts per minute per address
    cache.clear()
    client = Client()
    statuses = [
        client.post(
            "/api/auth/token/", {"username": "nobody", "password": "wrong"}, content_type="application/json"
        ).status_code
        for _ in range(21)
    ]
    # Then the first 20 get a 400 and the 21st a 429 with Retry-After
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429


def test_html_login_page_throttles_password_guessing():
    # Given a real user and an attacker guessing through the HTML form
    cache.clear()
    user = UserFactory()
    client = Client()
    statuses = [
        client.post("/login/", {"username": user.username, "password": f"guess{i}"}).status_code
        for i in range(20)
    ]
    # Then 20 guesses get the form back, the 21st (even with the right password) gets 429
    assert statuses == [200] * 20
    blocked = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429 and blocked["Retry-After"] == "60"
    assert "_auth_user_id" not in client.session
    # And another address is unaffected
    other = Client(REMOTE_ADDR="10.9.8.7").post("/login/", {"username": user.username, "password": PASSWORD})
    assert other.status_code == 302


def test_api_rate_limit_answers_429(api, monkeypatch):
    # Given a tight per-user API rate
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "5/min", "login": "20/min"})
    client = api(UserFactory())
    statuses = [client.get("/api/projects/").status_code for _ in range(6)]
    # Then the sixth request in the minute is refused
    assert statuses == [200] * 5 + [429]


def test_check_deploy_is_clean_with_production_settings():
    # The suite sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment never does.
    base = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **base,
        "DEBUG": "0",
        "LABELGATE_HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "labelgate.example.org",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


SECRET_PATTERNS = {
    "private key": re.compile("-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?" + "PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA" + r"[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_" + r"[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-" + r"[A-Za-z0-9-]{10,}"),
    "Stripe key": re.compile(r"\bsk_live_" + r"[A-Za-z0-9]{16,}"),
    "Google key": re.compile(r"\bAIza" + r"[0-9A-Za-z_-]{35}\b"),
    "DRF token literal": re.compile(r"Token [0-9a-f]{40}\b"),
    "password in URL": re.compile(
        r"(?:postgres|redis|amqp)(?:ql)?://[^:/\s@]+:[^@/\s]{6,}@(?!localhost|127\.)"
    ),
}


def test_no_secret_is_tracked_in_the_repository():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(
        b"\0"
    )
    hits = []
    for name in filter(None, (f.decode() for f in files)):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        hits += [f"{name}: {what}" for what, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert len(files) > 50
    assert not hits, hits
