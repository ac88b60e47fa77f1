"""Label Studio export of a dataset version: tasks Label Studio imports as they are, and the labelling config
whose names match them.

Names: a project imported from Label Studio keeps its names. The newest successful Label Studio import that
came with a labelling config gives the control, object and data key exactly; otherwise the newest one's report
gives the control and data key it found (the object is named after the data key, as in Label Studio's own
templates); a project that never came from Label Studio gets ``label`` on ``text``/``image``/``audio`` (what its
items are, ``kinds.registry.item_media``). The control element of the config and the ``result`` of an answer are
the project's kind's (``labelstudio_control`` and ``labelstudio_result`` of its export part); classification's
list the version's classes in id order (``label_schema``), ``choice="multiple"`` for multi-label.

A task carries: ``data`` (the text, or a signed link to the media that loads without a Labelgate session until
``LABELGATE_MEDIA_LINK_MAX_AGE`` passes; ``external_id``, ``tags``), ``meta`` (the item's metadata and
``labelgate``: split, confidence, version), ``annotations``: first the version's label (``ground_truth``,
as the reviewed answer), then each annotator's live vote as it stood when the version was frozen, with
``completed_by: {"email": ...}`` when the annotator has an e-mail (Label Studio matches members by e-mail, and
refuses unknown ones unless ``ALLOW_IMPORT_TASKS_WITH_UNKNOWN_EMAILS`` is on there), an unusable flag as a
cancelled annotation; and ``predictions``: those imported from Label Studio (``metadata.ls_predictions``, under
their model version) and this project's own model prediction (``labelgate-model``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from django.conf import settings

from annotation.media import media_link_sign
from annotation.models import Annotation, Item, Project
from core.models import Job, JobStatus
from datasets.models import DatasetVersion
from ingress.job_kinds import IMPORT_JOB
from ingress.readers.labelstudio_config import parse_config
from kinds.registry import item_media, kind_for

LS_IMPORT_FORMATS = ("labelstudio", "labelstudio_min", "labelstudio_csv", "labelstudio_zip")
# Label Studio's object tag and its usual data key, by what the items are
_OBJECT = {"text": ("Text", "text"), "image": ("Image", "image"), "audio": ("Audio", "audio")}
_LS_KEYS = ("ls_predictions", "ls_choices")
BATCH = 2000


@dataclass(frozen=True)
class LsNames:
    control: str
    target: str
    data_key: str
    object_tag: str


def labelstudio_names(project: Project) -> LsNames:
    """The names a Label Studio export of ``project`` uses (see the module docstring)."""
    tag, key = _OBJECT.get(item_media(project), ("Text", "text"))
    imports = (
        Job.objects.filter(
            project=project, kind=IMPORT_JOB, status=JobStatus.SUCCEEDED, params__format__in=LS_IMPORT_FORMATS
        )
        .order_by("-created_at")
        .values_list("params", "result")[:20]
    )
    for params, _ in imports:
        if params.get("labelstudio_config"):
            config = parse_config(params["labelstudio_config"])
            if config.data_key:
                return LsNames(config.control, config.target, config.data_key, config.object_tag or tag)
    for params, result in imports:
        report = (result or {}).get("labelstudio") or {}
        # Per control and per data key, how many imported tasks used it.
        controls: dict[str, int] = report.get("controls") or {}
        keys: dict[str, int] = report.get("data_keys") or {}
        if controls or keys or params.get("data_key"):
            data_key = params.get("data_key") or (max(keys, key=keys.__getitem__) if keys else key)
            control = max(controls, key=controls.__getitem__) if controls else "label"
            return LsNames(control, data_key, data_key, tag)
    return LsNames("label", key, key, tag)


def labelstudio_config(*, version: DatasetVersion) -> str:
    """The labelling config matching the version's Label Studio export."""
    names = labelstudio_names(version.project)
    control = kind_for(version.project).export_part.labelstudio_control(
        version=version, name=names.control, to_name=names.target
    )
    return (
        "<View>\n"
        f"  <{names.object_tag} name={quoteattr(names.target)} value={quoteattr('$' + names.data_key)}/>\n"
        f"{control}"
        "</View>\n"
    )


def _result_writer(project: Project, names: LsNames) -> Callable[[object, Mapping[str, Any]], list[dict]]:
    """(An answer (a row's label, a vote's stored value, a prediction), the item it answers) → the task's
    ``result`` list; the item (``text``, an image's ``width`` and ``height``) is for kinds whose regions point
    into it (spans quote their text, boxes are in percent of the image)."""
    write = kind_for(project).export_part.labelstudio_result
    return lambda value, item: write(value, from_name=names.control, to_name=names.target, item=item)


