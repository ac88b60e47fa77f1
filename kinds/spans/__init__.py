"""Spans: named-entity style labelled character ranges of an item's text (``text_spans``)."""

from django.db import models

from kinds.registry import ExportFormat, ReportFigure, TaskKind


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
    learning="kinds.spans.learning",
    formats={
        "jsonl": ExportFormat("application/x-ndjson", "jsonl"),
        "conll": ExportFormat("text/plain; charset=utf-8", "conll"),
        "labelstudio": ExportFormat("application/json", "labelstudio.json"),
        "zip": ExportFormat("application/zip", "zip"),
        "labelstudio-config": ExportFormat("application/xml", "labelstudio.xml"),
    },
    widget_template="kinds/spans/widget.html",
    widget_js="kinds/spans/widget.js",
    media={TaskType.TEXT: "text"},
    import_note=(
        "; existing spans as gold: JSONL spans or spaCy entities, a Label Studio export's labels regions (choose "
        '"use agreed ones as gold"), or a CoNLL/BIO file (.conll, .bio, or .txt: a token and its BIO tag per '
        "line, a blank line after each document, -DOCSTART- lines skipped). A CoNLL document's text is its "
        "tokens joined with single spaces, its spans at the offsets of that text; an I- tag without its B- "
        "starts a span"
    ),
    min_labels=1,
    # "No entities" (the widget falls back to 0, - or = only when a label already has n)
    reserved_hotkeys=frozenset({"n"}),
    reason_words={
        "boundary_disagreement": "span boundaries differ",
        "type_confusion": "entity type differs",
        "missed_entity": "missed entity",
        "spurious_entity": "spurious entity",
    },
    report_figures=(
        ReportFigure(
            "mean_pairwise_span_f1",
            "Mean pairwise span F1",
            "spans match on exact start, end and label; annotator pairs sharing ≥ {cohen_min_overlap} items",
        ),
        ReportFigure(
            "mean_pairwise_partial_span_f1",
            "Mean pairwise partial span F1",
            "spans match when they overlap with the same label; annotator pairs sharing ≥ {cohen_min_overlap} items",
        ),
        ReportFigure("n_annotator_pairs", "Annotator pairs", "pairs the span F1s average over", count=True),
        ReportFigure(
            "n_tokens", "Tokens", "what α and κ below are computed on (whitespace-separated)", count=True
        ),
    ),
    label_figures=(
        ReportFigure("span_f1", "Span F1"),
        ReportFigure("partial_span_f1", "Partial span F1"),
        ReportFigure("n_spans", "Spans", count=True),
        ReportFigure("n_consensus_spans", "Consensus spans", count=True),
    ),
    agreement_unit="tokens",
    annotator_agreement="span F1",
    # Label Studio import with labelstudio_annotations=gold: these regions become gold
    labelstudio_regions="labels",
    # the dashboard's spans panels in place of the class-label ones
    dashboard_panels="kinds.spans.panels",
    # The review item page: each annotator's spans aligned over the text, the consensus, the widget as editor.
    review_template="kinds/spans/review.html",
    review_js="kinds/spans/review.js",
)
