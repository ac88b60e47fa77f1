"""Spans: named-entity style labelled character ranges of an item's text (``text_spans``)."""

from django.db import models

from kinds.registry import ExportFormat, TaskKind


class TaskType(models.TextChoices):
    """The spans kind's task types, as ``Project.task_type`` stores them."""

    TEXT = "text_spans", "Text spans (entities)"


KIND: TaskKind = TaskKind(
    name="spans",
    task_types=tuple(TaskType.values),
    task_type_labels=dict(TaskType.choices),
    value="kinds.spans.value",
    quality="kinds.spans.quality",
    export="kinds.spans.export",
    formats={
        "jsonl": ExportFormat("application/x-ndjson", "jsonl"),
        "conll": ExportFormat("text/plain; charset=utf-8", "conll"),
        "zip": ExportFormat("application/zip", "zip"),
    },
    widget_template="kinds/spans/widget.html",
    widget_js="kinds/spans/widget.js",
    media={TaskType.TEXT: "text"},
    min_labels=1,
)
