"""Label Studio JSON task export → rows.

A task is ``{"id": 12, "data": {"text"|"image"|"audio": ..., other keys}, "meta": {...},
"annotations": [{"result": [{"value": {"choices": [...]}}], "was_cancelled": false}], ...}``.

Mapping: ``external_id`` = ``data.external_id`` if present, else the task ``id``; ``text`` = ``data.text``;
``file_url`` = ``data.image`` or ``data.audio`` (URLs or LS upload paths, fetched later by the caller); the
other ``data`` keys and ``meta`` become metadata; ``data.tags`` (list or ``;`` string) become tags.

Annotations: LS annotations are labels by ordinary annotators, not verified truth, so by default they are
kept as metadata (``metadata["ls_choices"]``: one list of choices per non-cancelled annotation) and never
become gold. ``annotations_as="gold"`` makes a single agreed choice the gold label (only when every
non-cancelled annotation chose exactly that one choice; otherwise gold stays empty and the choices are
still kept in metadata). Annotators never see ``ls_choices``: ``annotation.blind`` strips it (and other
label-bearing keys) from every annotator-facing payload; reviewers see it on the item detail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, Literal

from annotation.ingress.jsonreader import DEFAULT_MAX_RECORD_CHARS, JsonArraySyntaxError, iter_json_array
from annotation.ingress.rows import FileError, RawRow, RowError, SeenIds, split_tags, without_nul

_MEDIA_KEYS = ("image", "audio")


def _choices(task: dict[str, Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for ann in task.get("annotations") or []:
        if not isinstance(ann, dict) or ann.get("was_cancelled"):
            continue
        picked: list[str] = []
        for result in ann.get("result") or []:
            value = result.get("value") if isinstance(result, dict) else None
            if isinstance(value, dict) and isinstance(value.get("choices"), list):
                picked.extend(str(c) for c in value["choices"])
        out.append(picked)
    return out


def task_to_row(
    task: Any, *, line: int, annotations_as: Literal["metadata", "gold"] = "metadata"
) -> RawRow | RowError:
    """Map one Label Studio task to a row; a task without a ``data`` object, or with a NUL character in a
    field, is a ``RowError``."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        return RowError(line, "data", "a Label Studio task needs a 'data' object")
    data = dict(task["data"])
    text = data.pop("text", None)
    if text is not None and not isinstance(text, str):
        return RowError(line, "data.text", "data.text must be a string")
    file_url = next((data.pop(k) for k in _MEDIA_KEYS if isinstance(data.get(k), str)), None)
    ext = data.pop("external_id", None)
    if ext is None:
        ext = task.get("id")
    tags = split_tags(data.pop("tags", None))
    metadata: dict[str, Any] = dict(data)
    meta = task.get("meta")
    if isinstance(meta, dict):
        metadata.update(meta)
    choices = _choices(task)
    gold: str | None = None
    if choices:
        metadata["ls_choices"] = choices
        agreed = {tuple(c) for c in choices}
        if annotations_as == "gold" and len(agreed) == 1 and len(choices[0]) == 1:
            gold = choices[0][0]
    return without_nul(
        RawRow(
            line=line,
            external_id=None if ext is None else str(ext),
            text=text,
            file_url=file_url,
            metadata=metadata,
            tags=tags,
            gold_label=gold,
        )
    )


def read_labelstudio(
    stream: BinaryIO,
    *,
    annotations_as: Literal["metadata", "gold"] = "metadata",
    max_record_chars: int = DEFAULT_MAX_RECORD_CHARS,
) -> Iterator[RawRow | RowError]:
    """Yield a row or error per task of a Label Studio JSON export (a top-level array; ``line`` = index).

    A syntax error ends the stream with one ``FileError``; a bad task or repeated id is that task's error.
    """
    seen = SeenIds()
    try:
        for index, task in enumerate(iter_json_array(stream, max_record_chars=max_record_chars), start=1):
            yield seen.check(task_to_row(task, line=index, annotations_as=annotations_as))
    except JsonArraySyntaxError as exc:
        yield FileError(exc.index, None, str(exc))
