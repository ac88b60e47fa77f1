"""The quality job reads span and box answers straight into columns (``AnswerParts`` → ``AnswerColumns``); the
kinds' dict path (answers as stored values, used by in-memory callers) stays. On a simulated crowd stored in the
database, with answers a kind must skip (unknown labels, invalid boxes, an unusable empty answer), gold and tags,
both reads give the same run: every figure, row and item result equal."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from annotation.models import Annotation, Item, Label, Project
from bench.box_quality import LABELS as BOX_LABELS
from bench.box_quality import crowd_rows
from bench.span_quality import LABELS as SPAN_LABELS
from bench.span_quality import simulate
from quality.adapters.answers import AnswerColumns, project_answers_load
from quality.services.engine import run_structured_quality
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _store(
    task_type: str, labels: list[str], texts: list[str], rows: list[tuple[int, int, object]], gold: dict
):
    project = Project.objects.create(name=task_type, task_type=task_type, annotations_per_item=3)
    Label.objects.bulk_create([Label(project=project, value=v, order=i) for i, v in enumerate(labels)])
    users = [UserFactory() for _ in range(1 + max(u for _, u, _ in rows))]
    items = Item.objects.bulk_create(
        [
            Item(
                project=project,
                external_id=f"x{i}",
                text=text,
                sha256=f"{i:064x}",
                status="labelled",
                gold_label=gold.get(i),
                tags=["hard"] if i % 4 == 0 else [],
            )
            for i, text in enumerate(texts)
        ]
    )
    Annotation.objects.bulk_create(
        [
            Annotation(
                project=project,
                item=items[i],
                annotator=users[u],
                labels=value,
                unusable=value == [] and i == 1,
                guideline_version=1 + u % 2,
                is_live=True,
            )
            for i, u, value in rows
        ]
    )
    return project


def _same(a, b, where="outcome"):
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, where
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            assert a.tolist() == b.tolist(), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _both_runs(project, encoding):
    as_values = project_answers_load(project=project)
    as_columns = project_answers_load(project=project, parts=encoding.answer_parts)
    assert isinstance(as_values.answer_value, list)
    assert isinstance(as_columns.answer_value, AnswerColumns)
    runs = [
        run_structured_quality(
            answers=answers,
            encoding=encoding,
            requested_method="",
            review_threshold=0.7,
            route_profile_flags=True,
        )
        for answers in (as_values, as_columns)
    ]
    return as_values, as_columns, runs


def test_span_columns_give_the_run_of_the_stored_values():
    from kinds.spans.spans_quality import SPANS

    simulated = simulate(60, seed=3)
    rows = [
        (int(i), int(u), [dict(span) for span in value])
        for i, u, value in zip(
            simulated.answer_item, simulated.answer_user, simulated.answer_value, strict=True
        )
    ]
    # A span with a label the project does not have, and an unusable empty answer, are skipped by both reads.
    rows[0][2].append({"start": 0, "end": 2, "label": "NOT_A_LABEL"})
    rows[3] = (1, rows[3][1], [])
    gold = {2: [dict(span) for span in rows[6][2]], 5: []}
    project = _store("text_spans", list(SPAN_LABELS), list(simulated.item_text), rows, gold)

    as_values, as_columns, (by_values, by_columns) = _both_runs(project, SPANS)

    n_spans = sum(len(value) for value in as_values.answer_value)
    assert as_columns.answer_value.label.size == n_spans - 1  # the unknown label's span is left out
    assert as_columns.answer_value.numbers.dtype == np.int32
    assert by_values.scalars["n_annotations"] == len(rows) - 1
    _same(by_values, by_columns)


def test_box_columns_give_the_run_of_the_stored_values():
    from kinds.boxes.quality_run import BOXES

    rows = [(image - 1, annotator - 1, boxes) for image, annotator, boxes, _, _ in crowd_rows(40, seed=5)]
    # Boxes a kind skips: an unknown label, zero width, a string coordinate; and an unusable empty answer.
    rows[0][2].append({"x": 1.0, "y": 2.0, "w": 3.0, "h": 4.0, "label": "unicorn"})
    rows[1][2].append({"x": 1.0, "y": 2.0, "w": 0.0, "h": 4.0, "label": BOX_LABELS[0]})
    rows[2][2].append({"x": "1", "y": 2.0, "w": 3.0, "h": 4.0, "label": BOX_LABELS[0]})
    rows[3] = (1, rows[3][1], [])
    gold = {0: [dict(box) for box in rows[4][2]], 7: []}
    project = _store("image_boxes", list(BOX_LABELS), [""] * 40, rows, gold)

    as_values, as_columns, (by_values, by_columns) = _both_runs(project, BOXES)

    n_boxes = sum(len(value) for value in as_values.answer_value)
    assert as_columns.answer_value.label.size == n_boxes - 3
    assert by_values.kind_figures["hlp_f1"]["gold"] is not None
    _same(by_values, by_columns)
