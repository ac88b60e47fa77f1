"""Label Studio exports → rows: the JSON task list here, and JSON_MIN / CSV (a record per annotation) in
``ingress.readers.labelstudio_min``.

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
label, or, for boxes, the ``rectanglelabels`` regions (percentages of ``original_width``/``original_height``
converted to pixels), for spans the ``labels`` regions (``kinds.spans.importformats``), of the annotations marked
``ground_truth`` when there are any, else those every non-cancelled annotation drew alike (``LsOptions.regions``
names the project's kind's region type; the gold checks then judge them as any gold boxes or spans). Annotators never see ``ls_choices`` or ``ls_predictions``: ``annotation.blind`` strips them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from ingress.readers.jsonreader import DEFAULT_MAX_RECORD_CHARS, JsonArraySyntaxError, iter_json_array
from ingress.readers.labelstudio_parts import (
    AnnotationsAs,
    LsOptions,
    LsTask,
    gold_and_choices,
    prediction_metadata,
    task_annotations,
    task_predictions,
)
from ingress.readers.rows import FileError, RawRow, RowError, SeenIds, split_tags, without_nul
from kinds.boxes.geometry import BoxError
from kinds.boxes.importformats import from_labelstudio
from kinds.spans.importformats import SpanImportError
from kinds.spans.importformats import from_labelstudio as from_labelstudio_spans

_MEDIA_KEYS = ("image", "audio")


def _data_key(data: dict[str, Any], options: LsOptions, target: str | None) -> str | None:
    if options.data_key:
        return options.data_key
    names = ("text",) if options.media is False else _MEDIA_KEYS if options.media else ("text", *_MEDIA_KEYS)
    found = next((k for k in names if isinstance(data.get(k), str)), None)
    if found is None and target and isinstance(data.get(target), str):
        return target  # Label Studio's default configs name the object tag after its data key
    return found


def _agreed_gold(task: dict[str, Any], read: Callable[[list], list], *, keep_empty: bool) -> str | None:
    """The regions a task's annotations agree on, as gold (JSON text, as a gold cell holds it): those of the
    annotations marked ``ground_truth`` when any are (Label Studio marks the reviewed answer so, and so does
    Labelgate's own export), else those of every annotation that is not cancelled. Empty answers are left out,
    but for marked ones when ``keep_empty`` (a reviewed "nothing to mark" is gold of the project's kind). None when no answer is left or
    they differ. ``read`` turns a ``result`` list into the answer, and may raise."""
    kept = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    marked = [a for a in kept if a.get("ground_truth") is True]
    answers = [read(a.get("result") or []) for a in (marked or kept)]
    if not (keep_empty and marked):
        answers = [answer for answer in answers if answer]
    if not answers or any(answer != answers[0] for answer in answers):
        return None
    return json.dumps(answers[0])


def _region_gold(task: dict[str, Any], options: LsOptions, text: str | None) -> str | None:
    """Gold from the task's regions of the project's kind (``LsOptions.regions``); raises BoxError or
    SpanImportError for a region that cannot be read."""
    if options.regions == "labels":
        return _agreed_gold(task, lambda result: from_labelstudio_spans(result, text or ""), keep_empty=True)
    if options.regions == "rectanglelabels":
        return _agreed_gold(task, from_labelstudio, keep_empty=True)
    if options.regions is None:
        # Readers called without a project: rectangles, when annotations drew some.
        return _agreed_gold(task, from_labelstudio, keep_empty=False)
    return None


def task_to_row(
    task: Any, *, line: int, annotations_as: AnnotationsAs = "metadata", options: LsOptions | None = None
) -> RawRow | RowError:
    """Map one Label Studio task to a row; a task without a ``data`` object, without the data key, or with a
    NUL character in a field, is a ``RowError``."""
    options = options or LsOptions(annotations_as=annotations_as)
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        return RowError(line, "data", "a Label Studio task needs a 'data' object")
    data = dict(task["data"])
    annotations, control, target = task_annotations(task, options)
    predictions, ids_only = task_predictions(task, options)
    key = _data_key(data, options, target)
    text = file_url = None
    if key is not None and key not in data:
        return RowError(
            line,
            f"data.{key}",
            f"the task has no data.{key} (data keys: {', '.join(sorted(data)) or 'none'})",
        )
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
        return RowError(
            line,
            "data",
            f"no {what} in data (keys: {', '.join(sorted(data)) or 'none'}); name the "
            "data key with data_key or the labelling config",
        )
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
        ls_task = LsTask(
            task_id=str(task.get("id")),
            annotations=tuple(annotations),
            predictions=tuple(predictions),
            prediction_ids_only=ids_only,
            control=control,
            data_key=key,
        )
    else:
        choices, gold = gold_and_choices(annotations, options.annotations_as)
        if choices:
            metadata["ls_choices"] = choices
        if gold is None and options.annotations_as == "gold":
            try:
                gold = _region_gold(task, options, text)
            except (BoxError, SpanImportError) as exc:
                return RowError(line, "gold_label", f"Gold: {exc}")
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
