"""Streamed exports of a dataset version: JSONL, CSV, Parquet, Label Studio JSON.

Every exporter is a generator of ``bytes`` reading entries with ``iterator(chunk_size=...)`` and yielding one
chunk per batch, so memory stays flat however large the version is. The JSONL export of all splits is the
canonical form: its sha256 is the version's checksum (``sha256sum`` of a download can be compared to it).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connection, transaction

from datasets.labelschema import class_names
from datasets.labelstudio import labelstudio_config, stream_labelstudio_tasks
from datasets.models import DatasetEntry, DatasetVersion
from kinds.registry import export_formats, kind_for

if TYPE_CHECKING:
    import pyarrow as pa

_encode_string = json.encoder.encode_basestring  # the C encoder json.dumps(..., ensure_ascii=False) uses

CHUNK_ROWS = 2000
PARQUET_ROW_GROUP = 50_000
CSV_COLUMNS = [
    "item_id",
    "external_id",
    "label",
    "split",
    "confidence",
    "text",
    "file_url",
    "sha256",
    "tags",
    "metadata",
]


def media_url(item_id: int) -> str:
    # Relative on purpose: the canonical export (and so the checksum) must not depend on the host name.
    return f"/media/items/{item_id}/"


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def entry_line(
    *,
    item_id: int,
    external_id: str,
    label_json: str,
    split: str,
    confidence: float | None,
    metadata_json: str,
    tags_json: str,
    sha256: str,
    text: str,
    has_file: bool,
) -> str:
    """An entry's export row as one JSON line, keys sorted, built by splicing.

    ``label_json``/``metadata_json``/``tags_json`` are the database's JSON text of those values, used as they
    are: re-encoding every row through ``json.dumps`` took longer than the rest of a freeze. The line is
    stored with the entry, so it never has to be rebuilt; only its bytes define the checksum.
    """
    confidence_json = (
        repr(float(confidence)) if confidence is not None and math.isfinite(confidence) else "null"
    )
    label_json, metadata_json, tags_json = (
        _one_line(text) for text in (label_json, metadata_json, tags_json)
    )
    return (
        f'{{"confidence":{confidence_json},"external_id":{_encode_string(external_id)},'
        f'"file_url":{_encode_string(media_url(item_id)) if has_file else "null"},"item_id":{int(item_id)},'
        f'"label":{label_json},"metadata":{metadata_json},"sha256":{_encode_string(sha256)},'
        f'"split":{_encode_string(split)},"tags":{tags_json},"text":{_encode_string(text) if text else "null"}}}\n'
    )


def _one_line(json_text: str) -> str:
    # Django and PostgreSQL never store JSON with raw line breaks, but a hand-written row could; re-encode it.
    return canonical_json(json.loads(json_text)) if "\n" in json_text or "\r" in json_text else json_text


@contextmanager
def read_snapshot():
    """On PostgreSQL, read inside a transaction so ``iterator()`` uses a plain server-side cursor.

    Outside a transaction Django declares the cursor WITH HOLD, which makes PostgreSQL materialise the whole
    result before the first row arrives. SQLite is left alone: a transaction there takes the write lock.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            yield
    else:
        yield


def entry_lines(*, version: DatasetVersion, split: str | None = None) -> Iterator[str]:
    """The stored canonical lines, by item id (the canonical order), streamed in chunks."""
    queryset = DatasetEntry.objects.filter(version=version)
    if split:
        queryset = queryset.filter(split=split)
    yield from queryset.order_by("item_id").values_list("line", flat=True).iterator(chunk_size=CHUNK_ROWS)


def _batched_text(
    *, version: DatasetVersion, split: str | None, render: Callable[[str], str]
) -> Iterator[bytes]:
    with read_snapshot():
        batch: list[str] = []
        for line in entry_lines(version=version, split=split):
            batch.append(render(line))
            if len(batch) >= CHUNK_ROWS:
                yield "".join(batch).encode()
                batch = []
        if batch:
            yield "".join(batch).encode()


