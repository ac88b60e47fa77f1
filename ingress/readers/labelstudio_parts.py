"""What a Label Studio export record carries besides its data: annotations and predictions, read the same way
from the JSON task list, JSON_MIN and CSV; and the options every Label Studio reader takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

AnnotationsAs = Literal["annotations", "metadata", "gold"]


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
    #: the Label Studio result type whose regions are the project's gold with ``annotations_as="gold"``
    #: (``TaskKind.labelstudio_regions``: ``labels``, ``rectanglelabels``; "" none); None: rectangles, if any
    regions: str | None = None


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
    return {
        "id": prediction.ls_id,
        "model_version": prediction.model_version,
        "labels": list(prediction.labels or []),
        "score": prediction.score,
    }


def annotator_name(raw: Any, users: dict[str, str]) -> str:
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


def result_choices(
    results: Any, control: str | None
) -> tuple[tuple[str, ...] | None, str | None, str | None]:
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


def lead_time_ms(value: Any) -> int | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return int(round(seconds * 1000)) if 0 <= seconds < 4e6 else None


def task_annotations(
    task: dict[str, Any], options: LsOptions
) -> tuple[list[LsAnnotation], str | None, str | None]:
    out: list[LsAnnotation] = []
    control = target = None
    for index, ann in enumerate(task.get("annotations") or [], start=1):
        if not isinstance(ann, dict):
            continue
        labels, name, to_name = result_choices(ann.get("result"), options.control)
        control, target = control or name, target or to_name
        out.append(
            LsAnnotation(
                ls_id=str(ann.get("id") if ann.get("id") is not None else f"{task.get('id')}.{index}"),
                annotator=annotator_name(ann.get("completed_by"), options.users),
                labels=labels,
                cancelled=bool(ann.get("was_cancelled")),
                lead_time_ms=lead_time_ms(ann.get("lead_time")),
            )
        )
    return out, control, target


def task_predictions(task: dict[str, Any], options: LsOptions) -> tuple[list[LsPrediction], int]:
    out: list[LsPrediction] = []
    ids_only = 0
    for pred in task.get("predictions") or []:
        if not isinstance(pred, dict):
            ids_only += 1
            continue
        labels, _, _ = result_choices(pred.get("result"), options.control)
        score = pred.get("score")
        out.append(
            LsPrediction(
                ls_id=str(pred.get("id", "")),
                model_version=str(pred.get("model_version") or "unnamed"),
                labels=labels,
                score=float(score) if isinstance(score, int | float) else None,
            )
        )
    return out, ids_only


def gold_and_choices(
    annotations: list[LsAnnotation], annotations_as: AnnotationsAs
) -> tuple[list[list[str]], str | None]:
    choices = [list(a.labels or ()) for a in annotations if not a.cancelled]
    gold = None
    if choices and annotations_as == "gold":
        agreed = {tuple(c) for c in choices}
        if len(agreed) == 1 and len(choices[0]) == 1:
            gold = choices[0][0]
    return choices, gold
