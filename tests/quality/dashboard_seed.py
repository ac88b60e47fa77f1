"""A seeded project for the dashboard tests and bench: items, tags, flags, annotations, review decisions, quality
reports, model versions and import batches, written with ``bulk_create`` in chunks (any database).

Everything is drawn from one seeded generator, so a size gives the same project every time. The generator's
choices are returned (``Seeded``) so tests can compare the dashboard with figures computed here by hand.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from activelearning.job_kinds import TRAIN_JOB
from activelearning.models import ModelVersion
from annotation.models import Annotation, Item, ItemTag, Label, Membership, Project, Role
from core.models import Job, JobStatus
from ingress.job_kinds import IMPORT_JOB
from ingress.models import ImportBatch
from quality.job_kinds import QUALITY_JOB
from quality.models import AnnotatorQuality, QualityReport, ReviewDecision

LABELS = ("cat", "dog", "bird", "fish", "other")
LABEL_SHARE = (0.5, 0.25, 0.15, 0.07, 0.03)
STATUSES = ("new", "in_progress", "labelled", "needs_review", "accepted", "discarded")
STATUS_SHARE = (0.55, 0.05, 0.15, 0.05, 0.17, 0.03)
TAGS = {"clean": 0.5, "indoor": 0.3, "night": 0.1, "rain": 0.05}
FLAGS = {"blurry": 0.01, "dark": 0.005, "corrupt": 0.003}
ISSUE_KINDS = ("model_disagrees", "low_consensus_confidence", "annotators_split", "near_duplicate_conflict")
DISCARD_REASONS = ("blurry photo", "not an animal", "duplicate")
CHUNK = 5000


@dataclass
class Seeded:
    project: Project
    manager: object
    reviewer: object
    annotator: object
    annotators: list = field(default_factory=list)
    n_items: int = 0
    status_counts: dict = field(default_factory=dict)
    n_annotations: int = 0
    n_issues: int = 0
    flag_counts: dict = field(default_factory=dict)
    discard_reasons: dict = field(default_factory=dict)
    items_per_day: dict = field(default_factory=dict)
    annotations_per_day: dict = field(default_factory=dict)


@contextlib.contextmanager
def _manual_timestamps(*models):
    """Let bulk_create keep the given ``created_at`` (auto_now_add would overwrite it) while seeding."""
    fields = [model._meta.get_field("created_at") for model in models]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def bulk_insert(model, objects) -> None:
    """The default writer for the large tables (items, tags, annotations, decisions)."""
    for start in range(0, len(objects), CHUNK):
        model.objects.bulk_create(objects[start : start + CHUNK], batch_size=CHUNK)


def _day(ts: datetime) -> str:
    return ts.date().isoformat()


def _report_fields(rng, index: int, n_reports: int, labels, n_items: int) -> dict:
    alpha = 0.45 + 0.3 * index / max(n_reports - 1, 1)
    per_label = {
        value: {
            "n_consensus": int(n_items * share),
            "krippendorff_alpha": alpha - 0.05 * c,
            "krippendorff_alpha_ci": [alpha - 0.05 * c - 0.04, alpha - 0.05 * c + 0.04],
            "fleiss_kappa": alpha - 0.05 * c - 0.01,
            "fleiss_kappa_ci": [alpha - 0.05 * c - 0.05, alpha - 0.05 * c + 0.03],
            "percent_agreement": 0.8,
            "hlp": 0.9 - 0.03 * c,
            "hlp_ci": [0.88 - 0.03 * c, 0.92 - 0.03 * c],
            "hlp_n": 300,
            "model_accuracy": 0.85 - 0.05 * c,
        }
        for c, (value, share) in enumerate(zip(labels, LABEL_SHARE, strict=True))
    }
    per_tag = {
        tag: {
            "n_items": int(n_items * share),
            "hlp": 0.9 - 0.1 * t,
            "hlp_ci": [0.87 - 0.1 * t, 0.93 - 0.1 * t],
            "hlp_n": 200,
            "model_accuracy": 0.88 - 0.15 * t,
        }
        for t, (tag, share) in enumerate(TAGS.items())
    }
    per_version = {
        str(v): {
            "n_annotations": 1000 * v,
            "percent_agreement": 0.7 + 0.05 * v,
            "krippendorff_alpha": 0.5 + 0.08 * v,
            "fleiss_kappa": 0.49 + 0.08 * v,
            "hlp": 0.8 + 0.04 * v,
            "hlp_ci": [0.78 + 0.04 * v, 0.82 + 0.04 * v],
        }
        for v in (1, 2, 3)
    }
    errors = []
    for t, (tag, share) in enumerate(TAGS.items()):
        gap = 100 * ((0.9 - 0.1 * t) - (0.88 - 0.15 * t))
        errors.append(
            {
                "tag": tag,
                "n_items": int(n_items * share),
                "share_of_data": share,
                "share_of_errors": share,
                "model_error_rate": 0.12 + 0.15 * t,
                "model_accuracy": 0.88 - 0.15 * t,
                "hlp": 0.9 - 0.1 * t,
                "gap": gap,
                "potential_gain": gap * share,
                "reading": f"`{tag}`: {100 * share:.0f} % of data, gap {gap:.1f} points → at most {gap * share:.2f} points overall",
            }
        )
    errors.sort(key=lambda row: -row["potential_gain"])
    return {
        "consensus_method": "dawid_skene",
        "n_items": n_items,
        "n_annotations": 3 * n_items,
        "n_annotators": 12,
        "n_boot": 50,
        "krippendorff_alpha": alpha,
        "krippendorff_alpha_ci_low": alpha - 0.03,
        "krippendorff_alpha_ci_high": alpha + 0.03,
        "fleiss_kappa": alpha - 0.02,
        "fleiss_kappa_ci_low": alpha - 0.05,
        "fleiss_kappa_ci_high": alpha + 0.01,
        "mean_pairwise_cohen_kappa": alpha - 0.01,
        "percent_agreement": 0.8,
        "hlp": 0.86,
        "hlp_ci_low": 0.84,
        "hlp_ci_high": 0.88,
        "model_accuracy": 0.8,
        "n_issues": int(rng.integers(0, 100)),
        "per_label": per_label,
        "per_tag": per_tag,
        "per_guideline_version": per_version,
        "error_analysis": errors,
    }


def seed_project(
    *,
    n_items: int,
    days: int = 60,
    n_annotators: int = 12,
    n_batches: int = 8,
    n_reports: int = 12,
    n_model_versions: int = 4,
    seed: int = 0,
    name: str = "Dashboard seed",
    writer: Callable = bulk_insert,
) -> Seeded:
    """Create a project of ``n_items`` items with everything the dashboard reads. Returns what was drawn.

    ``writer(model, objects)`` stores the large tables; it need not set primary keys (the bench passes a COPY
    writer for the 1,000,000-item project)."""
    rng = np.random.default_rng(seed)
    user_model = get_user_model()
    now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days - 1)
    with (
        transaction.atomic(),
        _manual_timestamps(Item, Annotation, ReviewDecision, QualityReport, ModelVersion, ImportBatch),
    ):
        suffix = uuid.uuid4().hex[:5]  # unique names when one seed is used twice in a database
        tag = f"s{seed}n{n_items}-{suffix}"
        users = user_model.objects.bulk_create(
            [
                user_model(username=f"{role}{i}-{suffix}", password="!")
                for role, count in (("manager", 1), ("reviewer", 1), ("annotator", n_annotators))
                for i in range(count)
            ]
        )
        manager, reviewer, annotators = users[0], users[1], users[2:]
        project = Project.objects.create(
            name=name, task_type="text_classification", created_by=manager, created_at=start
        )
        Label.objects.bulk_create([Label(project=project, value=v, order=i) for i, v in enumerate(LABELS)])
        Membership.objects.bulk_create(
            [
                Membership(user=manager, project=project, role=Role.MANAGER),
                Membership(user=reviewer, project=project, role=Role.REVIEWER),
            ]
            + [Membership(user=u, project=project, role=Role.ANNOTATOR) for u in annotators]
        )
        seeded = Seeded(
            project=project,
            manager=manager,
            reviewer=reviewer,
            annotator=annotators[0],
            annotators=list(annotators),
            n_items=n_items,
        )

        # Import batches on distinct days, one import job each, items split evenly between them in id order and
        # created on their batch's day.
        batches, jobs = [], []
        bounds = np.linspace(0, n_items, n_batches + 1).astype(int)
        batch_day = np.linspace(0, days - 1, n_batches).astype(int)
        for b in range(n_batches):
            job = Job(
                kind=IMPORT_JOB,
                task_name="annotation.import",
                project=project,
                status=JobStatus.SUCCEEDED,
                progress=1.0,
                result={
                    "batch": b + 1,
                    "near_duplicates": {"groups": b, "items_in_groups": 2 * b, "exact_duplicates": b},
                },
            )
            jobs.append(job)
        Job.objects.bulk_create(jobs)
        item_status = rng.choice(len(STATUSES), size=n_items, p=STATUS_SHARE)
        flag_draw = rng.random((n_items, len(FLAGS))) < np.array(list(FLAGS.values()))
        item_flags = [[flag for f, flag in enumerate(FLAGS) if row[f]] for row in flag_draw]
        for b in range(n_batches):
            members = slice(bounds[b], bounds[b + 1])
            counts: dict[str, int] = {}
            for flags in item_flags[members]:
                for flag in flags:
                    counts[flag] = counts.get(flag, 0) + 1
            drift = (
                []
                if b < n_batches - 1 or b == 0
                else [
                    {
                        "field": "length",
                        "test": "ks",
                        "statistic": 0.3,
                        "p_value": 1e-6,
                        "effect": 0.3,
                        "sentence": f"Batch {b + 1}: text length is longer than before (median 210 vs 120 characters).",
                    }
                ]
            )
            batches.append(
                ImportBatch(
                    project=project,
                    number=b + 1,
                    source=f"upload-{b + 1}.csv",
                    n_created=int(bounds[b + 1] - bounds[b]),
                    created_at=start + timedelta(days=int(batch_day[b])),
                    n_duplicates=b,
                    n_errors=b % 3,
                    job=jobs[b],
                    drift=drift,
                    profile_summary={
                        "n_items": int(bounds[b + 1] - bounds[b]),
                        "flags": counts,
                        "numeric": {
                            "length": {
                                "n": int(bounds[b + 1] - bounds[b]),
                                "mean": 120.0 + 10 * b,
                                "std": 30.0,
                                "min": 3,
                                "max": 900,
                                "p5": 40,
                                "p50": 110 + 10 * b,
                                "p95": 260,
                            }
                        },
                        "categorical": {},
                    },
                )
            )
        ImportBatch.objects.bulk_create(batches)
        batch_of = np.repeat(np.arange(n_batches), np.diff(bounds))

        day_of = batch_day[batch_of]
        label_idx = rng.choice(len(LABELS), size=n_items, p=LABEL_SHARE)
        annotated = item_status >= 1
        labelled = item_status >= 2
        issue = labelled & (rng.random(n_items) < np.where(item_status == 3, 0.4, 0.03))
        tag_draw = rng.random((n_items, len(TAGS)))
        tag_names = list(TAGS)
        item_tags = [
            [tag_names[t] for t in range(len(TAGS)) if row[t] < TAGS[tag_names[t]]] for row in tag_draw
        ]
        kinds_draw = rng.random((n_items, len(ISSUE_KINDS)))
        items = []
        for i in range(n_items):
            status = STATUSES[item_status[i]]
            consensus = LABELS[label_idx[i]] if labelled[i] else None
            kinds = [k for j, k in enumerate(ISSUE_KINDS) if kinds_draw[i, j] < 0.4] or [ISSUE_KINDS[0]]
            items.append(
                Item(
                    project=project,
                    external_id=f"{tag}-{i}",
                    text=f"item {i}",
                    sha256=f"{seed:08x}{i:056x}",
                    tags=item_tags[i],
                    flags=item_flags[i],
                    status=status,
                    batch=batches[batch_of[i]],
                    created_at=start + timedelta(days=int(day_of[i]), minutes=int(i % 600)),
                    annotation_count=3 if labelled[i] else int(annotated[i]),
                    consensus_label=consensus,
                    consensus_confidence=0.9 if consensus else None,
                    final_label=consensus if status == "accepted" else None,
                    is_label_issue=bool(issue[i]),
                    issue_kinds=kinds if issue[i] else [],
                    issue_severity=float(kinds_draw[i, 0]) if issue[i] else 0.0,
                    predicted_label=LABELS[(label_idx[i] + (i % 7 == 0)) % len(LABELS)]
                    if labelled[i]
                    else None,
                )
            )
        writer(Item, items)
        ids = np.fromiter(
            Item.objects.filter(project=project).order_by("id").values_list("id", flat=True),
            dtype=np.int64,
            count=n_items,
        )
        del items
        writer(
            ItemTag,
            [
                ItemTag(project=project, item_id=int(ids[i]), tag=t)
                for i in range(n_items)
                for t in item_tags[i]
            ],
        )

        # Annotations: 3 per labelled item, 1 per in-progress item, up to two weeks after the item arrived.
        annotations = []
        annotator_ids = [u.pk for u in annotators]
        n_per = np.where(labelled, 3, annotated.astype(int))
        lag = rng.integers(0, 14, size=(n_items, 3))
        who = np.argsort(rng.random((n_items, n_annotators)), axis=1)[:, :3]
        for i in np.flatnonzero(n_per):
            for j in range(n_per[i]):
                day = int(day_of[i] + lag[i, j] % (days - day_of[i]))
                ts = start + timedelta(days=day, minutes=int((i + j) % 600))
                annotations.append(
                    Annotation(
                        project=project,
                        item_id=int(ids[i]),
                        annotator_id=annotator_ids[who[i, j]],
                        labels=[LABELS[label_idx[i]]],
                        lead_time_ms=1000 + int(i % 9000),
                        guideline_version=1,
                        created_at=ts,
                    )
                )
                seeded.annotations_per_day[_day(ts)] = seeded.annotations_per_day.get(_day(ts), 0) + 1
        seeded.n_annotations = len(annotations)
        writer(Annotation, annotations)
        del annotations

        # Current review decisions for accepted and discarded items.
        decisions = []
        for i in np.flatnonzero(item_status >= 4):
            discard = item_status[i] == 5
            reason = DISCARD_REASONS[i % len(DISCARD_REASONS)] if discard else ""
            decisions.append(
                ReviewDecision(
                    project=project,
                    item_id=int(ids[i]),
                    reviewer=reviewer,
                    action="discard" if discard else "accept",
                    label=None if discard else LABELS[label_idx[i]],
                    reason=reason,
                    previous_status="needs_review",
                    created_at=start + timedelta(days=min(int(day_of[i]) + 5, days - 1)),
                )
            )
            if discard:
                seeded.discard_reasons[reason] = seeded.discard_reasons.get(reason, 0) + 1
        writer(ReviewDecision, decisions)
        del decisions

        # Quality reports over time; annotator rows for the newest.
        report_jobs = [
            Job(
                kind=QUALITY_JOB,
                task_name="quality.run",
                project=project,
                status=JobStatus.SUCCEEDED,
                progress=1.0,
            )
            for _ in range(n_reports)
        ]
        Job.objects.bulk_create(report_jobs)
        reports = [
            QualityReport(
                project=project,
                job=report_jobs[r],
                created_at=start + timedelta(days=(days - 1) * (r + 1) / n_reports),
                **_report_fields(rng, r, n_reports, LABELS, int(labelled.sum())),
            )
            for r in range(n_reports)
        ]
        QualityReport.objects.bulk_create(reports)
        if reports:
            k = len(LABELS)
            AnnotatorQuality.objects.bulk_create(
                [
                    AnnotatorQuality(
                        report=reports[-1],
                        user=u,
                        n_annotations=100 + 10 * a,
                        agreement_with_consensus=0.7 + 0.02 * a,
                        quality_score=0.8,
                        median_lead_time_s=4.0 + a,
                        confusion=[
                            [(10 + a if r == c else 1 + (r + c + a) % 3) for c in range(k)] for r in range(k)
                        ],
                    )
                    for a, u in enumerate(annotators)
                ]
            )

        # Model versions with curves, projections and stability.
        model_jobs = [
            Job(
                kind=TRAIN_JOB,
                task_name="activelearning.train",
                project=project,
                status=JobStatus.SUCCEEDED,
                progress=1.0,
            )
            for _ in range(n_model_versions)
        ]
        Job.objects.bulk_create(model_jobs)
        versions = []
        for v in range(n_model_versions):
            n_train = 200 * (v + 1)
            curve = [{"n": n, "accuracy": 0.5 + 0.1 * np.log10(n)} for n in (20, 50, 100, 200 * (v + 1))]
            versions.append(
                ModelVersion(
                    project=project,
                    job=model_jobs[v],
                    version=v + 1,
                    extractor="tfidf:1",
                    extractor_name="tfidf",
                    extractor_version="1",
                    strategy="margin" if v < n_model_versions - 1 else "entropy",
                    label_values=list(LABELS),
                    n_train=n_train,
                    cv_accuracy=curve[-1]["accuracy"],
                    learning_curve=curve,
                    # The shape training stores (activelearning/services/training.py), so the model API serves it.
                    projection={
                        "method": "power_law",
                        "a": 0.6,
                        "b": 0.3,
                        "c": 0.1,
                        "points": [
                            {
                                "factor": f,
                                "n": int(f * n_train),
                                "accuracy": min(0.99, curve[-1]["accuracy"] + 0.02 * f),
                            }
                            for f in (2, 5, 10)
                        ],
                    },
                    stability=None
                    if v == 0
                    else {
                        "changed_share": 0.2 / (v + 1),
                        "kappa_vs_previous": 0.7 + 0.05 * v,
                        "n_items": 1000,
                    },
                    summary=f"Model v{v + 1}: keep labelling.",
                    worth_labelling=True,
                    created_at=start + timedelta(days=(days - 1) * (v + 1) / n_model_versions),
                )
            )
        ModelVersion.objects.bulk_create(versions)

    seeded.status_counts = {status: int((item_status == s).sum()) for s, status in enumerate(STATUSES)}
    seeded.n_issues = int(issue.sum())
    for flags in item_flags:
        for flag in flags:
            seeded.flag_counts[flag] = seeded.flag_counts.get(flag, 0) + 1
    for d in day_of.tolist():
        key = (start + timedelta(days=d)).date().isoformat()
        seeded.items_per_day[key] = seeded.items_per_day.get(key, 0) + 1
    return seeded
