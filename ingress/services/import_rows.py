"""Rows of a file import → new items, chunk by chunk, with the import's accounting (see ``ImportReport``)."""

from dataclasses import dataclass, replace

from annotation.models import Item, ItemStatus, Project
from annotation.selectors import label_choices
from annotation.services import items as item_services
from annotation.services.item_create import NewItem, items_create
from core.models import Job
from ingress.models import ImportBatch
from ingress.profiling_hooks import summary_builder, thresholds_for
from ingress.readers import RawRow
from ingress.services.batches import batch_open_for_job
from ingress.services.import_report import ImportReport
from ingress.services.labelstudio_import import LabelStudioMerger
from ingress.services.labelstudio_media import labelstudio_media_read
from ingress.services.media_rows import MediaRowError, media_item, read_import_file
from ingress.services.text_rows import text_item
from ingress.services.text_sketches import text_sketches
from kinds.registry import item_media

CHUNK_ROWS = 2000
# Media bytes (or text characters) held per chunk before it is inserted: bounds memory for big files.
CHUNK_BYTES = 32 * 1024 * 1024
LS_FORMATS = ("labelstudio", "labelstudio_min", "labelstudio_csv", "labelstudio_zip")


@dataclass
class PendingRow:
    line: int
    item: NewItem
    normalised: str | None = None
    size: int = 0
    ls: object = None  # the row's LsTask (annotations, predictions) in a Label Studio import


