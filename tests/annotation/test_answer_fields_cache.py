"""The annotation POST refuses another kind's answer fields; the list of every kind's answer fields is read once
per state of the kinds registry, not on every request, and read again when a kind is registered or removed."""

from dataclasses import replace

import pytest
from rest_framework import serializers

from annotation.api import labelling_serializers
from kinds.registry import TaskKind, kinds, register, unregister


class _CountingValue:
    """A value part whose input serializer counts how often it is looked up."""

    def __init__(self):
        self.reads = 0

    @property
    def input_serializer(self):
        self.reads += 1

        class YesNoValueInputSerializer(serializers.Serializer):
            answer = serializers.CharField()

        return YesNoValueInputSerializer


@pytest.fixture
def counting_kind():
    value = _CountingValue()
    kind = TaskKind(name="counting", task_types=("counting_check",), value=value, quality="", export="")
    register(kind)
    yield kind, value
    unregister("counting")


def test_answer_fields_are_read_once_per_registry_state(counting_kind):
    kind, value = counting_kind
    # Given a registered kind with an ``answer`` field: the first call reads it, the next ones do not
    first = labelling_serializers._kinds_answer_fields()
    assert "answer" in first and {"label", "spans", "boxes"} <= set(first)
    reads = value.reads
    assert reads >= 1
    for _ in range(5):
        assert labelling_serializers._kinds_answer_fields() == first
    assert value.reads == reads
    # When the kind is registered again (a new object of the same name), its fields are read again
    register(replace(kind, task_type_labels={"counting_check": "Counting"}))
    labelling_serializers._kinds_answer_fields()
    assert value.reads == reads + 1
    # When it is removed, its field is no longer refused
    unregister("counting")
    assert "answer" not in labelling_serializers._kinds_answer_fields()
    assert [k.name for k in kinds()] == ["classification", "spans", "boxes"]
