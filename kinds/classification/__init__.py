"""Classification: one class per item, or a set of classes with ``multi_label``, for text, images and audio."""

from kinds.registry import ExportFormat, TaskKind

KIND: TaskKind = TaskKind(
    name="classification",
    task_types=("text_classification", "image_classification", "audio_classification"),
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
    media={"text_classification": "text", "image_classification": "image", "audio_classification": "audio"},
)
