"""A whole project driven over REST by a simulated crowd, with the real worker: label until ``next`` is 204 for
everyone, quality runs before and after a model, review, a label merge, two freezes and their exports. After
each step the invariants of ``checks`` are evaluated on what the API and the pages show; the test fails with
every violation found, grouped by invariant."""

import random
from collections import defaultdict

import pytest

from tests.invariants import checks
from tests.invariants.crowd import PASSWORD, Annotator, corpus, label_until_done, project_with_crowd
from tests.invariants.rest import browser_session

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Accuracies spread from expert to coin-flip-ish, two consistent liars and one annotator who picks at random.
CROWD = (0.97, 0.92, 0.86, 0.8, 0.72, 0.64, 0.58)


def _crowd() -> list[Annotator]:
    people = [Annotator(f"run-a{i}", accuracy=a, unsure_rate=0.05) for i, a in enumerate(CROWD)]
    people += [Annotator(f"run-adv{i}", accuracy=0.0, adversarial=True) for i in range(2)]
    people.append(Annotator("run-random", accuracy=1 / 6))
    return people


def _rows() -> list[dict]:
    rows = corpus(per_topic=7, seed=3)
    # Near duplicates whose truths differ (a reason to look, never by itself a label error), and a very short
    # text that profiling flags.
    twins = [
        dict(
            rows[i],
            external_id=rows[i]["external_id"] + "-twin",
            text=rows[i]["text"] + " Again.",
            truth=rows[i + 1]["truth"],
        )
        for i in range(0, 6, 2)
    ]
    return rows + twins + [{"external_id": "tiny", "text": "x", "truth": "text", "tags": []}]


def _latest_version(world) -> dict:
    versions = world.manager.pages(world.path("dataset-versions/"))
    newest = max(versions, key=lambda v: v["version"])
    return world.manager.get(f"/api/dataset-versions/{newest['id']}/")


def test_a_crowd_run_keeps_every_invariant(server):
    # Given a text project (k=3, gold items) and a crowd of 10 with two consistent liars and a random clicker
    rng = random.Random(1405)
    rows = _rows()
    gold = {row["external_id"] for row in rows[10:13]}
    world = project_with_crowd(
        base=server.base,
        staff=server.staff,
        name="Invariant run",
        rows=rows,
        annotators=_crowd(),
        gold_ids=gold,
        max_k=3,
        settings={"route_flagged_to_review": True},
    )
    manager_pages = browser_session(server.base, server.staff_username, server.staff_password)
    watcher = world.annotators[0]
    watcher_pages = browser_session(server.base, watcher.name, PASSWORD)
    found: dict[str, list[str]] = defaultdict(list)

    def pages(step: str) -> None:
        found[f"3 page figure = API figure ({step})"] += checks.page_figures_match(
            world, manager_pages, watcher_pages, watcher
        )

    def quality_checks(step: str, *, with_model: bool) -> None:
        items, details = checks.snapshot(world)
        found[f"1 consensus is among the votes ({step})"] += checks.consensus_among_votes(
            world, items, details
        )
        found[f"7 is_label_issue means a label error ({step})"] += checks.label_issue_means_label_error(
            items, details
        )
        found[f"3 run figures = item figures ({step})"] += checks.run_figures_match(world, items)
        if with_model:
            found[f"2 model_disagrees iff model top != consensus ({step})"] += checks.model_disagrees_exactly(
                items, details
            )
        pages(step)

    pages("before any quality run")

    # When the crowd labels until nothing is left for anyone
    label_until_done(world, rng)
    found["5 nothing in_progress when next is 204 for all"] += checks.queue_finished(world)

    # and a quality run without a model, then a model and a second run
    world.manager.run_job(world.path("quality-runs/"), {"n_boot": 10})
    quality_checks("run without a model", with_model=False)
    world.manager.run_job(world.path("model/train/"))
    world.manager.run_job(world.path("quality-runs/"), {"n_boot": 10})
    quality_checks("run with a model", with_model=True)

    # and two labels are merged (the quality run it starts and a retrained model count the same votes)
    before = checks.vote_counts(world)
    mapping = {"text": "formats"}
    change = world.manager.post(world.path("label-changes/merge/"), {"labels": ["text"], "into": "formats"})
    quality_job = (change.get("change") or {}).get("quality_job")
    if quality_job:
        world.manager.wait_job(quality_job)
    else:
        world.manager.run_job(world.path("quality-runs/"), {"n_boot": 10})
    world.manager.run_job(world.path("model/train/"))
    after = checks.vote_counts(world)
    found["6 a label merge changes no vote count"] += checks.merge_keeps_votes(before, after, mapping)
    pages("after the merge")

    # and a reviewer decides part of the queue: first the default Accept where the consensus has no votes
    items, details = checks.snapshot(world)
    for item in items:
        votes = checks.merged(checks.live_votes(details[item["id"]]), mapping)
        if (
            item["consensus_label"] is not None
            and votes
            and item["consensus_label"] not in votes
            and item["status"] in ("labelled", "needs_review")
        ):
            response = world.manager.call(
                "POST", world.path("reviews/"), json={"item": item["id"], "action": "accept"}, expect=None
            )
            if response.status_code == 201:
                final = world.manager.get(world.path(f"items/{item['id']}/"))["item"]["final_label"]
                if final not in votes:
                    found["1 Accept's default never takes a label nobody voted for"].append(
                        f"{item['external_id']}: plain accept made {final!r} final; votes {dict(votes)}"
                    )
    queue = world.manager.pages(world.path("review-queue/"))
    for n, row in enumerate(queue[:12]):
        truth = mapping.get(
            world.rows_by_external_id[row["external_id"]]["truth"],
            world.rows_by_external_id[row["external_id"]]["truth"],
        )
        if n % 4 == 3:
            body = {"item": row["id"], "action": "discard", "reason": "unusable"}
        elif n == 1:
            body = {"item": row["id"], "action": "relabel", "reason": "ask the crowd again"}
        elif n % 2:
            body = {"item": row["id"], "action": "accept", "label": truth, "reason": "checked the source"}
        else:
            majority = max(row["votes"], key=lambda v: v["votes"])["label"] if row["votes"] else truth
            body = {"item": row["id"], "action": "accept", "label": mapping.get(majority, majority)}
        world.manager.post(world.path("reviews/"), body)
    pages("after review")

    # and two versions are frozen: the default policy, and accepted items only
    world.manager.run_job(world.path("dataset-versions/"), {"name": "default", "seed": 1})
    found["8 export = version, labels = API final labels (default policy)"] += checks.export_matches(
        world, _latest_version(world), accepted_only=False
    )
    world.manager.run_job(
        world.path("dataset-versions/"), {"name": "accepted", "accepted_only": True, "seed": 1}
    )
    found["8 export = accepted items, labels = API final labels (accepted only)"] += checks.export_matches(
        world, _latest_version(world), accepted_only=True
    )

    # Then no invariant was broken anywhere along the way
    assert not any(found.values()), "\n" + checks.report(found)
