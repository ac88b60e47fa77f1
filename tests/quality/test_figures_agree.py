"""One source per figure: every count shown on more than one page (items in the review queue, open label issues,
label errors flagged by the last quality run) is the same number on each page and in the API, labelled with what
it counts and as of when; before the first quality run no page shows a quality figure; the "most to gain"
sentence of a run reads the same numbers as its per-tag table."""

import csv
import io
import re
from datetime import datetime

import pytest
from django.utils import timezone

from annotation.models import Item, ItemStatus, Role
from core.jobs import JobContext, job_create
from ingress.services.bulk import item_bulk_create
from quality import services
from quality.job_kinds import QUALITY_JOB
from quality.models import QualityReport
from tests.factories import add_member, make_project
from tests.quality.vote_builders import annotate, items_of, votes_project

pytestmark = pytest.mark.django_db

OPEN_ISSUE_FILTER = "has_issue=true&status=new,in_progress,labelled,needs_review"
RUN_AT = datetime(2026, 12, 7, 10, 2)


def _count(html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"[^>]*>([\d,]+)<', html)
    assert match, f"#{element_id} not on the page"
    return int(match.group(1).replace(",", ""))


def _tile(html: str, problem: str) -> str:
    match = re.search(rf'data-problem="{re.escape(problem)}"><strong>([^<]*)</strong>', html)
    assert match, f"no tile {problem!r}"
    return match.group(1)


def _problems(client, pid) -> dict[str, str]:
    body = client.get(f"/projects/{pid}/dashboard/?csv=problems").content.decode()
    return {row["problem"]: row["items"] for row in csv.DictReader(io.StringIO(body))}


def _seeded_queue_project():
    """Eight items, three votes each except t7. Hand-set states:
    t0–t2 needs_review with a label issue (queue, open issue); t3 labelled, no issue, a comment (queue);
    t4 an open gold item whose consensus differs from gold, flagged (queue, open issue); t5 accepted with a label
    issue (neither); t6 labelled, no issue (neither); t7 new.
    So: 5 items in the review queue, 3 items with status needs_review, 4 open label issues."""
    votes = [["pos", "pos", "neg"]] * 7 + [[None]]
    project, items, annotators = votes_project(make_project, votes)
    for item in items[:3]:
        Item.objects.filter(pk=item.pk).update(
            status=ItemStatus.NEEDS_REVIEW,
            is_label_issue=True,
            issue_kinds=["annotators_split"],
            issue_severity=0.5,
        )
    live = items[3].annotations.filter(is_live=True).order_by("id").first()
    live.comment = "is this sarcasm?"
    live.save(update_fields=["comment"])
    Item.objects.filter(pk=items[4].pk).update(
        status=ItemStatus.IN_PROGRESS,
        is_gold=True,
        gold_label="neg",
        is_label_issue=True,
        issue_kinds=["gold_mismatch"],
        issue_severity=0.9,
    )
    Item.objects.filter(pk=items[5].pk).update(
        status=ItemStatus.ACCEPTED, is_label_issue=True, issue_kinds=["annotators_split"], final_label="pos"
    )
    reviewer = add_member(project, Role.REVIEWER)
    return project, reviewer


def _hand_made_report(project, *, n_issues: int, n_routed: int) -> QualityReport:
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={})
    report = QualityReport.objects.create(
        project=project,
        job=job,
        consensus_method="majority_vote",
        n_items=7,
        n_annotations=21,
        n_annotators=3,
        n_issues=n_issues,
        n_routed_to_review=n_routed,
        krippendorff_alpha=0.1,
        hlp=0.6,
    )
    QualityReport.objects.filter(pk=report.pk).update(created_at=timezone.make_aware(RUN_AT))
    return report


