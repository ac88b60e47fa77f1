"""Writes: requesting a freeze and freezing a dataset version.

A freeze reads everything from one database snapshot (REPEATABLE READ on PostgreSQL; SQLite's single writer
transaction is serialisable) and writes the version, its entries and new split assignments in that same
transaction, so a quality run writing meanwhile is either wholly before or wholly after it, and an interrupted
freeze leaves nothing behind. Freezes of one project are serialised with an advisory lock taken *before* the
snapshot, so the second sees the first's version as its parent.
"""

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from itertools import islice

from django.db import DatabaseError, connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from annotation import selectors as annotation_selectors
from annotation.models import Annotation, Project
from core.errors import ValidationFailed
from core.jobs import job_create
from core.models import Job
from datasets import selectors, upstream
from datasets.bulkcopy import insert_rows
from datasets.exporters import canonical_json, entry_line
from datasets.job_kinds import FREEZE_JOB
from datasets.labelschema import ProjectLabel
from datasets.models import DatasetEntry, DatasetVersion, LabelSource, SplitAssignment
from datasets.policy import FreezePolicy, policy_from_params
from datasets.splits import SPLIT_NAMES, assign_splits
from datasets.sql import JoinedIds
from kinds.registry import kind_for

logger = logging.getLogger(__name__)

FREEZE_TASK = "datasets.freeze"
FREEZE_CHUNK = 5000
ADVISORY_NAMESPACE = 7_001  # first key of pg_advisory_lock(int, int): "dataset freeze", second: project id
ENTRY_COLUMNS = [
    "version_id",
    "item_id",
    "external_id",
    "label",
    "label_source",
    "split",
    "confidence",
    "content_sha256",
    "annotation_ids",
    "decision_id",
    "guideline_version",
    "line",
]
NO_LABEL_KEY = "(none)"


def dataset_freeze_request(*, project: Project, user, params: dict) -> Job:
    """Validate a freeze request and create its job (enqueued on commit). Raises ValidationFailed."""
    policy = policy_from_params(params)
    name = params.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        raise ValidationFailed("name must be text of at most 200 characters.", field="name")
    with transaction.atomic():
        return job_create(
            kind=FREEZE_JOB,
            task_name=FREEZE_TASK,
            project=project,
            user=user,
            params={"policy": policy.as_dict(), "name": name.strip()},
        )


@contextmanager
def _snapshot_transaction(*, project_id: int) -> Iterator[None]:
    if connection.vendor != "postgresql":
        with transaction.atomic():
            yield
        return
    if connection.in_atomic_block:
        # Inside a caller's transaction (scripts, tests) the snapshot is the caller's; still serialise.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, project_id])
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, project_id])
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield
    finally:
        # A broken connection has dropped the session lock already.
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, project_id])


