"""The suite's "wait until the worker is idle" helper: a task the worker fetched but has not started (reserved)
or holds for its countdown (scheduled) is work still to do, as is one on the broker or running."""

import pytest

from tests import conftest

TASK = {"id": "t1", "name": "annotation.items_pass"}


class FakeBroker:
    def __init__(self, lengths: list[int]):
        self.lengths = lengths

    def llen(self, queue: str) -> int:
        return self.lengths.pop(0) if self.lengths else 0


class FakeInspect:
    """Answers each poll from a script: one ``{"reserved": n, "scheduled": n, "active": n}`` per poll."""

    def __init__(self, script: list[dict], polls: list[str]):
        self.script = script
        self.polls = polls

    def _answer(self, kind: str):
        self.polls.append(kind)
        state = self.script[0] if self.script else {}
        if kind == "active" and self.script:
            self.script.pop(0)  # the last read of a poll
        if state.get("silent"):
            return None
        return {"w1@host": [TASK] * state.get(kind, 0)}

    def reserved(self):
        return self._answer("reserved")

    def scheduled(self):
        return self._answer("scheduled")

    def active(self):
        return self._answer("active")


@pytest.fixture
def fake_worker(monkeypatch, settings):
    """Points the helper at a scripted broker and worker; returns (script, polls)."""
    import redis

    from config.celery import app

    settings.LABELGATE_JOBS_QUEUE, settings.LABELGATE_ITEMS_QUEUE = "jobs", "items"
    script: list[dict] = []
    polls: list[str] = []
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(redis.Redis, "from_url", classmethod(lambda cls, url: FakeBroker([])))
    monkeypatch.setattr(app.control, "inspect", lambda timeout=1.0: FakeInspect(script, polls))
    monkeypatch.setattr(conftest.time, "sleep", lambda seconds: None)
    return script, polls


def test_a_task_fetched_but_not_started_keeps_the_worker_busy(fake_worker):
    # Given a worker whose slots are momentarily free while it holds a prefetched task for three polls
    script, polls = fake_worker
    script += [{"reserved": 1}] * 3
    # When the suite waits for it to be idle
    conftest.wait_until_worker_idle(deadline_seconds=30)
    # Then it returned only after two idle polls following the three busy ones: 5 polls of 3 reads each
    assert polls.count("active") == 5


def test_a_task_waiting_for_its_countdown_keeps_the_worker_busy(fake_worker):
    script, polls = fake_worker
    script += [{"scheduled": 1}, {"active": 1}]
    conftest.wait_until_worker_idle(deadline_seconds=30)
    assert polls.count("active") == 4


def test_no_answer_from_the_worker_is_not_idle(fake_worker):
    # Given a worker that does not answer the first two polls (busy, slow to reply)
    script, polls = fake_worker
    script += [{"silent": True}] * 2
    conftest.wait_until_worker_idle(deadline_seconds=30)
    # Then those polls did not count as idle
    assert polls.count("active") == 4
