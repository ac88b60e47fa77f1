"""A client of the public surface only: token-authenticated REST calls, job polling, paging, and the figures a
logged-in browser session sees on the HTML pages (parsed from stable ids / ``data-*`` hooks, never from prose).

Nothing here touches the ORM: what these tests assert is what a script or a user can observe.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
import requests

TERMINAL = ("succeeded", "failed")
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Rest:
    def __init__(self, base: str, token: str | None = None, name: str = ""):
        self.base = base.rstrip("/")
        self.name = name
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, *, expect=(200, 201, 202), **kwargs) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        response = self.session.request(method, url, timeout=120, **kwargs)
        if expect and response.status_code not in expect:
            raise AssertionError(
                f"{self.name}: {method} {path} -> {response.status_code}: {response.text[:1000]}"
            )
        return response

    def get(self, path: str, **params) -> dict:
        return self.call("GET", path, params=params or None).json()

    def post(self, path: str, body: object = None, *, expect=(200, 201, 202)) -> dict:
        response = self.call("POST", path, json=body if body is not None else {}, expect=expect)
        return response.json() if response.content else {}

    def pages(self, path: str, **params) -> list[dict]:
        """Every row of a paginated list, following ``next``."""
        rows: list[dict] = []
        body = self.get(path, page_size=1000, **params)
        while True:
            rows += body["results"]
            if not body.get("next"):
                return rows
            body = self.call("GET", body["next"]).json()

    def wait_job(self, job_id: str, *, deadline_seconds: float = 180.0) -> dict:
        """Poll ``GET /api/jobs/{id}/`` until terminal; fails the test when the deadline passes."""
        end = time.monotonic() + deadline_seconds
        while True:
            job = self.get(f"/api/jobs/{job_id}/")
            if job["status"] in TERMINAL:
                return job
            if time.monotonic() > end:
                pytest.fail(
                    f"job {job_id} ({job.get('kind')}) still {job['status']} after {deadline_seconds}s"
                )
            time.sleep(0.2)

    def run_job(self, path: str, body: object = None) -> dict:
        """Start a job with POST and wait for it; a failed job fails the test with its error."""
        started = self.post(path, body)
        job = self.wait_job(started["job"])
        assert job["status"] == "succeeded", (
            f"POST {path}: job {job['id']} {job['status']}: {job.get('error')}"
        )
        return job


def token_for(base: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base}/api/auth/token/", json={"username": username, "password": password}, timeout=60
    )
    if response.status_code == 429:
        # Every simulated user logs in from 127.0.0.1, which the per-address login throttle counts as one
        # caller; the throttle is not under test here (tests/hardening covers it), so start a fresh window.
        from django.core.cache import cache

        cache.clear()
        response = requests.post(
            f"{base}/api/auth/token/", json={"username": username, "password": password}, timeout=60
        )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def browser_session(base: str, username: str, password: str) -> requests.Session:
    """A session logged in through the HTML login form (CSRF included), as a browser would be."""
    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the login page has no CSRF token"
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/login/"},
        timeout=60,
    )
    if response.status_code == 429:
        from django.core.cache import cache

        cache.clear()  # see token_for
        return browser_session(base, username, password)
    assert "sessionid" in session.cookies, f"login as {username} failed ({response.status_code})"
    return session


class PageFigures(HTMLParser):
    """Text and attributes of every element carrying an ``id``, ``data-figure``, ``data-problem`` or
    ``data-status`` hook, keyed ``"id:<v>"``, ``"figure:<v>"``, ``"problem:<v>"``, ``"status:<v>"``."""

    HOOKS = {"id": "id", "data-figure": "figure", "data-problem": "problem", "data-status": "status"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        keys = [f"{prefix}:{attributes[name]}" for name, prefix in self.HOOKS.items() if name in attributes]
        for key in keys:
            self.attrs.setdefault(key, attributes)
            self.text.setdefault(key, "")
        if tag not in VOID_TAGS:
            self._open.append((tag, keys))

    def handle_endtag(self, tag):
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data):
        for _, keys in self._open:
            for key in keys:
                self.text[key] += data

    def number(self, key: str) -> int | None:
        """The first integer in the hooked element's text (thousands separators allowed); None when absent."""
        if key not in self.text:
            return None
        found = re.search(r"-?\d[\d,]*", self.text[key])
        return int(found.group().replace(",", "")) if found else None


def page_figures(session: requests.Session, url: str, problems: list[str] | None = None) -> PageFigures:
    """The page's hooked figures; a page that does not answer 200 is reported in ``problems`` (when given,
    else it fails the test) and reads as an empty page, so the other figures are still compared."""
    response = session.get(url, timeout=120)
    if response.status_code != 200:
        if problems is None:
            raise AssertionError(f"GET {url} -> {response.status_code}")
        problems.append(f"GET {url} answered {response.status_code}")
        return PageFigures("")
    return PageFigures(response.text)