def test_before_any_quality_run_no_page_shows_a_quality_figure(client, api):
    # Given a project whose per-item checks flagged 4 open items, and no quality run yet
    project, reviewer = _seeded_queue_project()
    pid = project.pk
    client.force_login(reviewer)
    # The API still lists the flagged items (a fact about items, not a quality figure)
    assert api(reviewer).get(f"/api/projects/{pid}/items/?{OPEN_ISSUE_FILTER}").json()["count"] == 4
    # Then the dashboard shows no label-issue figure, only "no quality run yet"
    dashboard = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert 'id="headline-no-run">no quality run yet<' in dashboard and 'id="headline-alpha"' not in dashboard
    problems = _problems(client, pid)
    assert (
        problems["open label issues now"] == "" and problems["near duplicates with conflicting labels"] == ""
    )
    assert _tile(dashboard, "open label issues now") == "no quality run yet"
    assert _tile(dashboard, "near duplicates with conflicting labels") == "no quality run yet"
    assert 'id="chart-issue-kinds"' not in dashboard
    # And the quality page and the project page's quality panel say there is no report
    assert 'id="no-report"' in client.get(f"/projects/{pid}/quality/").content.decode()
    project_page = client.get(f"/projects/{pid}/").content.decode()
    assert "No quality report yet." in project_page and "possible label error" not in project_page
    # While the review queue, a work list rather than a quality figure, is the same everywhere
    assert _count(dashboard, "review-queue-now") == 5 == _count(project_page, "review-panel-count")


def test_review_queue_count_is_one_figure_on_every_page_and_in_the_api(client, api):
    # Given 5 items in the review queue, 3 of them with status needs_review (hand-counted in the seed)
    project, reviewer = _seeded_queue_project()
    _hand_made_report(project, n_issues=7, n_routed=6)
    pid = project.pk
    client.force_login(reviewer)
    # Then the API and every page show 5, labelled "in the review queue now"
    assert api(reviewer).get(f"/api/projects/{pid}/review-queue/").json()["count"] == 5
    pages = {
        "queue": (client.get(f"/projects/{pid}/review/").content.decode(), "queue-total"),
        "project": (client.get(f"/projects/{pid}/").content.decode(), "review-panel-count"),
        "dashboard": (client.get(f"/projects/{pid}/dashboard/").content.decode(), "review-queue-now"),
        "quality": (client.get(f"/projects/{pid}/quality/").content.decode(), "review-queue-now"),
    }
    for name, (html, element_id) in pages.items():
        assert _count(html, element_id) == 5, name
        assert re.search(rf'id="{element_id}"[^>]*>5</strong>\s*items in the review queue now', html), name
    assert int(_problems(client, pid)["items in the review queue now"]) == 5
    # And no page calls the 3 needs_review items "waiting for review" beside it
    assert "waiting for review" not in pages["dashboard"][0]
    assert "need a decision" not in pages["queue"][0] and "need a decision" not in pages["project"][0]


def test_the_queue_pages_status_breakdown_adds_up_to_its_total_and_says_each_status_in_words(client):
    # Given the seeded queue: 5 items, by hand 3 needs_review (t0-t2), 1 labelled with a comment (t3),
    # 1 in-progress gold item whose votes miss its gold label (t4)
    project, reviewer = _seeded_queue_project()
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/review/").content.decode()
    # Then the breakdown beside the total lists exactly those statuses, in words, and adds up to the total
    line = re.search(r'<p id="queue-statuses">(.*?)</p>', html, re.S)
    assert line, "no status breakdown beside the queue total"
    shown = {
        status: int(n)
        for status, n in re.findall(r'data-status="(\w+)"><strong class="num">(\d+)</strong>', line.group(1))
    }
    assert shown == {"in_progress": 1, "labelled": 1, "needs_review": 3}
    assert sum(shown.values()) == _count(html, "queue-total") == 5
    text = re.sub(r"<[^>]+>", "", line.group(1))
    assert "3 needs review" in text and "1 labelled" in text and "1 in progress" in text
    assert "gold" in text  # why an in-progress item is in a review queue
    # And the table of every project item by status says it is not the queue (8 items, t5 accepted, t7 new)
    assert re.search(
        r'id="status-counts-caption">Every item of the project by status \(<span data-count="8">', html
    )


