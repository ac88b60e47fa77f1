"""A project's live answers as stored, for kinds whose answers are structured (``encoding.structured``: spans,
boxes) and are not one class code each: the kind's own ``run`` reads them (:class:`ProjectAnswers`).

Two streamed queries (items, annotations) whatever the project size.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Exists, OuterRef

from annotation.item_flags import profiling_flagged
from annotation.models import Annotation, Item, ItemStatus, Project
from annotation.selectors import label_schema_for
from quality.adapters.stream import CHUNK


@dataclass(frozen=True)
class AnswerParts:
    """How a kind reads the parts (spans, boxes) of one stored answer: ``rows(value, label_index)`` yields
    ``(label code, number, ...)`` for each part the kind keeps, ``n_numbers`` numbers each, stored as
    ``typecode`` (an :mod:`array` code: ``"i"`` 32-bit ints, ``"d"`` floats)."""

    rows: Callable[[object, dict[str, int]], Iterable[tuple]]
    n_numbers: int
    typecode: str


@dataclass(frozen=True)
class AnswerColumns:
    """Every answer's kept parts as columns: answer ``a`` owns parts ``ptr[a]:ptr[a + 1]``, each with a label code
    (into the project's label values) and its numbers (a row of ``numbers``). A run at 100,000 items holds
    millions of parts: as dicts they take several hundred MB, as columns a few tens."""

    ptr: np.ndarray
    label: np.ndarray
    numbers: np.ndarray

    def owner(self) -> np.ndarray:
        """The answer index of each part."""
        return np.repeat(np.arange(self.ptr.size - 1, dtype=np.int64), np.diff(self.ptr))


class _ColumnsBuilder:
    def __init__(self, parts: AnswerParts, label_index: dict[str, int]):
        self.parts, self.index = parts, label_index
        self.ptr = array("q", [0])
        self.label = array("h")
        self.numbers = array(parts.typecode)

    def add(self, value: object) -> None:
        for row in self.parts.rows(value, self.index):
            self.label.append(row[0])
            self.numbers.extend(row[1:])
        self.ptr.append(len(self.label))

    def columns(self) -> AnswerColumns:
        return AnswerColumns(
            ptr=np.array(self.ptr, dtype=np.int64),
            label=np.array(self.label, dtype=np.int16),
            numbers=np.array(self.numbers).reshape(-1, self.parts.n_numbers),
        )


@dataclass(frozen=True)
class ProjectAnswers:
    """Items (non-discarded, with a live annotation, in id order) and their live answers.

    ``answer_item``/``answer_user`` index into ``item_ids``/``user_ids``; ``answer_value`` is the stored
    ``Annotation.labels`` of each answer, or (read with the kind's ``parts``) the kept parts of every answer as
    :class:`AnswerColumns`. An annotation flagged unusable with an empty value is no answer: it only
    counts in ``unusable_count``. ``gold`` holds each item's stored gold label (None without one).
    ``item_tags`` maps each tag to the indices of its items; ``answer_version`` is each answer's guideline
    version (0 when none was recorded)."""

    item_ids: np.ndarray
    item_status: np.ndarray
    item_text: list[str]
    item_metadata: list[dict]
    gold: list
    flagged: np.ndarray
    unsure_count: np.ndarray
    unusable_count: np.ndarray
    answer_item: np.ndarray
    answer_user: np.ndarray
    answer_value: list | AnswerColumns
    user_ids: np.ndarray
    label_values: list[str]
    task_type: str
    item_tags: dict[str, np.ndarray] = field(default_factory=dict)
    answer_version: np.ndarray | None = None
    #: each answer's lead time in seconds (nan unknown), as the class run reads ``lead_time_ms``
    answer_lead_time: np.ndarray | None = None
    #: the project read from; None for answers built in memory (a kind's run then reads nothing else stored)
    project_id: int | None = None

    @property
    def n_answers(self) -> int:
        return int(self.answer_item.size)

    def median_lead_time_s(self) -> np.ndarray:
        """Each annotator's median lead time in seconds over the answers whose time is known (nan: none), the
        figure the class run stores as ``median_lead_time_s``."""
        n = int(self.user_ids.size)
        out = np.full(n, np.nan)
        if self.answer_lead_time is None or self.answer_lead_time.size != self.answer_user.size:
            return out
        known = np.isfinite(self.answer_lead_time)
        users, times = self.answer_user[known], self.answer_lead_time[known]
        order = np.lexsort((times, users))
        users, times = users[order], times[order]
        bounds = np.searchsorted(users, np.arange(n + 1))
        for a in range(n):
            if bounds[a + 1] > bounds[a]:
                out[a] = float(np.median(times[bounds[a] : bounds[a + 1]]))
        return out


def project_answers_load(*, project: Project, parts: AnswerParts | None = None) -> ProjectAnswers:
    """The project's answers; with ``parts``, ``answer_value`` is decoded answer by answer into
    :class:`AnswerColumns` while reading (no answer's dicts are kept), else it is the list of stored values."""
    live = Annotation.objects.filter(item=OuterRef("pk"), is_live=True)
    items = (
        Item.objects.filter(project=project)
        .exclude(status=ItemStatus.DISCARDED)
        .filter(Exists(live))
        .order_by("id")
        .values_list("id", "status", "text", "metadata", "gold_label", "flags", "tags")
        .iterator(chunk_size=CHUNK)
    )
    ids: list[int] = []
    status: list[str] = []
    text: list[str] = []
    metadata: list[dict] = []
    gold: list = []
    flagged: list[bool] = []
    tags: dict[str, list[int]] = {}
    for pk, item_status, item_text, item_metadata, gold_label, flags, item_tags in items:
        for tag in item_tags or ():
            tags.setdefault(tag, []).append(len(ids))
        ids.append(pk)
        status.append(item_status)
        text.append(item_text or "")
        metadata.append(item_metadata or {})
        gold.append(None if gold_label in (None, "") else gold_label)
        flagged.append(profiling_flagged(flags))
    item_ids = np.asarray(ids, dtype=np.int64)
    position = {pk: i for i, pk in enumerate(ids)}
    rows = (
        Annotation.objects.filter(project=project, is_live=True)
        .exclude(item__status=ItemStatus.DISCARDED)
        .order_by("item_id", "annotator_id")
        .values_list(
            "item_id", "annotator_id", "labels", "unsure", "unusable", "guideline_version", "lead_time_ms"
        )
        .iterator(chunk_size=CHUNK)
    )
    n = len(ids)
    unsure_count = np.zeros(n, dtype=np.int64)
    unusable_count = np.zeros(n, dtype=np.int64)
    answer_item = array("q")
    answer_user = array("q")
    label_values = label_schema_for(project=project).values
    builder = (
        _ColumnsBuilder(parts, {v: i for i, v in enumerate(label_values)}) if parts is not None else None
    )
    answer_value: list = []
    answer_version = array("q")
    answer_lead = array("d")
    for item_id, user_id, labels, unsure, unusable, version, lead_ms in rows:
        # An annotation on an item that appeared after the item query is left out.
        at = position.get(item_id)
        if at is None:
            continue
        unsure_count[at] += bool(unsure)
        unusable_count[at] += bool(unusable)
        if unusable and not labels:
            continue
        answer_item.append(at)
        answer_user.append(user_id)
        if builder is not None:
            builder.add(labels if isinstance(labels, list) else [])
        else:
            answer_value.append(labels if isinstance(labels, list) else [])
        answer_version.append(version or 0)
        answer_lead.append(math.nan if lead_ms is None else lead_ms / 1000.0)
    user_ids, answer_user_index = np.unique(np.array(answer_user, dtype=np.int64), return_inverse=True)
    return ProjectAnswers(
        item_ids=item_ids,
        item_status=np.asarray(status, dtype=object),
        item_text=text,
        item_metadata=metadata,
        gold=gold,
        flagged=np.asarray(flagged, dtype=bool),
        unsure_count=unsure_count,
        unusable_count=unusable_count,
        answer_item=np.array(answer_item, dtype=np.int64),
        answer_user=answer_user_index.astype(np.int64),
        answer_value=builder.columns() if builder is not None else answer_value,
        user_ids=user_ids.astype(np.int64),
        label_values=label_values,
        task_type=project.task_type,
        item_tags={tag: np.asarray(members, dtype=np.int64) for tag, members in sorted(tags.items())},
        answer_version=np.array(answer_version, dtype=np.int64),
        answer_lead_time=np.array(answer_lead, dtype=np.float64),
        project_id=project.pk,
    )
