"""Label Studio exports → rows: the JSON task list, and JSON_MIN / CSV (a record per annotation).

A JSON task is ``{"id": 12, "data": {...}, "meta": {...}, "annotations": [{"id": 3, "completed_by": 1 | {"id":
1, "email": ...}, "result": [{"from_name": "sentiment", "to_name": "review", "type": "choices", "value":
{"choices": [...]}}], "was_cancelled": false, "lead_time": 4.5}], "predictions": [7 | {"id": 7, "model_version":
"v1", "score": 0.9, "result": [...]}]}``. The quick export (``GET .../export?exportType=JSON``) names annotators
by Label Studio user id and predictions by id only; the snapshot export (``POST .../exports/``) expands both.
JSON_MIN and CSV hold one record per annotation: the data keys, ``id`` (the task), the control's choice (a
string, or ``{"choices": [...]}`` when several), ``annotator`` (a user id), ``annotation_id``, ``lead_time``.
Records of one task that follow each other become one row holding every annotation; a task whose records are
apart comes as a second row with the same id, which the importer merges into the first (in the JSON task list a
repeated id is an error: Label Studio writes each task once).

Mapping: ``external_id`` = ``data.external_id`` if present, else the task ``id``. The data key (``LsOptions.
data_key``, read from the labelling config's object tag ``<Text name=... value="$review">``) gives ``text`` in a
text project or ``file_url`` in a media project; without one, ``text``/``image``/``audio`` are looked up, then
the annotations' ``to_name``. The other ``data`` keys and ``meta`` become metadata; ``data.tags`` (list or ``;``
string) become tags. Predictions are kept on the row's metadata under ``ls_predictions`` (see ``LsTask``).

Annotations go to ``RawRow.labelstudio`` as ``LsAnnotation`` (the importer stores them as annotations by
their annotators). ``annotations_as="metadata"`` keeps the older behaviour instead: the choices of every
non-cancelled annotation as ``metadata["ls_choices"]``; ``"gold"`` also makes a single agreed choice the gold
label. Annotators never see ``ls_choices`` or ``ls_predictions``: ``annotation.blind`` strips them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Literal
from xml.etree import ElementTree

from ingress.readers.csvreader import read_csv
from ingress.readers.jsonreader import DEFAULT_MAX_RECORD_CHARS, JsonArraySyntaxError, iter_json_array
from ingress.readers.rows import FileError, RawRow, RowError, SeenIds, split_tags, without_nul

_MEDIA_KEYS = ("image", "audio")
_OBJECT_TAGS = {"text", "hypertext", "paragraphs", "image", "audio", "audioplus"}
# Keys of a JSON_MIN / CSV record that Label Studio adds; everything else is a data key or a control's value.
_MIN_RESERVED = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "meta", "drafts", "predictions",
     "total_annotations", "cancelled_annotations", "total_predictions"}
)
MAX_CONFIG_CHARS = 200_000
AnnotationsAs = Literal["annotations", "metadata", "gold"]


@dataclass(frozen=True, slots=True)
class LsConfig:
    """What an import and an export need from a labelling config: the first ``<Choices>`` control, the object
    tag it labels and that tag's data key (``value="$review"`` → ``review``)."""

    control: str
    target: str
    data_key: str | None
    object_tag: str | None
    choices: tuple[str, ...]
    multiple: bool


