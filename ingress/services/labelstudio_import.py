"""Label Studio annotations and predictions → Labelgate annotations and item metadata, during an import.

Annotators are matched to users by e-mail (case-insensitive). An annotator with no account gets an inactive
one (no usable password, so nobody can log in as them until an admin activates and resets it) with an
annotator membership; an export that names annotators only by Label Studio user id (the quick export) gives
accounts named ``ls-user-<id>`` unless the import maps ids to e-mails. Each Label Studio annotation is stored
once: its id becomes the annotation's ``client_id`` (a UUID derived from the project and that id), so a
re-import of the same or a later export adds only annotations not seen before. When one annotator has several
annotations on a task, the later one (by Label Studio id) supersedes the earlier, as an edit in Labelgate
does. An annotation is skipped, with the reason in the report, when it was cancelled (skipped) in Label
Studio, has no choice for the control, uses a label the project does not have, has several labels in a
single-label project, or its annotator already labelled the item in Labelgate itself.

Predictions cannot go to ``activelearning.Prediction`` (one per item, written by the model trained here, in a
higher app): they are kept on the item as ``metadata["ls_predictions"]`` (``[{"id", "model_version",
"labels", "score"}]``), merged by prediction id on re-import, shown to reviewers with the metadata and hidden
from annotators (``annotation.blind``), and exported back to Label Studio as predictions.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.models import Annotation, Item, Project
from annotation.selectors import label_choices
from annotation.services.imported_annotations import (
    ImportedAnnotation,
    imported_annotations_store,
    imported_annotator_member_ensure,
    item_metadata_set,
)
from ingress.readers.labelstudio_parts import LsTask, prediction_metadata

_NAMESPACE = uuid.UUID("5b0c7d2e-61a4-4c52-9f0e-1a2b3c4d5e6f")
SKIP_SAMPLE = 200


def labelstudio_client_id(*, project_id: int, ls_annotation_id: str) -> uuid.UUID:
    """The ``client_id`` a Label Studio annotation is stored under (stable across imports of one project)."""
    return uuid.uuid5(_NAMESPACE, f"labelstudio:{project_id}:{ls_annotation_id}")


@dataclass
class LsImportReport:
    """What happened to a Label Studio export's annotations, annotators and predictions."""

    annotations_imported: int = 0
    annotations_already_imported: int = 0
    annotations_skipped: int = 0
    skipped_reasons: Counter = field(default_factory=Counter)
    skipped: list[dict] = field(default_factory=list)
    per_annotator: Counter = field(default_factory=Counter)
    annotators: dict[str, dict] = field(default_factory=dict)
    predictions_kept: Counter = field(default_factory=Counter)
    predictions_already_kept: int = 0
    predictions_without_choice: int = 0
    predictions_ids_only: int = 0
    records: int = 0
    tasks: int = 0
    tasks_merged: int = 0
    controls: Counter = field(default_factory=Counter)
    data_keys: Counter = field(default_factory=Counter)

    def skip(self, *, task: str, annotation: str, annotator: str, reason: str) -> None:
        self.annotations_skipped += 1
        self.skipped_reasons[reason] += 1
        if len(self.skipped) < SKIP_SAMPLE:
            self.skipped.append(
                {"task": task, "annotation": annotation, "annotator": annotator, "reason": reason}
            )

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "tasks": self.tasks,
            "tasks_merged_into_earlier_rows": self.tasks_merged,
            "controls": dict(self.controls),
            "data_keys": dict(self.data_keys),
            "annotations": {
                "imported": self.annotations_imported,
                "already_imported": self.annotations_already_imported,
                "skipped": self.annotations_skipped,
                "skipped_reasons": dict(self.skipped_reasons),
                "skipped_sample": self.skipped,
                "per_annotator": dict(self.per_annotator),
            },
            "annotators": self.annotators,
            "predictions": {
                "stored_as": "metadata.ls_predictions",
                "kept_per_model_version": dict(self.predictions_kept),
                "already_kept": self.predictions_already_kept,
                "without_choice": self.predictions_without_choice,
                "ids_only_not_imported": self.predictions_ids_only,
            },
        }


