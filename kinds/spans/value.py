"""The spans answer: ``spans``, a list of ``{start, end, label}`` character ranges of the item's text (end
exclusive), stored in ``Annotation.labels`` sorted by (start, end, label); ``[]`` is the answer "read it, found no
entity". An item's gold, consensus and final label hold a span list of the same form.

Every refusal names the span by its position in the list as sent (1-based) and its offsets, so a client with
two thousand spans finds the bad one.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotation.label_colours import label_colour
from annotation.models import Project
from annotation.selectors import json_list_has_part, label_choices
from core.errors import ValidationFailed
from kinds.spans.review import review_rows

#: spans per answer; a named-entity answer past this is a client bug, not a document
MAX_SPANS = 2000
FIELD = "spans"
_SPAN_KEYS = ("start", "end", "label")


class SpanSerializer(serializers.Serializer):
    """One span as the API shows and takes it (documentation of ``spans``' items)."""

    start = serializers.IntegerField(min_value=0, help_text="Character offset of the first character.")
    end = serializers.IntegerField(min_value=1, help_text="Character offset after the last one (exclusive).")
    # A field named like Field.label: DRF collects declared fields, the stubs see the attribute.
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]


def _name(position: int, span: dict) -> str:
    """``Span 2 (start 10, end 4)``: how a message names a span, by its 1-based position as sent."""
    return f"Span {position} (start {span.get('start')!r}, end {span.get('end')!r})"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def spans_shape_problem(raw: object) -> str | None:
    """Why ``raw`` is not a list of ``{start, end, label}`` objects with whole-number offsets, ``start < end`` and
    a label string (None when it is one); the text and the project's labels are checked later."""
    if not isinstance(raw, list):
        return "spans must be a list of {start, end, label} objects."
    if len(raw) > MAX_SPANS:
        return f"At most {MAX_SPANS} spans per item; got {len(raw)}."
    for position, span in enumerate(raw, start=1):
        if not isinstance(span, dict):
            return f"Span {position} must be an object with start, end and label."
        missing = [key for key in _SPAN_KEYS if key not in span]
        if missing:
            return f"{_name(position, span)}: missing {', '.join(missing)}."
        extra = sorted(set(span) - set(_SPAN_KEYS))
        if extra:
            return f"{_name(position, span)}: unknown field {', '.join(map(str, extra))}."
        if not (_is_int(span["start"]) and _is_int(span["end"])):
            return f"{_name(position, span)}: start and end must be whole numbers (character offsets)."
        if span["start"] < 0:
            return f"{_name(position, span)}: start must be 0 or more."
        if span["start"] >= span["end"]:
            return f"{_name(position, span)}: start must be before end."
        if not isinstance(span["label"], str) or not span["label"]:
            return f"{_name(position, span)}: label must be a label value."
    return None


@extend_schema_field(SpanSerializer(many=True))
class SpanListField(serializers.Field):
    """``spans`` in: the shape checked here, so an error names the span rather than nesting per-field lists."""

    def to_internal_value(self, data: Any) -> list[dict]:
        problem = spans_shape_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return [{"start": span["start"], "end": span["end"], "label": span["label"]} for span in data]

    def to_representation(self, value: Any) -> list[dict]:
        return value


class SpansValueInputSerializer(serializers.Serializer):
    #: ``annotation.api.serializers.annotation_input_serializer`` refuses other kinds' answer fields (label…)
    refuses_other_kinds_fields = True
    spans = SpanListField(
        required=False,
        help_text=f"Character offsets into the item's text, end exclusive; [] means no entity. At most {MAX_SPANS}.",
    )

    def validate(self, attrs: dict) -> dict:
        # Left out, the answer would read as "no entity"; that answer is given explicitly, as [].
        if FIELD not in attrs and not attrs.get("unusable"):
            raise serializers.ValidationError(
                {FIELD: ["Give spans ([] when the text has no entity), or flag the item as unusable."]}
            )
        return super().validate(attrs)


input_serializer = SpansValueInputSerializer


class SpansValueOutputSerializer(serializers.Serializer):
    # Not read-only: the schema would then mark it required, and every other kind's annotation lacks it.
    spans = SpanSerializer(many=True, required=False, help_text="Span projects only: the annotation's spans.")


output_serializer = SpansValueOutputSerializer


def output(value: list) -> dict:
    return {FIELD: [dict(span) for span in value or []]}


def value_from_input(validated: dict) -> list:
    """The spans as sent (positions kept for messages); none sent (an unusable item) is no span."""
    spans = validated.get(FIELD)
    return [] if spans is None else spans


def _sorted(spans: list[dict]) -> list[dict]:
    return sorted(spans, key=lambda span: (span["start"], span["end"], span["label"]))


