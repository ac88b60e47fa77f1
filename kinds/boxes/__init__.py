"""Boxes: labelled rectangles on an image, in pixels of the stored image with the origin at its top-left corner."""

from django.db import models

from kinds.registry import ExportFormat, TaskKind


class TaskType(models.TextChoices):
    """The boxes kind's task type, as ``Project.task_type`` stores it."""

    IMAGE_BOXES = "image_boxes", "Image boxes"


KIND: TaskKind = TaskKind(
    name="boxes",
    task_types=tuple(TaskType.values),
    task_type_labels=dict(TaskType.choices),
    value="kinds.boxes.value",
    quality="kinds.boxes.quality",
    export="kinds.boxes.export",
    formats={
        "jsonl": ExportFormat("application/x-ndjson", "jsonl"),
        "coco": ExportFormat("application/json", "coco.json"),
        "yolo": ExportFormat("application/zip", "yolo.zip"),
        "zip": ExportFormat("application/zip", "zip"),
    },
    widget_template="kinds/boxes/widget.html",
    widget_js="kinds/boxes/widget.js",
    media={TaskType.IMAGE_BOXES: "image"},
    gold_files="kinds.boxes.goldfiles",
    import_note=", and existing boxes as gold beside the images: COCO JSON, Pascal VOC XML or YOLO txt files",
)
