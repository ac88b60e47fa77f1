"""A simulated crowd driving a live server through REST: a small real corpus (first sentences of standard-library
docstrings, labelled by the topic of their module), annotators of known accuracy (some adversarial), and the
labelling loop a real annotator runs: ``next`` → label → ``next`` … until 204.
"""

from __future__ import annotations

import importlib
import inspect
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from tests.conftest import wait_until_worker_idle
from tests.invariants.rest import Rest, token_for

PASSWORD = "crowd-pass-1234"
TOPICS: dict[str, tuple[str, ...]] = {
    "files": ("os", "shutil", "pathlib", "tempfile", "glob"),
    "network": ("socket", "ssl", "urllib.parse", "http.client", "smtplib"),
    "text": ("string", "re", "textwrap", "difflib", "unicodedata"),
    "math": ("math", "statistics", "fractions", "random", "decimal"),
    "concurrency": ("threading", "multiprocessing", "asyncio", "queue", "subprocess"),
    "formats": ("json", "csv", "pickle", "base64", "zipfile", "tarfile"),
}
LABELS = list(TOPICS)


def corpus(*, per_topic: int, seed: int) -> list[dict]:
    """Rows {external_id, text, truth, tags}: per_topic distinct docstring sentences per topic, shuffled by seed."""
    rows: list[dict] = []
    seen: set[str] = set()
    for topic, modules in TOPICS.items():
        pool = []
        for module_name in modules:
            module = importlib.import_module(module_name)
            for name in sorted(dir(module)):
                obj = getattr(module, name, None)
                if name.startswith("_") or not (
                    inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)
                ):
                    continue
                doc = " ".join((inspect.getdoc(obj) or "").split())
                sentence = doc.split(". ")[0][:300]
                if len(sentence) < 30 or "(" in sentence[:12] or sentence in seen:
                    continue
                seen.add(sentence)
                pool.append(
                    {
                        "external_id": f"{module_name}.{name}",
                        "text": sentence,
                        "truth": topic,
                        "tags": [f"topic-group:{len(pool) % 3}"],
                    }
                )
        rng = random.Random(f"{seed}-{topic}")
        rows += rng.sample(pool, min(per_topic, len(pool)))
    random.Random(seed).shuffle(rows)
    return rows


@dataclass
class Annotator:
    name: str
    accuracy: float
    adversarial: bool = False
    unsure_rate: float = 0.0
    client: Rest | None = None
    user_id: int | None = None

    def vote(self, truth: str, rng: random.Random) -> str:
        if self.adversarial:
            # A consistent liar: always the next topic. Dawid–Skene can learn this mapping, which is exactly
            # what tempts a model-aware consensus towards a label nobody chose.
            return LABELS[(LABELS.index(truth) + 1) % len(LABELS)]
        if rng.random() < self.accuracy:
            return truth
        return rng.choice([label for label in LABELS if label != truth])


def crowd(rng: random.Random, *, n: int, n_adversarial: int, prefix: str) -> list[Annotator]:
    members = [
        Annotator(f"{prefix}-a{i}", accuracy=round(rng.uniform(0.55, 0.97), 2), unsure_rate=0.05)
        for i in range(n - n_adversarial)
    ]
    members += [Annotator(f"{prefix}-adv{i}", accuracy=0.0, adversarial=True) for i in range(n_adversarial)]
    return members


@dataclass
class World:
    """One project on the live server, its people, what each annotator voted (the crowd's own record)."""

    base: str
    manager: Rest
    pid: int
    annotators: list[Annotator]
    rows_by_external_id: dict[str, dict]
    votes: dict[int, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # item → name → label
    external_ids: dict[int, str] = field(default_factory=dict)

    def path(self, tail: str) -> str:
        return f"/api/projects/{self.pid}/{tail}"


def make_user(base: str, manager: Rest, username: str) -> tuple[int, Rest]:
    created = manager.post("/api/users/", {"username": username, "password": PASSWORD})
    return created["id"], Rest(base, token_for(base, username, PASSWORD), name=username)


def project_with_crowd(
    *,
    base: str,
    staff: Rest,
    name: str,
    rows: list[dict],
    annotators: list[Annotator],
    k: int = 3,
    max_k: int = 5,
    gold_ids: set[str] = frozenset(),
    settings: dict | None = None,
) -> World:
    project = staff.post(
        "/api/projects/",
        {
            "name": name,
            "task_type": "text_classification",
            "labels": [{"value": v} for v in LABELS],
            "annotations_per_item": k,
            "max_annotations_per_item": max_k,
            "gold_rate": 0.1 if gold_ids else 0.0,
            "guidelines": "Pick the topic the sentence is about.",
            "rescore_every": 0,
            **(settings or {}),
        },
    )
    pid = project["id"]
    for annotator in annotators:
        annotator.user_id, annotator.client = make_user(base, staff, annotator.name)
        staff.post(f"/api/projects/{pid}/members/", {"user": annotator.user_id, "role": "annotator"})
    body = [
        {"external_id": r["external_id"], "text": r["text"], "tags": r["tags"]}
        | ({"gold_label": r["truth"]} if r["external_id"] in gold_ids else {})
        for r in rows
    ]
    result = staff.post(f"/api/projects/{pid}/items/bulk/", body)
    assert result["created"] == len(rows) and not result["errors"], result
    return World(
        base=base,
        manager=staff,
        pid=pid,
        annotators=annotators,
        rows_by_external_id={r["external_id"]: r for r in rows},
    )


def label_until_done(world: World, rng: random.Random, *, max_rounds: int = 500) -> int:
    """Round-robin: each annotator asks for one item per round; done after a round in which ``next`` answered
    204 to every annotator (one 204 is not the end: an item's target may still rise after another vote).
    Returns the number of annotations made. Every vote is recorded in ``world.votes``."""
    made, settled = 0, False
    for _ in range(max_rounds):
        served = 0
        for annotator in world.annotators:
            response = annotator.client.call("GET", world.path("next/"), expect=(200, 204, 409))
            if response.status_code == 409:
                version = response.json().get("guideline_version")
                annotator.client.post(world.path("guidelines/acknowledge/"), {"version": version})
                served += 1
                continue
            if response.status_code == 204:
                continue
            served += 1
            item = response.json()["item"]
            truth = world.rows_by_external_id[item["external_id"]]["truth"]
            label = annotator.vote(truth, rng)
            annotator.client.post(
                world.path("annotations/"),
                {
                    "item": item["id"],
                    "label": label,
                    "unsure": rng.random() < annotator.unsure_rate,
                    "lead_time_ms": rng.randint(800, 6000),
                    "client_id": str(uuid.uuid4()),
                },
            )
            world.votes[item["id"]][annotator.name] = label
            world.external_ids[item["id"]] = item["external_id"]
            made += 1
        if not served:
            # Adaptive overlap raises targets in worker tasks after a submit: a round of 204s only counts once
            # the worker has nothing left to do, and a new round then still finds nothing.
            if settled:
                return made
            wait_until_worker_idle()
            settled = True
        else:
            settled = False
    raise AssertionError(f"the crowd was still being served work after {max_rounds} rounds")