def stream_jsonl(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    """The canonical export: the stored lines, byte for byte (all splits → sha256 equals the checksum)."""
    yield from _batched_text(version=version, split=split, render=str)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return canonical_json(value)
    return value


def stream_csv(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def render(line: str) -> str:
        row = json.loads(line)
        writer.writerow([_csv_cell(row[name]) for name in CSV_COLUMNS])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield ",".join(CSV_COLUMNS).encode() + b"\n"
    yield from _batched_text(version=version, split=split, render=render)


class DrainableSink:
    """A write-only file object whose bytes are taken out after each write, so nothing accumulates."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts = []
        return data


METADATA_ENCODING = {b"labelgate.encoding": b"json"}


def export_description(*, version: DatasetVersion, split: str | None) -> dict:
    """What a file is and how to read its columns: the Parquet ``labelgate`` metadata and the zip manifest's core."""
    return {
        "project": {
            "id": version.project_id,
            "name": version.project.name,
            "task_type": version.project.task_type,
        },
        "version": version.number,
        "version_id": version.pk,
        "split": split,
        "checksum": version.checksum,
        "checksum_of": "sha256 of the version's full JSONL export (all splits), not of this file",
        "label_schema": version.label_schema,
        "columns": {
            "label": kind_for(version.project).export_part.label_description(version=version),
            "metadata": "the item's metadata object as JSON text (nested only in JSONL and Label Studio exports)",
            "split": "train, dev or test",
        },
    }


def parquet_schema(*, version: DatasetVersion, split: str | None = None) -> pa.Schema:
    # Lazy: pyarrow is only needed for Parquet; importing it here keeps web/worker startup (and the other
    # export formats) free of it.
    import pyarrow as pa

    label_type = kind_for(version.project).export_part.parquet_label_type(version=version)
    return pa.schema(
        [
            ("item_id", pa.int64()),
            ("external_id", pa.string()),
            ("label", label_type),
            ("split", pa.string()),
            ("confidence", pa.float64()),
            ("text", pa.string()),
            ("file_url", pa.string()),
            ("sha256", pa.string()),
            ("tags", pa.list_(pa.string())),
            # Free-form metadata differs from row to row (keys and value types); as JSON text the column keeps
            # one type in every version, as in CSV and the zip.
            pa.field("metadata", pa.string(), metadata=METADATA_ENCODING),
        ],
        metadata={b"labelgate": canonical_json(export_description(version=version, split=split)).encode()},
    )


def stream_parquet(*, version: DatasetVersion, split: str | None = None) -> Iterator[bytes]:
    """Parquet written one row group at a time into a sink that is drained after each group."""
    import pyarrow as pa  # lazy: see parquet_schema
    import pyarrow.parquet as pq

    schema = parquet_schema(version=version, split=split)
    dictionary = pa.types.is_dictionary(schema.field("label").type)
    names = class_names(version.label_schema)
    class_ids = {value: index for index, value in enumerate(names)}
    classes = pa.array(names, pa.string())
    sink = DrainableSink()
    writer = pq.ParquetWriter(sink, schema, compression="snappy")
    columns: dict[str, list] = {name: [] for name in schema.names}

    def flush_group() -> bytes:
        arrays = dict(columns)
        if dictionary:
            arrays["label"] = pa.DictionaryArray.from_arrays(pa.array(columns["label"], pa.int32()), classes)
        writer.write_table(pa.table(arrays, schema=schema))
        for values in columns.values():
            values.clear()
        return sink.drain()

    with read_snapshot():
        for line in entry_lines(version=version, split=split):
            row = json.loads(line)
            for name in schema.names:
                value = row[name]
                if name == "metadata":
                    value = canonical_json(value)
                elif name == "label" and dictionary:
                    value = class_ids[str(value)]
                columns[name].append(value)
            if len(columns["item_id"]) >= PARQUET_ROW_GROUP:
                yield flush_group()
    if columns["item_id"] or sink.tell() == 0:
        yield flush_group()
    writer.close()
    yield sink.drain()


def stream_labelstudio(
    *, version: DatasetVersion, split: str | None = None, base_url: str = ""
) -> Iterator[bytes]:
    """Label Studio tasks (a JSON array) with the version's label, every annotator's vote and the predictions;
    see ``datasets.labelstudio``."""
    with read_snapshot():
        yield from stream_labelstudio_tasks(
            version=version, lines=entry_lines(version=version, split=split), base_url=base_url
        )


def stream_labelstudio_config(
    *, version: DatasetVersion, split: str | None = None, base_url: str = ""
) -> Iterator[bytes]:
    """The Label Studio labelling config whose names match ``stream_labelstudio``'s tasks."""
    yield labelstudio_config(version=version).encode()


# (content type, file extension) by format name: every task kind's formats (``kinds.registry``).
FORMATS = {name: (fmt.content_type, fmt.extension) for name, fmt in export_formats().items()}