def dataset_version_freeze(
    *,
    project: Project,
    policy: FreezePolicy,
    name: str = "",
    job_id=None,
    user_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> DatasetVersion:
    """Freeze the items the policy selects into a new immutable version; returns it.

    Idempotent per job: a redelivered job returns the version its first run made.
    """
    if job_id is not None and (done := DatasetVersion.objects.filter(job_id=job_id).first()) is not None:
        return done
    if progress:
        progress(0.05, "Freezing a consistent snapshot of the project")
    started = time.monotonic()
    with _snapshot_transaction(project_id=project.pk):
        if job_id is not None and (done := DatasetVersion.objects.filter(job_id=job_id).first()) is not None:
            return done
        version = _freeze(project=project, policy=policy, name=name, job_id=job_id, user_id=user_id)
    logger.info("froze %s with %d entries in %.1fs", version, version.n_entries, time.monotonic() - started)
    return version


def _label_values(label: object) -> list[str]:
    if isinstance(label, list):
        # A structured answer (spans, boxes) is a list of parts each naming its label: count the labels.
        return [
            str(value["label"]) if isinstance(value, dict) and "label" in value else str(value)
            for value in label
        ] or [NO_LABEL_KEY]
    return [str(label)]


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _Decoded(dict):
    """JSON text → value, decoded once per distinct text (labels and tag lists repeat across rows)."""

    def __missing__(self, text: str) -> object:
        value = json.loads(text)
        if len(self) < 100_000:
            self[text] = value
        return value


def _freeze(
    *, project: Project, policy: FreezePolicy, name: str, job_id, user_id: int | None
) -> DatasetVersion:
    parent = selectors.version_latest(project=project)
    guideline = annotation_selectors.guideline_latest(project=project)
    # JSON columns are read as text: they go into the entry and its line as they are, and only distinct
    # labels are decoded (for the counts). Django's per-row JSON converters would dominate a large freeze.
    has_splits = SplitAssignment.objects.filter(project=project).exists()
    selected = selectors.items_selected(project=project, policy=policy).annotate(
        # A correlated subquery per item costs; on a project's first freeze there is nothing to look up.
        kept_split=(
            Subquery(SplitAssignment.objects.filter(project=project, item=OuterRef("pk")).values("split")[:1])
            if has_splits
            else Value(None, output_field=CharField())
        ),
        label_text=Coalesce(Cast("final_label", TextField()), Cast("consensus_label", TextField())),
        metadata_text=Cast("metadata", TextField()),
        tags_text=Cast("tags", TextField()),
        reviewed=ExpressionWrapper(Q(final_label__isnull=False), output_field=BooleanField()),
    )
    # Pass 1: labels and existing splits only, to stratify the newcomers.
    existing: dict[str, Counter] = defaultdict(Counter)
    newcomers: dict[str, list[int]] = defaultdict(list)
    for item_id, label_text, kept_split in selected.values_list("id", "label_text", "kept_split").iterator(
        chunk_size=FREEZE_CHUNK
    ):
        if kept_split:
            existing[label_text][kept_split] += 1
        else:
            newcomers[label_text].append(item_id)
    assigned = assign_splits(
        new_items=newcomers, existing_counts=existing, ratios=policy.splits, seed=policy.seed
    )
    del newcomers, existing

    version = DatasetVersion.objects.create(
        project=project,
        number=(parent.number + 1) if parent else 1,
        name=name,
        parent=parent,
        job_id=job_id,
        created_by_id=user_id,
        policy=policy.as_dict(),
        guideline_version=guideline.version if guideline else None,
        metrics=upstream.quality_figures(project=project),
    )
    # Pass 2: entries (with their export line), lineage, counts and the checksum, in item id order.
    decision = upstream.latest_decision_subquery(project=project)
    rows = selected.annotate(
        decision_id=decision if decision is not None else Value(None, output_field=BigIntegerField()),
    ).values_list(
        "id",
        "external_id",
        "label_text",
        "reviewed",
        "consensus_confidence",
        "metadata_text",
        "tags_text",
        "sha256",
        "text",
        "file",
        "kept_split",
        "decision_id",
    )
    lineage = _annotation_lineage(project=project)
    current = next(lineage)
    # A kind may shape its rows (boxes carry ``boxes``, not ``label``); the stored line stays the canonical JSONL.
    entry_row = getattr(kind_for(project).export_part, "entry_row", None)
    ids_sorted_in_sql = connection.vendor == "postgresql"
    digest = hashlib.sha256()
    counts: Counter = Counter()  # (split, label JSON text) → entries
    kept = 0
    for chunk in _chunks(rows.iterator(chunk_size=FREEZE_CHUNK), FREEZE_CHUNK):
        entries, assignments, lines = [], [], []
        for (
            item_id,
            external_id,
            label_text,
            reviewed,
            confidence,
            metadata,
            tags,
            sha,
            text,
            file,
            kept_split,
            decision_id,
        ) in chunk:
            while current[0] < item_id:
                current = next(lineage)
            annotation_ids, annotation_guideline = (
                (current[1], current[2]) if current[0] == item_id else (None, None)
            )
            split = kept_split or assigned[item_id]
            if kept_split:
                kept += 1
            else:
                assignments.append((project.pk, item_id, split, version.pk))
            # A reviewer's decision is the most trusted label there is; consensus keeps its own confidence.
            confidence = 1.0 if reviewed else confidence
            if annotation_ids and not ids_sorted_in_sql:
                annotation_ids = ",".join(sorted(annotation_ids.split(","), key=int))
            line = entry_line(
                item_id=item_id,
                external_id=external_id,
                label_json=label_text,
                split=split,
                confidence=confidence,
                metadata_json=metadata,
                tags_json=tags,
                sha256=sha,
                text=text,
                has_file=bool(file),
            )
            if entry_row is not None:
                line = canonical_json(entry_row(json.loads(line))) + "\n"
            lines.append(line)
            entries.append(
                (
                    version.pk,
                    item_id,
                    external_id,
                    label_text,
                    LabelSource.REVIEW if reviewed else LabelSource.CONSENSUS,
                    split,
                    confidence,
                    sha,
                    f"[{annotation_ids or ''}]",
                    decision_id,
                    annotation_guideline if annotation_guideline is not None else version.guideline_version,
                    line,
                )
            )
            counts[split, label_text] += 1
        digest.update("".join(lines).encode())
        insert_rows(model=DatasetEntry, columns=ENTRY_COLUMNS, rows=entries, json_as_text=True)
        if assignments:
            insert_rows(
                model=SplitAssignment,
                columns=["project_id", "item_id", "split", "first_version_id"],
                rows=assignments,
            )

    decoded = _Decoded()
    split_counts: Counter = Counter()
    label_counts: Counter = Counter()
    split_label: dict[str, Counter] = defaultdict(Counter)
    for (split, label_text), n in counts.items():
        split_counts[split] += n
        for value in _label_values(decoded[label_text]):
            label_counts[value] += n
            split_label[split][value] += n
    n_entries = sum(split_counts.values())
    preview = selectors.selection_preview(project=project, policy=policy)
    label_order = _label_order(project=project, seen=label_counts)
    version.n_entries = n_entries
    version.counts = {
        "entries": n_entries,
        "items_total": preview["total"],
        "excluded": preview["excluded"],
        "kept_split": kept,
        "newly_split": n_entries - kept,
    }
    version.split_counts = {split: split_counts.get(split, 0) for split in SPLIT_NAMES}
    version.label_distribution = {label: label_counts[label] for label in label_order}
    version.split_label_counts = {
        split: {label: split_label[split][label] for label in label_order if split_label[split][label]}
        for split in SPLIT_NAMES
    }
    version.label_schema = kind_for(project).export_part.label_schema(
        project=project,
        project_labels=[
            ProjectLabel(
                value=label.value,
                description=label.description,
                is_active=label.is_active,
                replaced_by=label.replaced_by,
            )
            for label in project.labels.order_by("order", "id")
        ],
        parent=parent.label_schema if parent else None,
        seen=[value for value in label_counts if value != NO_LABEL_KEY],
    )
    version.checksum = digest.hexdigest()
    # The only write to a version after its insert, in the same transaction; the database refuses any
    # content change once the checksum is set.
    version.save(
        update_fields=[
            "n_entries",
            "counts",
            "split_counts",
            "label_distribution",
            "split_label_counts",
            "label_schema",
            "checksum",
        ]
    )
    return version


def _annotation_lineage(*, project: Project) -> Iterator[tuple]:
    """``(item_id, "id,id,...", newest guideline version)`` of live annotations per item, by item id, then a
    sentinel. One grouped scan merged with the item stream: a correlated subquery per item was twice as slow."""
    rows = (
        Annotation.objects.filter(project=project, is_live=True)
        .order_by("item_id")
        .values("item_id")
        .annotate(ids=JoinedIds("id"), newest=Max("guideline_version"))
        .values_list("item_id", "ids", "newest")
    )
    yield from rows.iterator(chunk_size=FREEZE_CHUNK)
    yield (float("inf"), None, None)


def _label_order(*, project: Project, seen: Counter) -> list[str]:
    """The project's label order first, then any other value seen (e.g. a label renamed away)."""
    ordered = [
        value
        for value in project.labels.order_by("order", "id").values_list("value", flat=True)
        if value in seen
    ]
    return ordered + sorted(set(seen) - set(ordered))
