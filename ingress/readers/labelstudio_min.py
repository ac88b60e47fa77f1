"""Label Studio's JSON_MIN and CSV exports → rows: a record per annotation, the records of one task that follow
each other becoming one row (see ``ingress.readers.labelstudio`` for the mapping they share with the task list)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO

from ingress.readers.csvreader import read_csv
from ingress.readers.jsonreader import DEFAULT_MAX_RECORD_CHARS, JsonArraySyntaxError, iter_json_array
from ingress.readers.labelstudio import task_to_row
from ingress.readers.labelstudio_parts import (
    LsAnnotation,
    LsOptions,
    LsTask,
    annotator_name,
    gold_and_choices,
    lead_time_ms,
)
from ingress.readers.rows import FileError, RawRow, RowError

# Keys of a JSON_MIN / CSV record that Label Studio adds; everything else is a data key or a control's value.
_MIN_RESERVED = frozenset(
    {
        "id",
        "annotator",
        "annotation_id",
        "created_at",
        "updated_at",
        "lead_time",
        "meta",
        "drafts",
        "predictions",
        "total_annotations",
        "cancelled_annotations",
        "total_predictions",
    }
)


def _min_choice(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return (value,)
    if isinstance(value, dict) and isinstance(value.get("choices"), list):
        return tuple(str(c) for c in value["choices"])
    if isinstance(value, str) and value != "":
        return (value,)
    return None


def _min_control(record: dict[str, Any], options: LsOptions) -> str | None:
    if options.control:
        return options.control
    candidates = [
        key
        for key, value in record.items()
        if key not in _MIN_RESERVED
        and key != options.data_key
        and (
            isinstance(value, dict)
            and "choices" in value
            or isinstance(value, str)
            and value in options.labels
        )
    ]
    return candidates[0] if len(candidates) == 1 else None


def _min_group_to_row(group: list[tuple[int, dict[str, Any]]], options: LsOptions) -> RawRow | RowError:
    line, first = group[0]
    control = _min_control(first, options)
    annotations: list[LsAnnotation] = []
    for _, record in group:
        if record.get("annotation_id") in (None, "") and record.get("annotator") in (None, ""):
            continue  # a task without annotations still has one record
        annotations.append(
            LsAnnotation(
                ls_id=str(record.get("annotation_id")),
                annotator=annotator_name(record.get("annotator"), options.users),
                labels=_min_choice(record.get(control)) if control else None,
                lead_time_ms=lead_time_ms(record.get("lead_time")),
            )
        )
    data = {k: v for k, v in first.items() if k not in _MIN_RESERVED and k != control}
    task = {"id": first.get("id"), "data": data}
    if isinstance(first.get("meta"), dict):
        task["meta"] = first["meta"]
    row = task_to_row(task, line=line, options=replace(options, annotations_as="annotations"))
    if isinstance(row, RowError):
        return row
    ls_task = LsTask(
        task_id=str(first.get("id")),
        annotations=tuple(annotations),
        records=len(group),
        control=control,
        data_key=row.labelstudio.data_key,
    )
    if options.annotations_as == "annotations":
        return replace(row, labelstudio=ls_task)
    choices, gold = gold_and_choices(annotations, options.annotations_as)
    metadata = {**row.metadata, "ls_choices": choices} if choices else row.metadata
    return replace(row, labelstudio=None, metadata=metadata, gold_label=gold)


def _grouped(
    records: Iterable[tuple[int, dict[str, Any] | RowError]], options: LsOptions
) -> Iterator[RawRow | RowError]:
    """Consecutive records of one task → one row (see the module docstring)."""
    group: list[tuple[int, dict[str, Any]]] = []
    for line, record in records:
        if isinstance(record, RowError):
            if group:
                yield _min_group_to_row(group, options)
                group = []
            yield record
            continue
        if group and str(group[0][1].get("id")) != str(record.get("id")):
            yield _min_group_to_row(group, options)
            group = []
        group.append((line, record))
    if group:
        yield _min_group_to_row(group, options)


def read_labelstudio_min(
    stream: BinaryIO, *, options: LsOptions, max_record_chars: int = DEFAULT_MAX_RECORD_CHARS
) -> Iterator[RawRow | RowError]:
    """Rows of a JSON_MIN export (a JSON array of flat records; ``line`` = index of a task's first record)."""

    def records() -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        try:
            for index, obj in enumerate(iter_json_array(stream, max_record_chars=max_record_chars), start=1):
                if not isinstance(obj, dict) or "id" not in obj:
                    yield (
                        index,
                        RowError(index, "id", "a Label Studio JSON_MIN record needs an object with an 'id'"),
                    )
                else:
                    yield index, obj
        except JsonArraySyntaxError as exc:
            yield exc.index, FileError(exc.index, None, str(exc))

    yield from _grouped(records(), options)


def read_labelstudio_csv(stream: BinaryIO, *, options: LsOptions) -> Iterator[RawRow | RowError]:
    """Rows of a Label Studio CSV export (a record per annotation, like JSON_MIN; empty cells are absent)."""

    def records() -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        for row in read_csv(stream, required_columns=("id",)):
            if isinstance(row, RowError):
                yield row.line, row
                continue
            record: dict[str, Any] = {k: v for k, v in row.metadata.items() if v != ""}
            for name, value in (
                ("text", row.text),
                ("external_id", row.external_id),
                ("file_url", row.file_url),
                ("file", row.file_name),
                ("gold_label", row.gold_label),
            ):
                if value not in (None, ""):
                    record[name] = value
            if row.tags:
                record["tags"] = row.tags
            yield row.line, record

    yield from _grouped(records(), options)
