"""Random crowds (size, accuracies, liars, gold, adaptive overlap) on a live server with the real worker: the
queue always finishes, and the quality run's consensus and flags keep their invariants. Each example is a new
project on the same server, so examples are few and never shrunk (a failure prints its crowd)."""

import random
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from tests.invariants import checks
from tests.invariants.crowd import Annotator, corpus, label_until_done, project_with_crowd

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

crowds = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        # Few annotators make adaptive overlap run out of people: the case that once left items in progress forever.
        "n_honest": st.integers(2, 5),
        "n_liars": st.integers(0, 1),
        "accuracies": st.lists(st.floats(0.4, 0.98), min_size=5, max_size=5),
        "max_k": st.integers(3, 5),
        "n_gold": st.integers(0, 2),
    }
)


@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(crowd=crowds)
def test_any_crowd_finishes_its_queue_and_gets_a_truthful_consensus(server, crowd):
    # Given a project of 18 texts, k=3, and a random crowd
    number = next(_examples)
    rng = random.Random(crowd["seed"])
    people = [
        Annotator(f"c{number}-a{i}", accuracy=crowd["accuracies"][i], unsure_rate=0.05)
        for i in range(crowd["n_honest"])
    ]
    people += [
        Annotator(f"c{number}-liar{i}", accuracy=0.0, adversarial=True) for i in range(crowd["n_liars"])
    ]
    rows = corpus(per_topic=3, seed=crowd["seed"])
    gold = {row["external_id"] for row in rows[: crowd["n_gold"]]}
    note(f"crowd {crowd}")
    world = project_with_crowd(
        base=server.base,
        staff=server.staff,
        name=f"Random crowd {number}",
        rows=rows,
        annotators=people,
        gold_ids=gold,
        max_k=crowd["max_k"],
    )
    found: dict[str, list[str]] = defaultdict(list)

    # When the crowd labels until next is 204 for every member, and a quality run follows
    label_until_done(world, rng)
    found["5 nothing in_progress when next is 204 for all"] += checks.queue_finished(world)
    world.manager.run_job(world.path("quality-runs/"), {"n_boot": 10})
    items, details = checks.snapshot(world)

    # Then the consensus is a voted label or says the model overrode the votes, flags mean what they say
    found["1 consensus is among the votes"] += checks.consensus_among_votes(world, items, details)
    found["2 model_disagrees iff model top != consensus"] += checks.model_disagrees_exactly(items, details)
    found["7 is_label_issue means a label error"] += checks.label_issue_means_label_error(items, details)
    found["3 run figures = item figures"] += checks.run_figures_match(world, items)
    assert not any(found.values()), f"crowd {crowd}\n" + checks.report(found)


_examples = iter(range(1_000_000))
