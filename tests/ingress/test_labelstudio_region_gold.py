"""Label Studio regions read as gold by the project's kind (``LsOptions.regions``): span ``labels`` regions,
the annotations marked ``ground_truth`` before the others, a reviewed empty answer as "no entity"; a class
project never takes regions; labelling configs with ``<Labels>`` or ``<RectangleLabels>`` are read."""

import json

import pytest

from ingress.readers.labelstudio import task_to_row
from ingress.readers.labelstudio_config import parse_config
from ingress.readers.labelstudio_parts import LsOptions

TEXT = "Ada met Bob"


def _labels(start, end, label):
    return {
        "type": "labels",
        "from_name": "ner",
        "to_name": "text",
        "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]},
    }


def _row(annotations, regions="labels"):
    task = {"id": 1, "data": {"text": TEXT}, "annotations": annotations}
    return task_to_row(task, line=1, options=LsOptions(annotations_as="gold", media=False, regions=regions))


def test_the_ground_truth_annotation_is_the_gold_whatever_the_others_drew():
    row = _row(
        [
            {"id": 1, "result": [_labels(8, 11, "PER")], "ground_truth": False},
            {"id": 2, "result": [_labels(0, 3, "PER")], "ground_truth": True},
        ]
    )
    assert json.loads(row.gold_label) == [{"start": 0, "end": 3, "label": "PER"}]


def test_without_a_ground_truth_only_agreeing_annotations_give_gold():
    agree = _row([{"id": 1, "result": [_labels(0, 3, "PER")]}, {"id": 2, "result": [_labels(0, 3, "PER")]}])
    differ = _row([{"id": 1, "result": [_labels(0, 3, "PER")]}, {"id": 2, "result": [_labels(8, 11, "PER")]}])
    assert json.loads(agree.gold_label) == [{"start": 0, "end": 3, "label": "PER"}]
    assert differ.gold_label is None


def test_an_empty_ground_truth_is_gold_no_entity_but_empty_unmarked_answers_are_not():
    assert json.loads(_row([{"id": 1, "result": [], "ground_truth": True}]).gold_label) == []
    assert _row([{"id": 1, "result": []}]).gold_label is None


def test_a_class_project_takes_no_regions_as_gold():
    assert (
        _row([{"id": 1, "result": [_labels(0, 3, "PER")], "ground_truth": True}], regions="").gold_label
        is None
    )


@pytest.mark.parametrize(
    ("control", "tag"),
    [("Labels", "Text"), ("RectangleLabels", "Image")],
)
def test_span_and_box_labelling_configs_are_read(control, tag):
    key = tag.lower()
    config = parse_config(
        f'<View><{tag} name="doc" value="${key}"/><{control} name="ner" toName="doc">'
        f'<Label value="PER"/><Label value="LOC"/></{control}></View>'
    )
    assert (config.control, config.target, config.data_key, config.choices) == (
        "ner",
        "doc",
        key,
        ("PER", "LOC"),
    )
