import pytest

from annotation.models import Item, ItemStatus
from core.jobs import JobContext, job_create
from quality import services
from quality.job_kinds import QUALITY_JOB
from quality.models import AnnotatorQuality, ItemQuality, QualityReport
from quality.review.selectors import review_queue_total
from tests.factories import make_project
from tests.quality.vote_builders import votes_project

pytestmark = pytest.mark.django_db

# Hand-checked votes (3 annotators): consensus pos (2/3), neg (3/3), 3-way tie → neg (the most used label
# overall), neutral (2/3). Percent agreement = mean(1/3, 1, 0, 1/3) = 5/12; class shares 4/12, 5/12, 3/12 →
# P_e = 50/144, Fleiss κ = (5/12 − 50/144) / (1 − 50/144) = 10/94; nominal α = 1 − 11·(12 − 5) / (144 − 50)
# = 17/94. Leave-one-out HLP: i0 a2 wrong, i1 3 right, i3 a2 wrong, the rest are ties → 3/5.
VOTES = [
    ["pos", "pos", "neg"],
    ["neg", "neg", "neg"],
    ["pos", "neg", "neutral"],
    ["neutral", "neutral", "pos"],
]


def _job(project, **params):
    return job_create(kind=QUALITY_JOB, task_name="quality.run", project=project, params=params)


def _run(job):
    return services.quality_run(job=job, context=JobContext(job))


def test_quality_run_stores_hand_computed_agreement_consensus_and_routes_the_tie():
    # Given four items voted as above, majority-vote consensus
    project, items, annotators = votes_project(make_project, VOTES, consensus_method="majority_vote")
    job = _job(project, n_boot=0)
    # When the quality run executes
    result = _run(job)
    # Then the report holds the hand-computed statistics
    report = QualityReport.objects.get(job=job)
    assert report.consensus_method == "majority_vote"
    assert (report.n_items, report.n_annotations, report.n_annotators) == (4, 12, 3)
    assert report.percent_agreement == pytest.approx(5 / 12)
    assert report.fleiss_kappa == pytest.approx(10 / 94)
    assert report.krippendorff_alpha == pytest.approx(17 / 94)
    assert report.hlp == pytest.approx(3 / 5)
    assert report.krippendorff_alpha_ci_low is None  # n_boot=0: no interval
    assert report.per_label["neg"]["n_consensus"] == 2
    assert any(line.startswith("α = 0.18: slight agreement") for line in report.explanations)
    # and the items carry their consensus; only the tie moved to review
    rows = {row.item_id: row for row in ItemQuality.objects.filter(report=report)}
    assert [rows[item.pk].consensus_label for item in items] == ["pos", "neg", "neg", "neutral"]
    # a split vote is a reason to look, not evidence that the label is wrong
    assert rows[items[2].pk].is_tie and not rows[items[2].pk].is_issue
    assert set(rows[items[2].pk].reasons) == {"low_consensus_confidence", "annotators_split"}
    stored = {item.pk: item for item in Item.objects.filter(project=project)}
    assert stored[items[0].pk].consensus_confidence == pytest.approx(2 / 3)
    assert stored[items[2].pk].status == ItemStatus.NEEDS_REVIEW and not stored[items[2].pk].is_label_issue
    assert [stored[item.pk].status for item in (items[0], items[1], items[3])] == [ItemStatus.LABELLED] * 3
    assert result["moved_to_review"] == 1 and report.n_routed_to_review == 1
    # and annotator a0 matched consensus on 3 of 4 items, a2 on 1 of 4
    quality = {row.user_id: row for row in AnnotatorQuality.objects.filter(report=report)}
    assert quality[annotators[0].pk].agreement_with_consensus == pytest.approx(3 / 4)
    assert quality[annotators[2].pk].agreement_with_consensus == pytest.approx(1 / 4)
    # rows: consensus pos, neg, neutral; columns: what a2 said (neg on i0, neg + neutral on i1/i2, pos on i3)
    assert quality[annotators[2].pk].confusion == [[0, 1, 0], [0, 1, 1], [1, 0, 0]]


def test_rerunning_the_same_job_stores_identical_results_without_duplicates():
    # Given a stored run (with bootstrap intervals)
    project, _, _ = votes_project(make_project, VOTES)
    job = _job(project)
    _run(job)
    first = QualityReport.objects.get(job=job)
    first_items = sorted(
        ItemQuality.objects.filter(report=first).values_list(
            "item_id", "consensus_label", "confidence", "is_tie", "is_issue", "reasons", "severity"
        )
    )
    first_annotators = sorted(
        AnnotatorQuality.objects.filter(report=first).values_list(
            "user_id", "n_annotations", "agreement_with_consensus", "quality_score", "confusion"
        )
    )
    # When the same job runs again (a redelivered task)
    _run(job)
    # Then there is still one report with the same content and the same rows
    assert QualityReport.objects.filter(project=project).count() == 1
    second = QualityReport.objects.get(job=job)
    skip = {"id", "created_at"}
    fields = [f.attname for f in QualityReport._meta.concrete_fields if f.attname not in skip]
    assert {f: getattr(second, f) for f in fields} == {f: getattr(first, f) for f in fields}
    assert first.krippendorff_alpha_ci_low is not None
    assert ItemQuality.objects.count() == 4 and AnnotatorQuality.objects.count() == 3
    assert (
        sorted(
            ItemQuality.objects.filter(report=second).values_list(
                "item_id", "consensus_label", "confidence", "is_tie", "is_issue", "reasons", "severity"
            )
        )
        == first_items
    )
    assert (
        sorted(
            AnnotatorQuality.objects.filter(report=second).values_list(
                "user_id", "n_annotations", "agreement_with_consensus", "quality_score", "confusion"
            )
        )
        == first_annotators
    )