def parse_config(xml: str) -> LsConfig:
    """Read a Label Studio labelling config. Raises ValueError, in the config author's words, when it is not XML,
    is too long or has no ``<Choices>`` control (only classification maps onto a Labelgate project)."""
    if len(xml) > MAX_CONFIG_CHARS:
        raise ValueError(f"The labelling config is longer than {MAX_CONFIG_CHARS} characters.")
    if "<!DOCTYPE" in xml.upper() or "<!ENTITY" in xml.upper():
        raise ValueError("The labelling config may not declare a DOCTYPE or entities.")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ValueError(f"The labelling config is not valid XML: {exc}.") from exc
    objects = {
        el.get("name"): el for el in root.iter() if el.tag.lower() in _OBJECT_TAGS and el.get("name")
    }
    control = next((el for el in root.iter() if el.tag.lower() == "choices" and el.get("name")), None)
    if control is None:
        raise ValueError("The labelling config has no <Choices name=... toName=...> control to take labels from.")
    target = (control.get("toName") or "").split(",")[0].strip()
    obj = objects.get(target)
    value = (obj.get("value") or "") if obj is not None else ""
    return LsConfig(
        control=control.get("name") or "",
        target=target,
        data_key=value[1:] if value.startswith("$") and len(value) > 1 else None,
        object_tag=obj.tag if obj is not None else None,
        choices=tuple(c.get("value") or c.get("alias") or "" for c in control.iter() if c.tag.lower() == "choice"),
        multiple=(control.get("choice") or "single").lower() == "multiple",
    )


@dataclass(frozen=True, slots=True)
class LsOptions:
    """How to read an export. ``media``: the project labels images/audio (the data key gives ``file_url``);
    None keeps the key-name guess. ``control``: the ``<Choices>`` name whose results are the labels (None:
    the first choices result). ``labels``: the project's label values, to find the control column of a
    JSON_MIN/CSV record when no control is named. ``users``: Label Studio user id → e-mail, for exports that
    name annotators by id."""

    data_key: str | None = None
    control: str | None = None
    media: bool | None = None
    labels: frozenset[str] = frozenset()
    users: dict[str, str] = field(default_factory=dict)
    annotations_as: AnnotationsAs = "annotations"



@dataclass(frozen=True, slots=True)
class LsAnnotation:
    """One Label Studio annotation. ``labels`` is None when it holds no choice of the control (another kind
    of result, or none); ``annotator`` is an e-mail when the export (or ``LsOptions.users``) gave one, else
    ``ls-user:<id>``."""

    ls_id: str
    annotator: str
    labels: tuple[str, ...] | None
    cancelled: bool = False
    lead_time_ms: int | None = None


@dataclass(frozen=True, slots=True)
class LsPrediction:
    ls_id: str
    model_version: str
    labels: tuple[str, ...] | None
    score: float | None


@dataclass(frozen=True, slots=True)
class LsTask:
    """A task's annotations and predictions. ``prediction_ids_only``: predictions the export named by id alone
    (the quick export does), which cannot be imported. ``records``: export records merged into this task."""

    task_id: str
    annotations: tuple[LsAnnotation, ...] = ()
    predictions: tuple[LsPrediction, ...] = ()
    prediction_ids_only: int = 0
    records: int = 1
    control: str | None = None
    data_key: str | None = None


def prediction_metadata(prediction: LsPrediction) -> dict[str, Any]:
    """How a prediction is kept in ``metadata["ls_predictions"]`` (shown to reviewers, exported back)."""
    return {"id": prediction.ls_id, "model_version": prediction.model_version,
            "labels": list(prediction.labels or []), "score": prediction.score}


def _annotator(raw: Any, users: dict[str, str]) -> str:
    if isinstance(raw, dict):
        email = raw.get("email")
        if isinstance(email, str) and "@" in email:
            return email.strip()
        raw = raw.get("id")
    text = "" if raw is None else str(raw).strip()
    if "@" in text:
        return text
    if text in users:
        return users[text]
    return f"ls-user:{text or 'unknown'}"


def _result_choices(results: Any, control: str | None) -> tuple[tuple[str, ...] | None, str | None, str | None]:
    """(choices of the control, its name, its to_name) in a result list; (None, None, None) when there are none."""
    if not isinstance(results, list):
        return None, None, None
    for result in results:
        if not isinstance(result, dict):
            continue
        value = result.get("value")
        if not isinstance(value, dict) or not isinstance(value.get("choices"), list):
            continue
        name = result.get("from_name")
        if control is not None and name != control:
            continue
        return tuple(str(c) for c in value["choices"]), name, result.get("to_name")
    return None, None, None


def _lead_time_ms(value: Any) -> int | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return int(round(seconds * 1000)) if 0 <= seconds < 4e6 else None