def overlap_problem(spans: list[dict]) -> str | None:
    """The first pair of spans of one label that overlap, named by their positions in ``spans``."""
    by_label: dict[str, list[tuple[int, dict]]] = {}
    for position, span in enumerate(spans, start=1):
        by_label.setdefault(span["label"], []).append((position, span))
    clashes = []
    for label, entries in by_label.items():
        entries.sort(key=lambda entry: (entry[1]["start"], entry[1]["end"], entry[0]))
        reach: tuple[int, dict] | None = None  # the span reaching furthest right so far
        for position, span in entries:
            if reach is not None and span["start"] < reach[1]["end"]:
                first, second = sorted([reach, (position, span)], key=lambda entry: entry[0])
                clashes.append(
                    (
                        second[0],
                        f"{_name(*second)} overlaps {_name(*first).lower()}, both {label!r}: spans of the same "
                        "label may not overlap.",
                    )
                )
                break
            if reach is None or span["end"] > reach[1]["end"]:
                reach = (position, span)
    return min(clashes)[1] if clashes else None


def validate(*, project: Project, value: list, unusable: bool) -> list:
    """Labels and overlaps checked, the spans sorted. Raises ValidationFailed (field ``spans``)."""
    problem = spans_shape_problem(value)
    if problem:
        raise ValidationFailed(problem, field=FIELD)
    if not value:
        return []
    known = label_choices(project=project)
    for position, span in enumerate(value, start=1):
        if span["label"] not in known:
            raise ValidationFailed(
                f"{_name(position, span)}: unknown label {span['label']!r}; this project's labels are "
                f"{', '.join(sorted(known))}.",
                field=FIELD,
            )
    problem = overlap_problem(value)
    if problem:
        raise ValidationFailed(problem, field=FIELD)
    return _sorted(value)


def text_problem(spans: list, text: str) -> str | None:
    """The first span reaching past the end of ``text`` (offsets are characters of the item's own text)."""
    for position, span in enumerate(spans, start=1):
        if isinstance(span, dict) and _is_int(span.get("end")) and span["end"] > len(text):
            return f"{_name(position, span)}: end is past the end of the text ({len(text)} characters)."
    return None


def fit_to_item(*, value: list, text: str, profile: dict) -> list:
    """The offsets checked against the item's text. Raises ValidationFailed (field ``spans``)."""
    problem = text_problem(value, text or "")
    if problem:
        raise ValidationFailed(problem, field=FIELD)
    return value


def gold_value(*, project: Project, raw: object, label_values: set[str]) -> tuple[object | None, str | None]:
    """An imported gold span list: shape, labels and overlaps checked, sorted. ``None``/``""`` is no gold; ``[]``
    is gold saying the text has no entity. The offsets are checked against the text by ``gold_text_problem``."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str):
        # A CSV column (or any text field) holds the list as JSON.
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None, "A span gold label is a JSON list of {start, end, label} objects."
    problem = spans_shape_problem(raw)
    if problem:
        return None, problem
    assert isinstance(raw, list)
    spans = [{"start": span["start"], "end": span["end"], "label": span["label"]} for span in raw]
    for position, span in enumerate(spans, start=1):
        if span["label"] not in label_values:
            return None, (
                f"{_name(position, span)}: unknown label {span['label']!r}; known: {', '.join(sorted(label_values))}."
            )
    problem = overlap_problem(spans)
    if problem:
        return None, problem
    return _sorted(spans), None


def _without_confidence(label: object) -> object:
    """A stored consensus holds each span's ``confidence`` (``kinds.spans.spans_quality``); reading it as a span
    list, or accepting it as the final label, leaves that out."""
    if isinstance(label, list) and any(isinstance(span, dict) and "confidence" in span for span in label):
        return [
            {key: value for key, value in span.items() if key != "confidence"}
            if isinstance(span, dict)
            else span
            for span in label
        ]
    return label


def gold_text_problem(value: list, text: str) -> str | None:
    """The first gold span reaching past the end of the row's ``text`` (spans named in their sorted order)."""
    return text_problem(value, text)


#: import keys that hold a row's spans when it has no ``gold_label``: ``spans`` (this API's form) and spaCy's
#: ``entities`` (``[start, end, label]`` triples or objects)
GOLD_KEYS = ("spans", "entities")


def gold_from_metadata(metadata: dict) -> tuple[object | None, dict]:
    """An import row's spans from ``spans`` or ``entities`` (readers put keys they do not know in metadata),
    and the metadata without that key; (None, metadata) when there is neither."""
    for key in GOLD_KEYS:
        if key in metadata:
            raw = metadata[key]
            rest = {name: value for name, value in metadata.items() if name != key}
            if isinstance(raw, list):
                raw = [
                    {"start": entry[0], "end": entry[1], "label": entry[2]}
                    if isinstance(entry, list) and len(entry) == 3
                    else entry
                    for entry in raw
                ]
            return raw, rest
    return None, metadata


def _span_list(label: object) -> list[dict] | None:
    label = _without_confidence(label)
    if not isinstance(label, list):
        return None
    if spans_shape_problem(label) is not None:
        return None
    return label


