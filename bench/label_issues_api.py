"""The digits label-issue protocol of ``bench/label_issues.py``, driven through the REST API with the real worker.

A manager creates an image project through the API; the training part of a 70/30 stratified split of
scikit-learn's ``load_digits`` (1,257 items, or a stratified subset of it) is uploaded as 64 px PNG renders;
10 % or 20 % of the labels are swapped to a confusable digit (``label_issues.corrupt``); each item gets exactly
one label, posted by one of ten annotators; the base model is trained through the API, then a quality run is
started through the API, and the flagged items are read back from ``GET /items/?has_issue=true``. Precision,
recall and F1 are computed against the injected noise.

``run_protocol`` is what ``tests/quality/test_label_issues_api.py`` calls at a size the suite can afford; the full
protocol runs the same test at full size and prints (and appends to ``bench/results/label_issues_api.md``):

    LABELGATE_LABEL_ISSUES_FULL=1 bash scripts/test.sh tests/quality/test_label_issues_api.py -s -q
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FULL_ITEMS = 1257  # the training part (70 %) of load_digits' 1,797 images
N_ANNOTATORS = 10
PAGE = 1000


@dataclass(frozen=True)
class ProtocolResult:
    rate: float
    seed: int
    n_items: int
    n_noisy: int
    n_flagged: int
    n_hits: int
    n_model_disagrees: int
    flag_model: str
    consensus_method: str

    @property
    def precision(self) -> float:
        return self.n_hits / max(self.n_flagged, 1)

    @property
    def recall(self) -> float:
        return self.n_hits / max(self.n_noisy, 1)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / max(p + r, 1e-12)

    def line(self) -> str:
        return (
            f"| {self.rate:.0%} | {self.seed} | {self.n_items} | {self.n_noisy} | {self.n_flagged} | "
            f"{self.precision:.3f} | {self.recall:.3f} | {self.f1:.3f} | {self.n_model_disagrees} | "
            f"{self.flag_model} |"
        )


def digits_sample(*, n_items: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(8×8 images, true digits) of the training part of the bench's split, stratified down to ``n_items``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(digits.target.size)
    train, _ = train_test_split(index, test_size=0.3, random_state=seed, stratify=digits.target)
    if n_items < train.size:
        train, _ = train_test_split(
            train, train_size=n_items, random_state=seed, stratify=digits.target[train]
        )
    return digits.images[train], digits.target[train]


def _all_items(client, pid: int, query: str = "") -> list[dict]:
    rows, page = [], 1
    while True:
        response = client.get(f"/api/projects/{pid}/items/?page_size={PAGE}&page={page}{query}")
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        page += 1


def run_protocol(
    *,
    client_for: Callable,
    manager,
    annotators: list,
    rate: float,
    seed: int,
    n_items: int,
    wait_job: Callable[[str], object],
    wait_labelled: Callable[[int], None],
) -> ProtocolResult:
    """One protocol run. ``client_for(user)`` gives an authenticated API client; ``wait_job(job_id)`` returns
    the finished Job (polled with a deadline); ``wait_labelled(project_id)`` returns once the worker has written
    every item's consensus (the per-item hooks)."""
    from bench.label_issues import corrupt
    from ingress.demo.media import digit_png

    images, truth = digits_sample(n_items=n_items, seed=seed)
    noisy, corrupted = corrupt(truth, rate, np.random.default_rng(seed))
    boss = client_for(manager)
    response = boss.post(
        "/api/projects/",
        {
            "name": f"digits noise {rate:.0%} seed {seed}",
            "task_type": "image_classification",
            "labels": [{"value": str(d)} for d in range(10)],
            "annotations_per_item": 1,
            "max_annotations_per_item": 1,
            "rescore_every": 0,
        },
        format="json",
    )
    assert response.status_code == 201, response.content[:500]
    pid = response.json()["id"]
    for user in annotators:
        response = boss.post(
            f"/api/projects/{pid}/members/", {"user": user.pk, "role": "annotator"}, format="json"
        )
        assert response.status_code in (200, 201), response.content[:500]
    rows = [
        {"external_id": f"digit-{i}", "file_b64": base64.b64encode(digit_png(image)).decode()}
        for i, image in enumerate(images)
    ]
    for start in range(0, len(rows), 200):
        response = boss.post(f"/api/projects/{pid}/items/bulk/", rows[start : start + 200], format="json")
        assert response.status_code in (200, 201), response.content[:500]
        assert not response.json()["errors"], response.json()["errors"][:3]
    ids = {row["external_id"]: row["id"] for row in _all_items(boss, pid)}
    clients = [client_for(user) for user in annotators]
    for i, label in enumerate(noisy.tolist()):
        response = clients[i % len(clients)].post(
            f"/api/projects/{pid}/annotations/",
            {"item": ids[f"digit-{i}"], "label": str(label)},
            format="json",
        )
        assert response.status_code == 201, response.content[:500]
    wait_labelled(pid)
    response = boss.post(f"/api/projects/{pid}/model/train/", {}, format="json")
    assert response.status_code == 202, response.content[:500]
    job = wait_job(response.json()["job"])
    assert job.status == "succeeded", job.error
    response = boss.post(f"/api/projects/{pid}/quality-runs/", {"n_boot": 0}, format="json")
    assert response.status_code == 202, response.content[:500]
    job = wait_job(response.json()["job"])
    assert job.status == "succeeded", job.error
    flagged = {row["external_id"] for row in _all_items(boss, pid, "&has_issue=true")}
    items = _all_items(boss, pid)
    position = {f"digit-{i}": i for i in range(truth.size)}
    hits = sum(bool(corrupted[position[external_id]]) for external_id in flagged)
    disagreeing = sum("model_disagrees" in row["issue_kinds"] for row in items)
    names = sorted({row["flag_model"] for row in items if row["flag_model"]})
    report = boss.get(f"/api/projects/{pid}/quality/").json()
    return ProtocolResult(
        rate=rate,
        seed=seed,
        n_items=int(truth.size),
        n_noisy=int(corrupted.sum()),
        n_flagged=len(flagged),
        n_hits=int(hits),
        n_model_disagrees=int(disagreeing),
        flag_model=", ".join(names) or "none",
        consensus_method=report.get("consensus_method", ""),
    )


HEADER = (
    "| noise | seed | items | wrong labels | flagged (`has_issue=true`) | precision | recall | F1 | "
    "`model_disagrees` | flag model |\n|---|---|---|---|---|---|---|---|---|---|"
)