def _task_annotations(task: dict[str, Any], options: LsOptions) -> tuple[list[LsAnnotation], str | None, str | None]:
    out: list[LsAnnotation] = []
    control = target = None
    for index, ann in enumerate(task.get("annotations") or [], start=1):
        if not isinstance(ann, dict):
            continue
        labels, name, to_name = _result_choices(ann.get("result"), options.control)
        control, target = control or name, target or to_name
        out.append(LsAnnotation(
            ls_id=str(ann.get("id") if ann.get("id") is not None else f"{task.get('id')}.{index}"),
            annotator=_annotator(ann.get("completed_by"), options.users),
            labels=labels, cancelled=bool(ann.get("was_cancelled")), lead_time_ms=_lead_time_ms(ann.get("lead_time")),
        ))
    return out, control, target


def _task_predictions(task: dict[str, Any], options: LsOptions) -> tuple[list[LsPrediction], int]:
    out: list[LsPrediction] = []
    ids_only = 0
    for pred in task.get("predictions") or []:
        if not isinstance(pred, dict):
            ids_only += 1
            continue
        labels, _, _ = _result_choices(pred.get("result"), options.control)
        score = pred.get("score")
        out.append(LsPrediction(
            ls_id=str(pred.get("id", "")), model_version=str(pred.get("model_version") or "unnamed"),
            labels=labels, score=float(score) if isinstance(score, int | float) else None,
        ))
    return out, ids_only


def _data_key(data: dict[str, Any], options: LsOptions, target: str | None) -> str | None:
    if options.data_key:
        return options.data_key
    names = ("text",) if options.media is False else _MEDIA_KEYS if options.media else ("text", *_MEDIA_KEYS)
    found = next((k for k in names if isinstance(data.get(k), str)), None)
    if found is None and target and isinstance(data.get(target), str):
        return target  # Label Studio's default configs name the object tag after its data key
    return found


def _gold_and_choices(annotations: list[LsAnnotation], annotations_as: AnnotationsAs) -> tuple[list[list[str]], str | None]:
    choices = [list(a.labels or ()) for a in annotations if not a.cancelled]
    gold = None
    if choices and annotations_as == "gold":
        agreed = {tuple(c) for c in choices}
        if len(agreed) == 1 and len(choices[0]) == 1:
            gold = choices[0][0]
    return choices, gold


def task_to_row(
    task: Any, *, line: int, annotations_as: AnnotationsAs = "metadata", options: LsOptions | None = None
) -> RawRow | RowError:
    """Map one Label Studio task to a row; a task without a ``data`` object, without the data key, or with a
    NUL character in a field, is a ``RowError``."""
    options = options or LsOptions(annotations_as=annotations_as)
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        return RowError(line, "data", "a Label Studio task needs a 'data' object")
    data = dict(task["data"])
    annotations, control, target = _task_annotations(task, options)
    predictions, ids_only = _task_predictions(task, options)
    key = _data_key(data, options, target)
    text = file_url = None
    if key is not None and key not in data:
        return RowError(line, f"data.{key}", f"the task has no data.{key} (data keys: {', '.join(sorted(data)) or 'none'})")
    if key is not None:
        value = data.pop(key)
        is_media = options.media if options.media is not None else key in _MEDIA_KEYS
        if not isinstance(value, str):
            return RowError(line, f"data.{key}", f"data.{key} must be a string")
        if is_media:
            file_url = value
        else:
            text = value
    elif options.media is not None:
        what = "file (image/audio URL or upload path)" if options.media else "text"
        return RowError(line, "data", f"no {what} in data (keys: {', '.join(sorted(data)) or 'none'}); name the "
                        "data key with data_key or the labelling config")
    ext = data.pop("external_id", None)
    if ext is None:
        ext = task.get("id")
    tags = split_tags(data.pop("tags", None))
    metadata: dict[str, Any] = dict(data)
    meta = task.get("meta")
    if isinstance(meta, dict):
        metadata.update(meta)
    if predictions:
        metadata["ls_predictions"] = [prediction_metadata(p) for p in predictions]
    gold: str | None = None
    ls_task = None
    if options.annotations_as == "annotations":
        ls_task = LsTask(task_id=str(task.get("id")), annotations=tuple(annotations), predictions=tuple(predictions),
                         prediction_ids_only=ids_only, control=control, data_key=key)
    else:
        choices, gold = _gold_and_choices(annotations, options.annotations_as)
        if choices:
            metadata["ls_choices"] = choices
    return without_nul(
        RawRow(
            line=line,
            external_id=None if ext is None else str(ext),
            text=text,
            file_url=file_url,
            metadata=metadata,
            tags=tags,
            gold_label=gold,
            labelstudio=ls_task,
        )
    )


