"""The label-issue flag measured through the API with the real worker, on the digits protocol of
``bench/label_issues.py`` (one label per item, 10 % and 20 % of labels swapped to a confusable digit): the
items ``GET /items/?has_issue=true`` returns are scored against the injected noise, not against the code."""

import os
import time
from pathlib import Path

import pytest

from annotation.models import Item
from bench.label_issues_api import FULL_ITEMS, HEADER, N_ANNOTATORS, run_protocol
from tests.conftest import wait_for_job
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker]

FULL = os.environ.get("LABELGATE_LABEL_ISSUES_FULL") == "1"
# 600 items keep the two runs within a few minutes on two cores; the full protocol runs the same code.
N_ITEMS = FULL_ITEMS if FULL else 600
SEEDS = (0, 1) if FULL else (0,)
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "label_issues_api.md"


def _wait_labelled(worker):
    def wait(project_id: int) -> None:
        end = time.monotonic() + 300
        while time.monotonic() < end:
            if not Item.objects.filter(project_id=project_id, consensus_label__isnull=True).exists():
                return
            time.sleep(0.5)
        pytest.fail(f"the per-item consensus hooks did not finish\n{worker.log_tail()}")

    return wait


@pytest.mark.parametrize("rate", [0.1, 0.2])
def test_label_issue_flag_finds_the_swapped_digits_through_the_api(worker, api, rate):
    # Given a manager and ten annotators; the protocol uploads the digits, posts one (possibly swapped) label
    # per item, trains the base model and runs a quality check, all through the API
    manager = UserFactory(project_creator=True)
    annotators = [UserFactory() for _ in range(N_ANNOTATORS)]
    results = []
    for seed in SEEDS:
        # When
        result = run_protocol(
            client_for=api,
            manager=manager,
            annotators=annotators,
            rate=rate,
            seed=seed,
            n_items=N_ITEMS,
            wait_job=lambda job_id: wait_for_job(job_id, deadline_seconds=900, worker=worker),
            wait_labelled=_wait_labelled(worker),
        )
        print(result.line())
        results.append(result)
    if FULL:
        with RESULTS.open("a") as handle:
            handle.write("\n".join([HEADER, *(r.line() for r in results)]) + "\n\n")
    # Then the flag keeps to the wrong labels: F1 >= 0.82 against the injected noise
    for result in results:
        assert result.n_noisy == round(rate * N_ITEMS)
        assert result.flag_model.startswith("quality model"), result
        assert result.f1 >= 0.82, result