class RowImporter:
    """Turns rows into items and inserts them chunk by chunk."""

    def __init__(
        self, *, project: Project, batch: ImportBatch | None, report: ImportReport, job: Job, source: str
    ):
        self.project = project
        # None until the first insert opens it, so a file with nothing to insert leaves no batch behind.
        self.batch = batch
        self.job = job
        self.source = source
        self.report = report
        self.labels = label_choices(project=project)
        self.is_text = item_media(project) == "text"
        self.thresholds = thresholds_for(project)
        self.pending: list[PendingRow] = []
        self.pending_bytes = 0
        self.summary = summary_builder()
        # Content-derived ids (rows without external_id) of this run: identical rows collapse to one item.
        self.derived_ids: set[bytes] = set()
        self.labelstudio = None
        if job.params.get("format") in LS_FORMATS:
            self.labelstudio = LabelStudioMerger(project=project)
        # Task ids of this Label Studio file already taken: a later row of the same task merges into the item.
        self.ls_seen: set[str] = set()

    def full(self) -> bool:
        return len(self.pending) >= CHUNK_ROWS or self.pending_bytes >= CHUNK_BYTES

    def add(self, row: RawRow) -> None:
        try:
            pending = self._prepare(row)
        except MediaRowError as exc:
            self.report.error(row.line, exc.field, exc.message)
            return
        pending.ls = row.labelstudio
        self.pending.append(pending)
        self.pending_bytes += pending.size

    def _prepare(self, row: RawRow) -> PendingRow:
        tags, tag_error = item_services.clean_tags(row.tags)
        if tag_error:
            raise MediaRowError("tags", tag_error)
        raw_gold: object = row.gold_label
        if raw_gold is None and row.metadata:
            raw_gold, metadata = item_services.gold_from_metadata(project=self.project, metadata=row.metadata)
            if metadata is not row.metadata:
                row = replace(row, metadata=metadata)
        gold, gold_error = item_services.gold_value(
            project=self.project, raw=raw_gold, label_values=self.labels, text=row.text
        )
        if gold_error:
            raise MediaRowError("gold_label", gold_error)
        external_id = (row.external_id or "").strip()
        if len(external_id) > 255:
            raise MediaRowError("external_id", "external_id is longer than 255 characters.")
        if self.is_text:
            if row.text is None and row.file_bytes is not None:
                raise MediaRowError(
                    "file", "This is a text project: a zip needs a manifest.csv with a text column."
                )
            return self._text(row, external_id, tags, gold)
        if row.file_bytes is not None:
            data, name = row.file_bytes, row.file_name
        elif row.file_url and self.labelstudio is not None:
            data, name = labelstudio_media_read(row.file_url)
        elif row.file_url:
            data, name = read_import_file(row.file_url)
        else:
            raise MediaRowError("file_url", "An image/audio row needs a file (file_url, or a zip member).")
        item = media_item(
            project=self.project,
            external_id=external_id or "pending",
            data=data,
            file_name=name,
            metadata=row.metadata,
            tags=tags,
            gold=gold,
            text=row.text or "",
        )
        if not external_id:
            item.external_id = f"sha256:{item.sha256[:32]}"  # content-derived: a re-import finds it again
        return PendingRow(line=row.line, item=item, size=len(data))

    def _text(self, row: RawRow, external_id: str, tags: list[str], gold: object) -> PendingRow:
        if row.text is None:
            raise MediaRowError("text", "text is required for a text project.")
        item, normalised = text_item(
            project=self.project,
            external_id=external_id,
            text=row.text,
            metadata=row.metadata,
            tags=tags,
            gold=gold,
            thresholds=self.thresholds,
        )
        return PendingRow(line=row.line, item=item, normalised=normalised, size=len(row.text))

    def take(self) -> list[PendingRow]:
        """The rows added since the last call, to be passed to ``write``. Text rows get their MinHash sketches
        here, on the reading thread: the writer thread is the slower of the two (it waits on the database), so
        numpy work moved off it shortens the import."""
        pending, self.pending, self.pending_bytes = self.pending, [], 0
        if self.is_text and pending:
            for p, sketch in zip(pending, text_sketches([p.normalised or "" for p in pending]), strict=True):
                p.item.minhash = sketch
                p.normalised = None  # not needed past here; chunks waiting for the writer hold less
        return pending

    def write(self, pending: list[PendingRow]) -> None:
        """Insert the rows of ``pending`` not in the project yet (one transaction) and count them in the report."""
        if not pending:
            return
        item_services.item_statistics_refresh_if_stale()  # keeps the lookup below an index probe as the table grows
        existing = item_services.existing_owners(
            project=self.project, external_ids=[p.item.external_id for p in pending]
        )
        fresh: list[PendingRow] = []
        merging: list[tuple[PendingRow, bool]] = []
        for p in pending:
            owner = existing.get(p.item.external_id, 0)
            if p.ls is not None:
                if p.item.external_id in self.ls_seen:
                    self.report.duplicate(p.item.external_id)  # a task's later rows: merged into its item
                    self.labelstudio.report.tasks_merged += 1
                    merging.append((p, False))
                    continue
                self.ls_seen.add(p.item.external_id)
                merging.append((p, owner == 0))
            if p.item.external_id.startswith("sha256:"):
                digest = bytes.fromhex(p.item.external_id[7:23])
                if digest in self.derived_ids:
                    self.report.duplicate(p.item.external_id)  # the same content earlier in this file
                    continue
                self.derived_ids.add(digest)
            if owner == 0:
                fresh.append(p)
            elif self.batch is not None and owner == self.batch.pk:
                self.report.created_earlier += 1  # inserted by an earlier attempt of this job
            else:
                self.report.duplicate(p.item.external_id)
        if fresh:
            self._write_fresh(fresh)
        if merging:
            self._merge_labelstudio(merging)

    def _merge_labelstudio(self, merging: list[tuple[PendingRow, bool]]) -> None:
        """Annotations and predictions of Label Studio rows, onto their new or existing items."""
        ids = dict(
            Item.objects.filter(
                project=self.project, external_id__in={p.item.external_id for p, _ in merging}
            ).values_list("external_id", "pk")
        )
        self.labelstudio.merge(
            tasks=[
                (ids[p.item.external_id], p.ls, is_new) for p, is_new in merging if p.item.external_id in ids
            ]
        )

    def _write_fresh(self, fresh: list[PendingRow]) -> None:
        if self.batch is None:
            self.batch = batch_open_for_job(job=self.job, project=self.project, source=self.source)
        items = [p.item for p in fresh]
        items_create(project=self.project, items=items, batch_id=self.batch.pk)
        self.report.created += len(items)
        self.report.gold += sum(1 for item in items if item.is_gold)
        for item in items:
            self.summary.add(item.profile)
            self.report.flags.update(item.flags)
            self.report.routed += item.status == ItemStatus.NEEDS_REVIEW
