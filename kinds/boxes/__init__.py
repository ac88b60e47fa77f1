"""Boxes: labelled rectangles on an image, in pixels of the stored image with the origin at its top-left corner."""

from django.db import models

from kinds.registry import ExportFormat, ReportFigure, TaskKind

#: Why the pair figures are empty: a pair counts only on images both annotators boxed.
NO_PAIR_YET = "no annotator pair shares {cohen_min_overlap} images yet (the minimum for pair figures)"


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
        "labelstudio": ExportFormat("application/json", "labelstudio.json"),
        "zip": ExportFormat("application/zip", "zip"),
        "labelstudio-config": ExportFormat("application/xml", "labelstudio.xml"),
    },
    widget_template="kinds/boxes/widget.html",
    widget_js="kinds/boxes/widget.js",
    media={TaskType.IMAGE_BOXES: "image"},
    gold_files="kinds.boxes.goldfiles",
    import_note=", and existing boxes as gold beside the images: COCO JSON, Pascal VOC XML or YOLO txt files",
    # The widget's own keys (kinds/static/kinds/boxes/editor.js): nothing to box, duplicate, hide, resize, undo,
    # fit, zoom; a label hotkey would shadow them.
    reserved_hotkeys=frozenset({"n", "d", "h", "r", "z", "0", "+", "=", "-"}),
    reason_words={
        "missing_box": "missing box",
        "extra_box": "extra box",
        "loose_boundary": "loose box boundary",
        "class_confusion": "box class differs",
    },
    report_figures=(
        ReportFigure(
            "mean_pairwise_box_f1",
            "Mean pairwise box F1 (IoU ≥ 0.5)",
            "boxes match one-to-one at IoU ≥ 0.5 with the same label; annotator pairs sharing ≥ "
            "{cohen_min_overlap} images",
            empty_reading=NO_PAIR_YET,
        ),
        ReportFigure(
            "mean_matched_iou",
            "Mean matched IoU",
            "over the {n_matched_boxes} matched box pairs",
            empty_reading=NO_PAIR_YET,
        ),
        ReportFigure(
            "n_box_pairs",
            "Annotator pairs",
            "pairs the box F1 averages over",
            count=True,
            empty_reading=NO_PAIR_YET,
        ),
        ReportFigure("n_boxes", "Boxes drawn", count=True),
        ReportFigure("n_consensus_boxes", "Consensus boxes", count=True),
    ),
    label_figures=(
        ReportFigure("mean_pairwise_box_f1", "Box F1 (IoU ≥ 0.5)"),
        ReportFigure("mean_matched_iou", "Mean matched IoU"),
        ReportFigure("n_boxes", "Boxes", count=True),
        ReportFigure("n_consensus_boxes", "Consensus boxes", count=True),
    ),
    agreement_unit=None,
    annotator_agreement="box F1",
    # Label Studio import with labelstudio_annotations=gold: these regions become gold
    labelstudio_regions="rectanglelabels",
    # the dashboard's boxes panels in place of the class-label ones
    dashboard_panels="kinds.boxes.panels",
    # The review item page: every annotator's boxes over the image, the consensus, the editor seeded with it.
    review_template="kinds/boxes/review.html",
    review_js="kinds/boxes/review.js",
)