def _votes(version: DatasetVersion, item_ids: list[int]) -> dict[int, list[Mapping[str, Any]]]:
    """Each item's live annotations made before the version was frozen (annotations are append-only)."""
    out: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    rows = (
        Annotation.objects.filter(item_id__in=item_ids, is_live=True, created_at__lte=version.created_at)
        .order_by("item_id", "id")
        .values(
            "id", "item_id", "labels", "unusable", "lead_time_ms", "annotator__email", "annotator__username"
        )
    )
    for row in rows:
        out[row["item_id"]].append(row)
    return out


def _sizes(version: DatasetVersion, item_ids: list[int]) -> dict[int, dict]:
    """Each image's ``width`` and ``height`` as measured at import (empty for other media)."""
    if item_media(version.project) != "image":
        return {}
    return {
        pk: {key: (profile or {}).get(key) for key in ("width", "height")}
        for pk, profile in Item.objects.filter(pk__in=item_ids).values_list("pk", "profile")
    }


def _predictions(version: DatasetVersion, item_ids: list[int]) -> dict[int, tuple]:
    return {
        pk: (predicted, probs)
        for pk, predicted, probs in Item.objects.filter(
            pk__in=item_ids, predicted_label__isnull=False
        ).values_list("pk", "predicted_label", "predicted_probs")
    }


def labelstudio_task(
    row: dict,
    *,
    names: LsNames,
    result: Callable[[object, Mapping[str, Any]], list[dict]],
    media_url: str | None,
    version_number: int,
    votes: list[Mapping[str, Any]],
    model: tuple | None,
    size: Mapping[str, Any] | None = None,
) -> dict:
    item = {"text": row.get("text") or "", **(size or {})}
    data: dict = {"external_id": row["external_id"], "tags": row["tags"]}
    data[names.data_key] = media_url if row["file_url"] else (row["text"] or "")
    metadata = dict(row["metadata"] or {})
    ls_predictions = metadata.get("ls_predictions") or []
    meta = {key: value for key, value in metadata.items() if key not in _LS_KEYS}
    meta["labelgate"] = {
        "split": row["split"],
        "confidence": row["confidence"],
        "dataset_version": version_number,
        "item_id": row["item_id"],
    }
    annotations = [{"result": result(row["label"], item), "ground_truth": True, "was_cancelled": False}]
    for vote in votes:
        annotation: dict = {
            "result": [] if vote["unusable"] and not vote["labels"] else result(vote["labels"], item),
            "was_cancelled": bool(vote["unusable"]) and not vote["labels"],
            # Label Studio marks an imported annotation as ground truth unless told otherwise.
            "ground_truth": False,
            "lead_time": vote["lead_time_ms"] / 1000 if vote["lead_time_ms"] is not None else None,
        }
        if vote["annotator__email"]:
            annotation["completed_by"] = {"email": vote["annotator__email"]}
        annotations.append(annotation)
    predictions = [
        {
            "model_version": str(p.get("model_version") or "unnamed"),
            "score": p.get("score"),
            "result": result(list(p.get("labels") or []), item),
        }
        for p in ls_predictions
        if isinstance(p, dict) and p.get("labels")
    ]
    if model is not None:
        predicted, probs = model
        score = max(probs.values()) if isinstance(probs, dict) and probs else None
        predictions.append(
            {"model_version": "labelgate-model", "score": score, "result": result(predicted, item)}
        )
    return {
        "id": row["item_id"],
        "data": data,
        "meta": meta,
        "annotations": annotations,
        "predictions": predictions,
    }


def stream_labelstudio_tasks(
    *, version: DatasetVersion, lines: Iterator[str], base_url: str
) -> Iterator[bytes]:
    """The tasks as a JSON array, a batch of rows at a time (two queries per batch: votes, model predictions;
    a third for an image project's sizes)."""
    names = labelstudio_names(version.project)
    result = _result_writer(version.project, names)
    max_age = int(getattr(settings, "LABELGATE_MEDIA_LINK_MAX_AGE", 7 * 24 * 3600))
    base = base_url.rstrip("/")
    first = True
    batch: list[dict] = []

    def render(rows: list[dict]) -> bytes:
        nonlocal first
        ids = [row["item_id"] for row in rows]
        votes, model, sizes = _votes(version, ids), _predictions(version, ids), _sizes(version, ids)
        parts = []
        for row in rows:
            url = (
                f"{base}/media/signed/{media_link_sign(item_id=row['item_id'], max_age=max_age)}/"
                if row["file_url"]
                else None
            )
            task = labelstudio_task(
                row,
                names=names,
                result=result,
                media_url=url,
                version_number=version.number,
                votes=votes.get(row["item_id"], []),
                model=model.get(row["item_id"]),
                size=sizes.get(row["item_id"]),
            )
            parts.append(("[\n" if first else ",\n") + json.dumps(task, ensure_ascii=False))
            first = False
        return "".join(parts).encode()

    for line in lines:
        batch.append(json.loads(line))
        if len(batch) >= BATCH:
            yield render(batch)
            batch = []
    if batch:
        yield render(batch)
    yield b"[\n]\n" if first else b"\n]\n"