def test_open_label_issues_and_the_runs_flags_are_labelled_apart_and_equal_the_api(client, api):
    # Given the seeded project (4 open label issues now) and a quality run of 2026-12-07 10:02 that flagged 7
    # possible label errors and marked 6 items for review
    project, reviewer = _seeded_queue_project()
    _hand_made_report(project, n_issues=7, n_routed=6)
    pid = project.pk
    client.force_login(reviewer)
    client_api = api(reviewer)
    # Then "open label issues now" is 4 on the dashboard and in the API's item list
    assert client_api.get(f"/api/projects/{pid}/items/?{OPEN_ISSUE_FILTER}").json()["count"] == 4
    assert int(_problems(client, pid)["open label issues now"]) == 4
    dashboard = client.get(f"/projects/{pid}/dashboard/").content.decode()
    assert _tile(dashboard, "open label issues now") == "4"
    # And the run's 7 is the API's n_issues, shown with the run's time on the quality page and the project page
    quality_api = client_api.get(f"/api/projects/{pid}/quality/").json()
    assert (quality_api["n_issues"], quality_api["n_routed_to_review"]) == (7, 6)
    quality = client.get(f"/projects/{pid}/quality/").content.decode()
    assert _count(quality, "run-issues") == 7 and _count(quality, "run-routed") == 6
    assert "flagged by the quality run of 2026-12-07 10:02" in quality
    assert "routed to review" not in quality
    project_page = client.get(f"/projects/{pid}/").content.decode()
    assert _count(project_page, "panel-run-issues") == 7
    assert "possible label errors flagged by the quality run of 2026-12-07 10:02" in project_page


# --- "most to gain" ------------------------------------------------------------------------------------------

POS, NEG, NEUTRAL = (
    {"pos": 0.8, "neg": 0.1, "neutral": 0.1},
    {"pos": 0.1, "neg": 0.8, "neutral": 0.1},
    {"pos": 0.1, "neg": 0.1, "neutral": 0.8},
)
# (external id, tag, votes of three annotators, model probabilities, gold label or None)
TAGGED = [
    ("a1", "alpha", ["pos", "pos", "pos"], POS, None),
    ("a2", "alpha", ["pos", "pos", "neg"], NEG, None),
    ("a3", "alpha", ["neg", "neg", "neg"], POS, "neg"),
    ("a4", "alpha", ["neutral", "neutral", "neutral"], POS, None),
    ("b1", "beta", ["pos", "pos", "pos"], POS, "pos"),
    ("b2", "beta", ["pos", "pos", "pos"], POS, None),
    ("b3", "beta", ["neg", "neg", "neg"], NEG, None),
    ("b4", "beta", ["neutral", "neutral", "neutral"], NEUTRAL, None),
]


def _tagged_project_after_a_run():
    project = make_project(consensus_method="majority_vote")
    rows = [
        {"external_id": ext, "text": f"text {ext}", "tags": [tag], **({"gold_label": gold} if gold else {})}
        for ext, tag, _, _, gold in TAGGED
    ]
    assert not item_bulk_create(project=project, rows=rows).errors
    annotators = [add_member(project) for _ in range(3)]
    by_ext = {item.external_id: item for item in items_of(project)}
    for ext, _, votes, probs, _ in TAGGED:
        for user, label in zip(annotators, votes, strict=True):
            annotate(project, by_ext[ext], user, label)
        Item.objects.filter(pk=by_ext[ext].pk).update(predicted_probs=probs)
    job = job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params={"n_boot": 0})
    services.quality_run(job=job, context=JobContext(job))
    return project, QualityReport.objects.get(job=job)


