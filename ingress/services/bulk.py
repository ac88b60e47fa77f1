"""Bulk JSON item creation: every row validated on its own, good rows land, bad rows are reported."""

import dataclasses
from dataclasses import dataclass

from django.db import transaction

from annotation.models import Project
from annotation.profile_thresholds import ProfileThresholds
from annotation.selectors import label_choices
from annotation.services import items as item_services
from annotation.services.item_create import NewItem, items_create
from core.errors import ValidationFailed
from ingress.profiling_hooks import thresholds_for
from ingress.readers.rows import contains_nul, nul_message
from ingress.services.batches import batch_open
from ingress.services.media_rows import MediaRowError, media_item_from_row
from ingress.services.near_duplicates import near_dup_refresh_schedule
from ingress.services.text_rows import text_item
from kinds.registry import item_media

MAX_ROWS = 10_000


@dataclass
class RowIssue:
    index: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class BulkResult:
    created: int = 0
    duplicates: int = 0
    errors: list[RowIssue] = dataclasses.field(default_factory=list)
    batch_id: int | None = None
    duplicate_ids: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "errors": [issue.as_dict() for issue in self.errors],
            "batch": self.batch_id,
        }


def item_bulk_create(
    *, project: Project, rows: object, source: str = "bulk API", refresh_duplicates: bool = False
) -> BulkResult:
    """Validate and insert rows of ``[{external_id, text?, metadata?, tags?, gold_label?}]``.

    Re-sending the same rows is idempotent: existing external ids count as duplicates. Media rows (file_b64,
    file_url) go through ``ingress.services.media_rows`` for image/audio projects. With
    ``refresh_duplicates``, creating items schedules a project-wide duplicate-group refresh job after commit
    (the API does; in-process seeding leaves it to the import or refresh that follows).
    Raises ValidationFailed when the body is not a list or is too long (nothing is stored then).
    """
    if not isinstance(rows, list):
        raise ValidationFailed("The body must be a JSON list of items.", field="non_field_errors")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            f"At most {MAX_ROWS} rows per bulk call; upload a file to /imports/ for more.",
            field="non_field_errors",
        )
    result = BulkResult()
    labels = label_choices(project=project)
    thresholds = thresholds_for(project)
    prepared: list[tuple[int, NewItem]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        item = _prepare_row(
            project=project, index=index, row=row, labels=labels, thresholds=thresholds, result=result
        )
        if item is None:
            continue
        if item.external_id in seen:
            result.duplicates += 1
            result.duplicate_ids.append(item.external_id)
            continue
        seen.add(item.external_id)
        prepared.append((index, item))
    existing = item_services.existing_external_ids(
        project=project, external_ids=[item.external_id for _, item in prepared]
    )
    fresh = [item for _, item in prepared if item.external_id not in existing]
    result.duplicates += len(prepared) - len(fresh)
    if fresh:
        with transaction.atomic():
            batch = batch_open(project=project, source=source)
            items_create(project=project, items=fresh, batch_id=batch.pk)
            batch.n_created = len(fresh)
            batch.n_duplicates = result.duplicates
            batch.n_errors = len(result.errors)
            batch.save(update_fields=["n_created", "n_duplicates", "n_errors"])
        result.batch_id = batch.number
        if refresh_duplicates:
            # A scan of the whole project: a job (shared by the calls that arrive before it starts), after commit.
            transaction.on_commit(lambda: near_dup_refresh_schedule(project=project))
    result.created = len(fresh)
    return result


def _prepare_row(
    *,
    project: Project,
    index: int,
    row: object,
    labels: set[str],
    thresholds: ProfileThresholds,
    result: BulkResult,
) -> NewItem | None:
    def fail(field: str, message: str) -> None:
        result.errors.append(RowIssue(index=index, field=field, message=message))

    if not isinstance(row, dict):
        fail("row", "Each row must be a JSON object.")
        return None
    # Without this check one such row made the whole call fail with a 500 on PostgreSQL (see contains_nul).
    for field in ("external_id", "text", "tags", "metadata", "gold_label"):
        if contains_nul(row.get(field)):
            fail(field, nul_message(field))
            return None
    external_id = row.get("external_id")
    if not isinstance(external_id, str | int) or not str(external_id).strip():
        fail("external_id", "external_id is required (a non-empty string).")
        return None
    external_id = str(external_id).strip()
    if len(external_id) > 255:
        fail("external_id", "external_id is longer than 255 characters.")
        return None
    metadata = row.get("metadata") or {}
    if not isinstance(metadata, dict):
        fail("metadata", "metadata must be a JSON object.")
        return None
    tags, tag_error = item_services.clean_tags(row.get("tags"))
    if tag_error:
        fail("tags", tag_error)
        return None
    gold, gold_error = item_services.gold_value(
        project=project, raw=row.get("gold_label"), label_values=labels, text=row.get("text")
    )
    if gold_error:
        fail("gold_label", gold_error)
        return None
    if item_media(project) != "text":
        return media_item_from_row(
            project=project,
            index=index,
            row=row,
            external_id=external_id,
            metadata=metadata,
            tags=tags,
            gold=gold,
            fail=fail,
        )
    text = row.get("text")
    if not isinstance(text, str):
        fail("text", "text is required for a text project (a string).")
        return None
    try:
        item, _ = text_item(
            project=project,
            external_id=external_id,
            text=text,
            metadata=metadata,
            tags=tags,
            gold=gold,
            thresholds=thresholds,
        )
    except MediaRowError as exc:
        fail(exc.field, exc.message)
        return None
    return item
