"""A real Label Studio on loopback, driven over its REST API (stdlib HTTP only; run by hand, never by tests).

``LabelStudio.start`` runs ``label-studio start`` from a separate virtualenv (``LS_VENV``, default
``/tmp/lsvenv``: ``python3 -m venv /tmp/lsvenv && /tmp/lsvenv/bin/pip install label-studio==1.23.2
label-studio-sdk==2.1.2 'sentry-sdk<3'``) with its data in a temporary directory, bound to 127.0.0.1.
Label Studio 1.23 disables legacy tokens for new organisations, so each user logs in with a session (as the
browser does) and the owner turns legacy tokens back on for the API calls that follow.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

LS_VENV = Path(os.environ.get("LS_VENV", "/tmp/lsvenv"))

TEXT_CONFIG = """<View>
  <Text name="review" value="$review"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="pos"/>
    <Choice value="neg"/>
    <Choice value="neutral"/>
  </Choices>
</View>"""

IMAGE_CONFIG = """<View>
  <Image name="img" value="$photo"/>
  <Choices name="animal" toName="img" choice="single">
    <Choice value="cat"/>
    <Choice value="dog"/>
  </Choices>
</View>"""


def tiny_png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A solid ``size``×``size`` PNG, built with zlib (no imaging library needed in either venv)."""
    import struct
    import zlib

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclass
class Session:
    """One logged-in Label Studio user (cookie session + CSRF token)."""

    base: str
    email: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        form=None,
        body: bytes | None = None,
        content_type: str | None = None,
        timeout: float = 60,
    ) -> tuple[int, bytes, dict]:
        headers = {"X-CSRFToken": self._csrf(), "Referer": self.base + "/"}
        data = body
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def api(self, method: str, path: str, **kwargs):
        status, body, _ = self.request(method, path, **kwargs)
        if status >= 400:
            raise RuntimeError(f"{method} {path} -> {status}: {body[:300]!r}")
        return json.loads(body) if body else None

    def login(self, password: str, *, signup: bool = False) -> Session:
        page = "/user/signup/" if signup else "/user/login/"
        self.request("GET", page)
        status, body, _ = self.request(
            "POST",
            page,
            form={
                "email": self.email,
                "password": password,
                "csrfmiddlewaretoken": self._csrf(),
                **({"how_find_us": "Other", "allow_newsletters": "false"} if signup else {}),
            },
        )
        who = self.api("GET", "/api/current-user/whoami")
        if who.get("email") != self.email:
            raise RuntimeError(f"could not log in as {self.email}: {status} {body[:200]!r}")
        self.user_id = who["id"]
        return self

    def upload(self, path: str, files: list[tuple[str, bytes]]) -> dict:
        boundary = uuid.uuid4().hex
        parts = []
        for name, content in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.api("POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}")


class LabelStudio:
    """``label-studio start`` on 127.0.0.1 with a throwaway data directory; ``stop`` ends it and removes it."""

    def __init__(self, *, port: int, owner: str = "alice@example.com", password: str = "alicepass123"):
        self.port, self.owner, self.password = port, owner, password
        self.base = f"http://127.0.0.1:{port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="ls-data-"))
        self.process: subprocess.Popen | None = None

    @property
    def media_root(self) -> Path:
        """Where Label Studio keeps uploaded files (``/data/upload/<project>/<name>`` is ``media/upload/...``)."""
        return self.data_dir / "media"

    def start(self, *, timeout: float = 300) -> LabelStudio:
        env = {
            **os.environ,
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
        }
        self.log = open(self.data_dir / "ls.log", "wb")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [
                str(LS_VENV / "bin" / "label-studio"),
                "start",
                "--data-dir",
                str(self.data_dir),
                "--host",
                self.base,
                "--internal-host",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--no-browser",
                "--username",
                self.owner,
                "--password",
                self.password,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Label Studio exited; see {self.data_dir / 'ls.log'}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(2)
        raise RuntimeError("Label Studio did not answer /health in time")

    def session(self, email: str, password: str, *, signup: bool = False) -> Session:
        return Session(self.base, email).login(password, signup=signup)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def choices_result(from_name: str, to_name: str, choices: list[str]) -> list[dict]:
    return [{"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": choices}}]