def read_labelstudio(
    stream: BinaryIO,
    *,
    annotations_as: AnnotationsAs = "metadata",
    options: LsOptions | None = None,
    max_record_chars: int = DEFAULT_MAX_RECORD_CHARS,
) -> Iterator[RawRow | RowError]:
    """Yield a row or error per task of a Label Studio JSON export (a top-level array; ``line`` = index).

    A syntax error ends the stream with one ``FileError``; a bad task, or a task id seen before in the file
    (Label Studio writes each task once), is that task's error.
    """
    options = options or LsOptions(annotations_as=annotations_as)
    seen = SeenIds()
    try:
        for index, task in enumerate(iter_json_array(stream, max_record_chars=max_record_chars), start=1):
            yield seen.check(task_to_row(task, line=index, options=options))
    except JsonArraySyntaxError as exc:
        yield FileError(exc.index, None, str(exc))


# ------------------------------------------------------------------------------------ JSON_MIN and CSV


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
        key for key, value in record.items()
        if key not in _MIN_RESERVED and key != options.data_key
        and (isinstance(value, dict) and "choices" in value or isinstance(value, str) and value in options.labels)
    ]
    return candidates[0] if len(candidates) == 1 else None


def _min_group_to_row(group: list[tuple[int, dict[str, Any]]], options: LsOptions) -> RawRow | RowError:
    line, first = group[0]
    control = _min_control(first, options)
    annotations: list[LsAnnotation] = []
    for _, record in group:
        if record.get("annotation_id") in (None, "") and record.get("annotator") in (None, ""):
            continue  # a task without annotations still has one record
        annotations.append(LsAnnotation(
            ls_id=str(record.get("annotation_id")),
            annotator=_annotator(record.get("annotator"), options.users),
            labels=_min_choice(record.get(control)) if control else None,
            lead_time_ms=_lead_time_ms(record.get("lead_time")),
        ))
    data = {k: v for k, v in first.items() if k not in _MIN_RESERVED and k != control}
    task = {"id": first.get("id"), "data": data}
    if isinstance(first.get("meta"), dict):
        task["meta"] = first["meta"]
    row = task_to_row(task, line=line, options=replace(options, annotations_as="annotations"))
    if isinstance(row, RowError):
        return row
    ls_task = LsTask(task_id=str(first.get("id")), annotations=tuple(annotations), records=len(group),
                     control=control, data_key=row.labelstudio.data_key)
    if options.annotations_as == "annotations":
        return replace(row, labelstudio=ls_task)
    choices, gold = _gold_and_choices(annotations, options.annotations_as)
    metadata = {**row.metadata, "ls_choices": choices} if choices else row.metadata
    return replace(row, labelstudio=None, metadata=metadata, gold_label=gold)


def _grouped(records: Iterable[tuple[int, dict[str, Any] | RowError]], options: LsOptions) -> Iterator[RawRow | RowError]:
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
                    yield index, RowError(index, "id", "a Label Studio JSON_MIN record needs an object with an 'id'")
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
            for name, value in (("text", row.text), ("external_id", row.external_id), ("file_url", row.file_url),
                                ("file", row.file_name), ("gold_label", row.gold_label)):
                if value not in (None, ""):
                    record[name] = value
            if row.tags:
                record["tags"] = row.tags
            yield row.line, record

    yield from _grouped(records(), options)