def test_an_accepted_item_gets_its_reasons_but_keeps_its_status():
    # Given the tied item was already accepted by a reviewer
    project, items, _ = votes_project(make_project, VOTES, consensus_method="majority_vote")
    Item.objects.filter(pk=items[2].pk).update(status=ItemStatus.ACCEPTED)
    # When the run executes
    result = _run(_job(project, n_boot=0))
    # Then its reasons are recorded but it is not moved back to review
    item = Item.objects.get(pk=items[2].pk)
    assert "annotators_split" in item.issue_kinds and item.status == ItemStatus.ACCEPTED
    assert result["moved_to_review"] == 0


def test_auto_method_uses_dawid_skene_without_model_probabilities_and_crowdlab_with_them():
    # Given a project on "auto" with no model probabilities
    project, items, _ = votes_project(make_project, VOTES * 3)
    job = _job(project, n_boot=0)
    _run(job)
    report = QualityReport.objects.get(job=job)
    assert report.consensus_method == "dawid_skene"
    assert report.consensus_params["user_ids"] and len(report.consensus_params["confusion"]) == 3
    # When every labelled item gets model probabilities
    for item in items:
        Item.objects.filter(pk=item.pk).update(predicted_probs={"pos": 0.6, "neg": 0.3, "neutral": 0.1})
    second = _job(project, n_boot=0)
    _run(second)
    # Then CROWDLAB runs and the model's accuracy is reported
    report = QualityReport.objects.get(job=second)
    assert report.consensus_method == "crowdlab"
    assert report.model_accuracy is not None


def test_quality_run_on_a_project_without_annotations_fails_with_a_reason():
    project = make_project()
    with pytest.raises(ValueError, match="no labelled annotations"):
        _run(_job(project))


def test_multi_label_project_gets_per_label_consensus():
    # Given a multi-label project: two of three annotators say {cat}, one {cat, dog}
    project, items, annotators = votes_project(
        make_project,
        [[["cat"], ["cat"], ["cat", "dog"]]],
        labels=("cat", "dog"),
        multi_label=True,
        consensus_method="majority_vote",
    )
    job = _job(project, n_boot=0)
    _run(job)
    # Then the consensus is the set of labels most annotators flagged
    item = Item.objects.get(pk=items[0].pk)
    assert item.consensus_label == ["cat"]
    assert item.consensus_confidence == pytest.approx(2 / 3)
    assert QualityReport.objects.get(job=job).hlp is None
    # and leave-one-out agreement is per label against the others' majority, others' ties not counted:
    # the first two agree on "cat" ("dog" ties 1–1 among their others); the third agrees on "cat" and not on
    # "dog" (both others left it out) → 1/2
    rows = {row.user_id: row for row in AnnotatorQuality.objects.filter(report__job=job)}
    assert [rows[user.pk].agreement_with_others for user in annotators] == [1.0, 1.0, 0.5]


def test_items_relabelled_while_the_run_computed_keep_their_fresher_consensus():
    from django.utils import timezone

    from quality.adapters import project_data_load
    from quality.services.engine import run_quality
    from tests.factories import add_member
    from tests.quality.vote_builders import annotate

    # Given a run that read the project while item 0 stood at pos, pos, neg
    project, items, _ = votes_project(make_project, VOTES, consensus_method="majority_vote", k=5)
    job = _job(project, n_boot=0)
    snapshot_at = timezone.now()
    outcome = run_quality(
        data=project_data_load(project=project),
        requested_method="majority_vote",
        review_threshold=0.6,
        route_profile_flags=True,
        n_boot=0,
    )
    # When two more neg votes arrive and the per-item hook recomputes item 0 before the run stores
    for _ in range(2):
        annotate(project, items[0], add_member(project), "neg")
    services.item_consensus_update(project_id=project.pk, item_id=items[0].pk)
    services.quality_results_store(job=job, outcome=outcome, snapshot_at=snapshot_at)
    # Then item 0 keeps the fresher neg (3 of 5), the others take the run's values
    assert Item.objects.get(pk=items[0].pk).consensus_label == "neg"
    assert Item.objects.get(pk=items[0].pk).consensus_confidence == pytest.approx(3 / 5)
    assert Item.objects.get(pk=items[3].pk).consensus_label == "neutral"
    assert ItemQuality.objects.get(item=items[0]).consensus_label == "pos"  # what the run saw


def test_routed_to_review_counts_what_the_run_put_in_the_review_queue():
    # Given two three-way splits (each a reason to look) and one unanimous item; the second split is still
    # gathering votes (in progress, its target raised to 4), so it cannot be moved to review
    project, items, _ = votes_project(
        make_project,
        [["pos", "neg", "neutral"], ["neg", "pos", "neutral"], ["pos", "pos", "pos"]],
        consensus_method="majority_vote",
    )
    Item.objects.filter(pk=items[1].pk).update(status=ItemStatus.IN_PROGRESS, target_annotations=4)
    job = _job(project, n_boot=0)
    # When the quality run executes
    _run(job)
    # Then the report's "routed to review" is the one split the reviewer finds in the queue, not both
    report = QualityReport.objects.get(job=job)
    assert Item.objects.get(pk=items[0].pk).status == ItemStatus.NEEDS_REVIEW
    assert Item.objects.get(pk=items[1].pk).status == ItemStatus.IN_PROGRESS
    assert report.n_routed_to_review == 1
    assert report.n_routed_to_review <= review_queue_total(project=project)