def final_from_choice(*, project: Project, label: object, active: set[str]) -> object:
    """A reviewer's span list as stored in ``final_label``. Raises ValidationFailed (field ``label``) for a
    malformed list, an inactive label or overlapping spans of one label."""
    label = _without_confidence(label)
    problem = spans_shape_problem(label)
    if problem:
        raise ValidationFailed(problem, field="label")
    assert isinstance(label, list)
    spans = [{"start": span["start"], "end": span["end"], "label": span["label"]} for span in label]
    for position, span in enumerate(spans, start=1):
        if span["label"] not in active:
            raise ValidationFailed(
                f"{_name(position, span)}: unknown label {span['label']!r}; this project's labels are "
                f"{', '.join(sorted(active))}.",
                field="label",
            )
    problem = overlap_problem(spans)
    if problem:
        raise ValidationFailed(problem, field="label")
    return _sorted(spans)


def final_from_vote(value: list, *, project: Project, mapping: dict[str, str]) -> object:
    """An answer's spans as a final label would hold them, retired labels mapped to their targets (``remap``);
    None when the stored value is no span list."""
    spans = _span_list(value or [])
    return None if spans is None else remap(spans, mapping)


def remap(value: object, mapping: dict[str, str]) -> object:
    """A stored span list (an item's final or consensus spans) with retired labels renamed to their targets;
    spans the mapping makes equal are kept once. Anything else is returned as it is."""
    if _span_list(value) is None:
        return value
    assert isinstance(value, list)
    spans = value
    # Other keys (a consensus span's confidence) stay; of spans made equal, the first keeps its keys.
    kept: dict[tuple, dict] = {}
    for span in spans:
        renamed = {**span, "label": mapping.get(span["label"], span["label"])}
        kept.setdefault((renamed["start"], renamed["end"], renamed["label"]), renamed)
    return [kept[key] for key in sorted(kept)]


def label_classes(value: object) -> list:
    """The labels a stored span list names (each once, in order of first appearance)."""
    spans = _span_list(value)
    if spans is None:
        return []
    return list(dict.fromkeys(span["label"] for span in spans))


def stored_label_query(field_name: str, value: str, *, project: Project) -> Q:
    """Items whose stored span list (``consensus_label``, ``final_label``) has a span labelled ``value``."""
    return json_list_has_part(field_name, "label", value)


def review_settings(*, project: Project) -> dict:
    return {"spans": True, "snapTokens": project.span_snap_tokens}


def widget_settings(*, project: Project) -> dict:
    """What the label page's widget (``kinds/spans/widget.js``) needs: whether selections snap to tokens."""
    return {"snapTokens": project.span_snap_tokens}


def confidence_meaning(*, project: Project) -> str | None:
    """The item's confidence is its least certain token's (``kinds.spans.spans_quality``); the token consensus is
    a majority vote or Dawid–Skene as the project's consensus method says (a quality run decides either way)."""
    method = (
        "the share of the annotators who gave it that label (majority vote on the tokens)"
        if project.consensus_method == "majority_vote"
        else "the probability of its label under Dawid–Skene on the tokens, fitted by the last quality run"
    )
    return f"the least certain token's: for each token of the text, {method}; a span's own confidence is its tokens' mean"


def describe(value: list) -> str:
    """An answer in a sentence of the review history: ``3 spans (LOC, PER)``, or ``no entity``."""
    spans = _span_list(value) or []
    if not spans:
        return "no entity"
    labels = ", ".join(sorted({span["label"] for span in spans}))
    return f"{len(spans)} span{'s' if len(spans) != 1 else ''} ({labels})"


def consensus_fields(consensus: object) -> dict:
    """The item detail's ``consensus_spans``: the stored consensus spans with their confidences (``[]`` when the
    annotators found no entity, also ``[]`` before a quality run has computed one)."""
    spans = consensus if isinstance(consensus, list) else []
    return {
        "consensus_spans": [
            {
                "start": span["start"],
                "end": span["end"],
                "label": span["label"],
                "confidence": span.get("confidence"),
            }
            for span in spans
            if isinstance(span, dict)
        ]
    }


def review_context(*, project: Project, item: Any, annotations: list) -> dict:
    """What the review item page's span view (``kinds/spans/review.html``) shows: the consensus, each live
    annotation and the gold spans as rows over the item's text, each span with its disagreement with the
    consensus; ``seed``, the answer the editor starts from (the consensus spans)."""
    colours = {
        label.value: label_colour(label.colour, label.order)
        for label in project.labels.order_by("order", "id").only("value", "colour", "order")
    }
    # The stored consensus keeps each span's confidence, which the consensus row shows.
    consensus = item.consensus_label if _span_list(item.consensus_label) is not None else None
    gold = _span_list(item.gold_label) if item.gold_label is not None else None
    rows = review_rows(
        text=item.text,
        consensus=consensus,
        annotations=[
            (a.annotator.username, _span_list(a.labels) or [], a.is_live) for a in annotations if a.is_live
        ],
        gold=gold,
        colours=colours,
    )
    return {
        "rows": rows,
        "text": item.text,
        "has_consensus": consensus is not None,
        "seed": {FIELD: [{name: span[name] for name in _SPAN_KEYS} for span in consensus or []]},
    }
