"""Classification: one class per item, or a set of classes with ``multi_label``, for text, images and audio."""

from django.db import models

from kinds.registry import ExportFormat, TaskKind


class TaskType(models.TextChoices):
    """Classification's task types, as ``Project.task_type`` stores them."""

    TEXT = "text_classification", "Text classification"
    IMAGE = "image_classification", "Image classification"
    AUDIO = "audio_classification", "Audio classification"


KIND: TaskKind = TaskKind(
    name="classification",
    multi_label=True,
    task_types=tuple(TaskType.values),
    task_type_labels=dict(TaskType.choices),
    value="kinds.classification.value",
    quality="kinds.classification.quality",
    export="kinds.classification.export",
    learning="kinds.classification.learning",
    formats={
        "jsonl": ExportFormat("application/x-ndjson", "jsonl"),
        "csv": ExportFormat("text/csv; charset=utf-8", "csv"),
        "parquet": ExportFormat("application/vnd.apache.parquet", "parquet"),
        "labelstudio": ExportFormat("application/json", "labelstudio.json"),
        "zip": ExportFormat("application/zip", "zip"),
        "labelstudio-config": ExportFormat("application/xml", "labelstudio.xml"),
    },
    widget_template="kinds/classification/widget.html",
    widget_js="kinds/classification/widget.js",
    media={TaskType.TEXT: "text", TaskType.IMAGE: "image", TaskType.AUDIO: "audio"},
)