@dataclass
class SeededProject:
    project_id: int
    task_ids: list[int]
    annotations: dict[str, int]  # annotator email -> annotations made
    predictions: int


def seed_project(
    *, owner: Session, second: Session, kind: str, http_base: str = "http://127.0.0.1:8765"
) -> SeededProject:
    """A project with 4 tasks (text) or 4 images (2 uploaded, 2 http URLs), each annotated by the owner, 3 also
    by the second annotator, one annotation cancelled (skipped), and a prediction on every task."""
    config, control, target, key = (
        (TEXT_CONFIG, "sentiment", "review", "review")
        if kind == "text"
        else (IMAGE_CONFIG, "animal", "img", "photo")
    )
    project = owner.api(
        "POST", "/api/projects/", json_body={"title": f"interop {kind}", "label_config": config}
    )
    pid = project["id"]
    if kind == "text":
        tasks = [
            {"data": {"review": "A wonderful, moving film.", "source": "imdb"}, "meta": {"batch": "b1"}},
            {"data": {"review": "Dull and far too long.", "source": "imdb"}, "meta": {"batch": "b1"}},
            {"data": {"review": "It was fine, I suppose.", "source": "forum"}},
            {"data": {"review": "Best thing I saw this year!", "source": "forum"}},
        ]
        owner.api("POST", f"/api/projects/{pid}/import", json_body=tasks)
    else:
        owner.upload(
            f"/api/projects/{pid}/import",
            [("cat-1.png", tiny_png((200, 120, 40))), ("dog-1.png", tiny_png((40, 80, 200)))],
        )
        owner.api(
            "POST",
            f"/api/projects/{pid}/import",
            json_body=[
                {"photo": f"{http_base}/cat-2.png", "camera": "front"},
                {"photo": f"{http_base}/dog-2.png", "camera": "back"},
            ],
        )
    listed = owner.api("GET", f"/api/tasks/?project={pid}&page_size=100")
    task_ids = sorted(t["id"] for t in listed["tasks"])
    if kind == "text":
        first = ["pos", "neg", "neutral", "pos"]
        second_votes = ["pos", "neg", "pos", None]
        predicted = [("pos", 0.91), ("neg", 0.84), ("pos", 0.55), ("pos", 0.97)]
    else:
        first = ["cat", "dog", "cat", "dog"]
        second_votes = ["cat", "cat", "cat", None]
        predicted = [("cat", 0.8), ("dog", 0.7), ("dog", 0.6), ("dog", 0.9)]
    made = {owner.email: 0, second.email: 0}
    for index, task_id in enumerate(task_ids):
        owner.api(
            "POST",
            f"/api/tasks/{task_id}/annotations/",
            json_body={"result": choices_result(control, target, [first[index]]), "lead_time": 4.5},
        )
        made[owner.email] += 1
        vote = second_votes[index]
        if vote:
            second.api(
                "POST",
                f"/api/tasks/{task_id}/annotations/",
                json_body={"result": choices_result(control, target, [vote]), "lead_time": 2.0},
            )
            made[second.email] += 1
        else:
            second.api(
                "POST", f"/api/tasks/{task_id}/annotations/", json_body={"result": [], "was_cancelled": True}
            )
        label, score = predicted[index]
        owner.api(
            "POST",
            "/api/predictions/",
            json_body={
                "task": task_id,
                "model_version": "sentiment-v1" if kind == "text" else "animals-v3",
                "score": score,
                "result": choices_result(control, target, [label]),
            },
        )
    return SeededProject(project_id=pid, task_ids=task_ids, annotations=made, predictions=len(task_ids))


def export(session: Session, project_id: int, export_type: str) -> bytes:
    status, body, _ = session.request("GET", f"/api/projects/{project_id}/export?exportType={export_type}")
    if status != 200:
        raise RuntimeError(f"export {export_type} -> {status}: {body[:300]!r}")
    return body


def key_of(config: str) -> str:
    return "review" if "$review" in config else "photo"