def test_most_to_gain_sentence_and_both_tables_read_the_per_tag_rows_numbers(client, api):
    # Given two tags of 4 items each, and a run with model probabilities (n_boot 0: no intervals). By hand, HLP
    # and model on each judgement against the majority of the two other votes (ties left out):
    #   alpha: a1 3/3 humans, 3/3 model; a2 only the "neg" vote is checkable (pos, pos): humans 0/1, model
    #   (neg) 0/1; a3 humans 3/3, model 0/3; a4 humans 3/3, model 0/3 -> HLP 9/10 = 90.0 %, model 3/10 = 30.0 %
    #   beta: 12/12 both -> 100.0 %. Scored items 4 of 8 each (50.0 %); potential gain alpha (90 - 30) x 0.5 = 30.
    # Against gold (a3, b1 only) alpha would read humans 100.0 %, model 0.0 %: the contradiction seen before.
    project, report = _tagged_project_after_a_run()
    reviewer = add_member(project, Role.REVIEWER)
    client.force_login(reviewer)
    # Then the per-tag table, the error analysis rows and the sentence carry the same numbers
    alpha = report.per_tag["alpha"]
    assert (alpha["hlp"], alpha["model_accuracy"], alpha["hlp_n_items"]) == (
        pytest.approx(0.9),
        pytest.approx(0.3),
        4,
    )
    top = report.error_analysis[0]
    assert top["tag"] == "alpha" and top["n_items"] == 4
    assert (top["hlp"], top["model_accuracy"], top["share_of_data"]) == (
        pytest.approx(0.9),
        pytest.approx(0.3),
        pytest.approx(0.5),
    )
    assert top["potential_gain"] == pytest.approx(30.0)
    # (both tags have 4 items, under the 5 items any page needs to state a share: no headline names one)
    assert not [line for line in report.explanations if line.startswith("Most to gain")]
    api_report = api(reviewer).get(f"/api/projects/{project.pk}/quality/").json()
    assert api_report["per_tag"]["alpha"]["hlp"] == pytest.approx(api_report["error_analysis"][0]["hlp"])
    assert api_report["per_tag"]["alpha"]["model_accuracy"] == pytest.approx(
        api_report["error_analysis"][0]["model_accuracy"]
    )
    # And the quality page shows them in its per-tag row, its error-analysis row and the sentence
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    row = re.search(r'<tr data-tag="alpha">(.*?)</tr>', html, re.S).group(1)
    # (the per-tag table withholds shares on under five items and says how many there are)
    assert re.findall(r'data-col="(hlp|model)">([^<]*)<', row) == [
        ("hlp", "too few items (n = 4)"),
        ("model", "too few items (n = 4)"),
    ]
    assert "Most to gain" not in html
    errors = re.search(r'id="error-analysis">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    first = re.findall(r"<td[^>]*>([^<]*)</td>", errors.split("</tr>")[0])
    # the error-analysis row withholds the same shares as the per-tag row, and its gap and gain with them
    assert first == ["alpha", "50.0%", first[2], "too few items (n = 4)", "too few items (n = 4)", "—", "—"]
    # And the dashboard's error table (same stored rows) agrees
    dashboard = client.get(f"/projects/{project.pk}/dashboard/?csv=error_analysis").content.decode()
    first_row = next(csv.DictReader(io.StringIO(dashboard)))
    assert first_row["tag"] == "alpha" and int(first_row["n_items"]) == 4
    assert float(first_row["hlp"]) == pytest.approx(0.9) and float(
        first_row["model_accuracy"]
    ) == pytest.approx(0.3)


def test_most_to_gain_names_the_first_tag_with_enough_items_to_state_a_share():
    from quality.services.explain import explanations_for

    # Given error rows sorted by potential gain, the largest on a 3-item tag (hand-made numbers)
    rows = [
        {
            "tag": "tiny",
            "n_items": 3,
            "share_of_data": 0.1,
            "model_accuracy": 0.0,
            "hlp": 1.0,
            "potential_gain": 10.0,
        },
        {
            "tag": "big",
            "n_items": 12,
            "share_of_data": 0.4,
            "model_accuracy": 0.5,
            "hlp": 0.75,
            "potential_gain": 10.0,
        },
    ]
    scalars = {"n_annotations": 90, "n_items": 30, "n_issues": 0}
    # When the report's sentences are written
    lines = explanations_for(
        scalars=scalars,
        method_note="majority vote",
        n_boot=0,
        per_label={},
        per_version={},
        hlp_lines=[],
        error_rows=rows,
        n_route=0,
        model_checked=True,
    )
    # Then the headline names the 12-item tag with its own numbers, never the 3-item one
    (sentence,) = [line for line in lines if line.startswith("Most to gain")]
    assert sentence == (
        "Most to gain: tag big (12 scored items, 40.0% of the scored data; model 50.0% vs humans "
        "75.0% against the consensus), up to 10.0 accuracy points overall."
    )