class LabelStudioMerger:
    """Per-import state (annotator accounts resolved so far, the report); ``merge`` is called once per chunk."""

    def __init__(self, *, project: Project) -> None:
        self.project = project
        self.report = LsImportReport()
        self.users: dict[str, int] = {}
        self.labels = label_choices(project=project)

    # -------------------------------------------------------------------------------------- annotators

    def _user_id(self, annotator: str) -> int:
        if annotator in self.users:
            return self.users[annotator]
        model = get_user_model()
        if annotator.startswith("ls-user:"):
            username, email = f"ls-user-{annotator.split(':', 1)[1]}"[:150], ""
            user = model.objects.filter(username=username).first()
        else:
            email = annotator
            user = model.objects.filter(email__iexact=email).order_by("-is_active", "id").first()
            username = _free_username(email.split("@")[0] or "annotator")
        created = user is None
        if created:
            user = model(username=username, email=email, is_active=False)
            user.set_unusable_password()
            user.save()
        imported_annotator_member_ensure(project=self.project, user_id=user.pk)
        self.report.annotators[annotator] = {
            "user_id": user.pk,
            "username": user.get_username(),
            "created_inactive": created,
            "matched_by": "created"
            if created
            else ("username" if annotator.startswith("ls-user:") else "email"),
        }
        self.users[annotator] = user.pk
        return user.pk

    # -------------------------------------------------------------------------------------- merging

    @transaction.atomic
    def merge(self, *, tasks: list[tuple[int, LsTask, bool]]) -> None:
        """Store the annotations and predictions of ``(item_id, task, item_is_new)`` triples (see module
        docstring). Preconditions: the items exist in ``self.project``."""
        report = self.report
        for _, task, _ in tasks:
            report.records += task.records
            report.tasks += 1
            report.predictions_ids_only += task.prediction_ids_only
            if task.control:
                report.controls[task.control] += 1
            if task.data_key:
                report.data_keys[task.data_key] += 1
        candidates = [
            (item_id, task, ann)
            for item_id, task, _ in tasks
            for ann in sorted(task.annotations, key=_ls_order)
        ]
        wanted = {
            labelstudio_client_id(project_id=self.project.pk, ls_annotation_id=ann.ls_id)
            for _, _, ann in candidates
        }
        stored = set(
            Annotation.objects.filter(project=self.project, client_id__in=wanted).values_list(
                "client_id", flat=True
            )
        )
        item_ids = {item_id for item_id, _, _ in tasks}
        live = {
            (row["item_id"], row["annotator_id"]): row
            for row in Annotation.objects.filter(item_id__in=item_ids, is_live=True).values(
                "id", "item_id", "annotator_id", "client_id"
            )
        }
        new_rows: list[ImportedAnnotation] = []
        superseded: list[int] = []
        touched: set[int] = set()
        for item_id, task, ann in candidates:
            client_id = labelstudio_client_id(project_id=self.project.pk, ls_annotation_id=ann.ls_id)
            if client_id in stored:
                report.annotations_already_imported += 1
                continue
            reason = self._problem(ann)
            if reason:
                report.skip(task=task.task_id, annotation=ann.ls_id, annotator=ann.annotator, reason=reason)
                continue
            user_id = self._user_id(ann.annotator)
            previous = live.get((item_id, user_id))
            if previous is not None and not _from_labelstudio(previous):
                report.skip(
                    task=task.task_id,
                    annotation=ann.ls_id,
                    annotator=ann.annotator,
                    reason="the annotator already labelled this item in Labelgate",
                )
                continue
            labels = sorted(set(ann.labels or ())) if self.project.multi_label else list(ann.labels or ())
            row = ImportedAnnotation(
                item_id=item_id,
                annotator_id=user_id,
                labels=labels,
                lead_time_ms=ann.lead_time_ms,
                client_id=client_id,
            )
            if previous is not None:
                if previous.get("pending") is not None:
                    previous["pending"].is_live = False
                else:
                    superseded.append(previous["id"])
                    row.supersedes_id = previous["id"]
            new_rows.append(row)
            live[(item_id, user_id)] = {"id": None, "client_id": client_id, "pending": row}
            stored.add(client_id)
            touched.add(item_id)
            report.annotations_imported += 1
            report.per_annotator[ann.annotator] += 1
        imported_annotations_store(
            project=self.project, rows=new_rows, superseded=superseded, touched=touched
        )
        self._predictions([(item_id, task, is_new) for item_id, task, is_new in tasks if task.predictions])

    def _problem(self, ann) -> str | None:
        if ann.cancelled:
            return "cancelled (skipped) in Label Studio"
        if not ann.labels:
            return "no choice of the labelling control"
        unknown = [value for value in ann.labels if value not in self.labels]
        if unknown:
            return f"label {unknown[0]!r} is not one of the project's labels"
        if not self.project.multi_label and len(set(ann.labels)) > 1:
            return "several labels in a single-label project"
        return None

    def _predictions(self, tasks: list[tuple[int, LsTask, bool]]) -> None:
        """Count the predictions of new items (stored with them) and merge those of existing items by id."""
        if not tasks:
            return
        existing = {
            pk: metadata
            for pk, metadata in Item.objects.filter(
                pk__in=[item_id for item_id, _, is_new in tasks if not is_new]
            ).values_list("pk", "metadata")
        }
        for item_id, task, is_new in tasks:
            kept = (
                {}
                if is_new
                else {
                    str(p.get("id")): p
                    for p in (existing.get(item_id) or {}).get("ls_predictions") or []
                    if isinstance(p, dict)
                }
            )
            changed = False
            for prediction in task.predictions:
                if not prediction.labels:
                    self.report.predictions_without_choice += 1
                if not is_new and prediction.ls_id in kept:
                    self.report.predictions_already_kept += 1
                    continue
                self.report.predictions_kept[prediction.model_version] += 1
                if not is_new:
                    kept[prediction.ls_id] = prediction_metadata(prediction)
                    changed = True
            if changed:
                metadata = dict(existing.get(item_id) or {})
                metadata["ls_predictions"] = list(kept.values())
                item_metadata_set(item_id=item_id, metadata=metadata)


def _ls_order(annotation) -> tuple[int, str]:
    return (int(annotation.ls_id), "") if annotation.ls_id.isdigit() else (1 << 62, annotation.ls_id)


def _from_labelstudio(row: dict) -> bool:
    """Whether a live annotation came from a Label Studio import: those alone carry name-based (version 5)
    client ids; the labelling page sends random ones."""
    client_id = row.get("client_id")
    return row.get("pending") is not None or isinstance(client_id, uuid.UUID) and client_id.version == 5


def _free_username(base: str) -> str:
    model = get_user_model()
    stem = re.sub(r"[^\w.@+-]", "_", base)[:140] or "annotator"
    candidate, n = stem, 1
    while model.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate
