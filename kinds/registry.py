"""Task kinds: what "a label" is for a project, and every place that depends on it.

A kind supplies, each as one object (or the dotted path of a module, imported on first use so a web process
never loads the metrics or export code of a kind):

- ``value``: the annotation value's input and output fields, validation and stored form, and how review reads
  and sets an item's derived labels (:class:`ValueSchema`);
- ``quality``: the canonical encoding for metrics, consensus (for a run and for one item's votes), agreement and
  label issues (:class:`QualityPart`);
- ``export``: export rows and formats (:class:`ExportPart`);
- ``learning`` (optional): how answers become the classes active learning counts and trains on
  (:class:`LearningPart`); a kind without one has its items ordered by the cold-start rule, with no adaptive
  overlap;
- its labelling widget: a template included by the label page and the script it needs;
- ``media``: what an item of each of its task types is (text, an image, audio), which decides how items are
  imported and laid out in exports.

Adding a kind is a package under ``kinds/``, its widget files, and one :func:`register` line at the end of this
module. Nothing in annotation, activelearning, quality or datasets names a kind.
module; its task types are then what a project may be created with (:func:`task_type_choices`). Nothing in
annotation, quality or datasets names a kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.models import Q

    from annotation.models import Project


class ValueSchema(Protocol):
    """The annotation value of a kind, as the API takes it and the ``Annotation.labels`` column stores it."""

    #: DRF serializer class with the kind's own fields of ``POST /annotations/`` (and their cross-field checks)
    input_serializer: type

    def value_from_input(self, validated: dict) -> list:
        """The stored value from the validated input fields."""

    def validate(self, *, project: Project, value: list, unusable: bool) -> list:
        """The value checked against the project (its labels, its settings), normalised; raises
        ``ValidationFailed`` naming the offending field."""

    def gold_value(
        self, *, project: Project, raw: object, label_values: set[str]
    ) -> tuple[object | None, str | None]:
        """An imported gold answer normalised: ``(value, None)``, or ``(None, error message)``."""

    # Optional: ``fit_to_item(*, value: list, text: str, profile: dict) -> list``, the validated value checked
    # against the item it answers (its text, its media profile: an image's ``width`` and ``height``), for kinds
    # whose answers point into the item; raises ``ValidationFailed``. Kinds without it are not asked.

    #: DRF serializer class with the fields :meth:`output` returns, for the API schema
    output_serializer: type

    def output(self, value: list) -> dict:
        """A stored value as the API shows it: the fields of ``output_serializer``, ready for JSON."""

    # How an item's derived labels (``consensus_label``, ``final_label``) read for review (``quality.review``).
    def final_from_choice(self, *, project: Project, label: object, active: set[str]) -> object:
        """A reviewer's choice (or an item's consensus, taken by Accept) as stored in ``final_label``; raises
        ``ValidationFailed`` (field ``label``) when it is not one of the project's ``active`` labels."""

    def final_from_vote(self, value: list, *, project: Project, mapping: dict[str, str]) -> object:
        """A stored answer as ``final_label`` would hold it (``mapping``: retired label → its target), to compare
        an annotator's vote with the final label; None when it cannot be one."""

    def label_classes(self, value: object) -> list:
        """The classes (answers' values) a stored consensus, final or gold label names, to compare it with the
        votes and with the gold label."""

    def stored_label_query(self, field_name: str, value: str, *, project: Project) -> Q:
        """The filter for items whose stored label field ``field_name`` holds the class ``value``."""

    def review_settings(self, *, project: Project) -> dict:
        """Settings the review page's script reads for the label choice, merged into its page config."""

    def widget_settings(self, *, project: Project) -> dict:
        """Settings the kind's labelling widget script reads, merged into the label page's config."""

    def confidence_meaning(self, *, project: Project) -> str | None:
        """What an item's consensus confidence means when the kind fixes it, None when the consensus method of
        the last quality run decides."""

    # Optional, for a kind whose stored answer is not a list of class names:
    #     def describe(self, value: list) -> str
    # the answer in a sentence of the review history.
    # Optional, for a kind whose consensus has parts with their own confidence (spans, boxes):
    #     def consensus_fields(self, consensus: object) -> dict
    # the item's stored consensus as the item views add it (``consensus_spans``, ``consensus_boxes``).


class QualityPart(Protocol):
    def encoding(self, *, multi_label: bool) -> Any:
        """The object that encodes stored values for the metrics and runs the kind's consensus, agreement and
        label-issue steps for ``quality.services.engine``, and codes and decides one item's votes for the
        per-item update (``quality.services.items``); see ``kinds.classification.quality``."""


class LearningTargets(Protocol):
    @property
    def cold_start_reason(self) -> str | None:
        """Why the base model does not train on the project's answers (its items follow the cold-start order);
        None: it trains on ``class_code``."""

    @property
    def counts_votes(self) -> bool:
        """Whether adaptive overlap and ActiveLab count the votes by ``class_code``."""

    def class_code(self, value: object, index: dict[str, int]) -> int:
        """A stored answer (or an item's final or consensus label) as a class of ``index``
        (``annotation.selectors.label_schema_for``), -1 when it is none."""

    # Optional: ``token_encoding: str``, the dotted path of a module that turns the project's texts and stored
    # answers into tokens and IO codes (``kinds.spans.token_encoding``); the training job then trains the
    # built-in token model (``activelearning.services.token_training``) instead of the class base model.


class LearningPart(Protocol):
    def targets(self, *, multi_label: bool) -> LearningTargets:
        """How the answers of a project become the classes active learning counts and trains on (see
        ``kinds.classification.learning``)."""


class ExportPart(Protocol):
    """A kind's exports. ``stream`` and ``label_schema`` are always used; the other methods only by the shared
    writers in ``datasets`` a kind's ``stream`` chooses to call (the file descriptions and the zip always)."""

    def stream(self, *, fmt: str, version: Any, split: str | None, base_url: str) -> Iterator[bytes]:
        """The bytes of one export format of a dataset version."""

    def label_schema(
        self, *, project: Project, project_labels: list, parent: dict | None, seen: list[str]
    ) -> dict:
        """The label schema a version is frozen with (``DatasetVersion.label_schema``): ``labels``, the class
        list with stable ids (``datasets.labelschema``), and whatever else the kind's exports read back."""

    def label_description(self, *, version: Any) -> str:
        """How an export row's ``label`` reads, for the file descriptions (Parquet metadata, zip manifest)."""

    def card_label_feature(self, *, version: Any) -> str:
        """The ``label`` column's feature kind on the zip's dataset card (``datasets.labelschema.hf_features_yaml``)."""

    # Only for the writers a kind's ``stream`` calls: ``datasets.exporters.stream_parquet`` and
    # ``datasets.labelstudio``.
    def parquet_label_type(self, *, version: Any) -> Any:
        """The Parquet (pyarrow) type of the ``label`` column."""

    def labelstudio_control(self, *, version: Any, name: str, to_name: str) -> str:
        """The control element of the Label Studio labelling config (XML lines)."""

    def labelstudio_result(
        self, value: object, *, from_name: str, to_name: str, item: Mapping[str, Any] | None = None
    ) -> list[dict]:
        """An answer (an export row's label, a stored vote, a prediction) as a Label Studio ``result``; ``item``:
        the item it answers (``text``; an image's ``width`` and ``height``)."""

    # Optional, for a kind whose answer has parts (spans, boxes): ``part_diff``, a module with ``UNIT``,
    # ``COUNTS`` (key → words, in page order), ``count(value)`` and ``diff(old, new) -> (counts, lines)``, which
    # ``datasets.diffs`` uses to diff versions part by part.


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    extension: str


@dataclass(frozen=True)
class ReportFigure:
    """One of a kind's own figures as the quality page shows it: ``key`` in the report's ``kind_figures`` (or in
    a ``per_label`` row), its ``name``, and what it counts (``reading``; ``{name}`` fields are filled from the
    report's ``kind_figures``, e.g. ``{cohen_min_overlap}``)."""

    key: str
    name: str
    reading: str = ""
    #: a count, shown whole; otherwise a figure in [0, 1] shown with three decimals
    count: bool = False
    #: the reading when the figure is missing (or a count is 0), so an empty figure says why rather than
    #: "over the 0 …"; the figure's ``reading`` when empty
    empty_reading: str = ""


@dataclass(frozen=True)
class TaskKind:
    name: str
    #: ``Project.task_type`` values this kind serves; a project can be created with any registered kind's
    task_types: tuple[str, ...]
    value: ValueSchema | str
    quality: QualityPart | str
    export: ExportPart | str
    #: export formats by name, in the order pages list them; declared here so choice fields need no export code
    formats: Mapping[str, ExportFormat] = field(default_factory=dict)
    #: template included by the label page where the answer is given, and the script it needs (static path)
    widget_template: str = ""
    widget_js: str = ""
    #: what an item of each task type is: ``text``, ``image`` or ``audio``; a task type not listed is text
    media: Mapping[str, str] = field(default_factory=dict)
    #: None: the kind's answers are no classes active learning can count or train on
    learning: LearningPart | str | None = None
    #: dotted path of a module whose ``GoldFiles`` reads gold answers from files beside the media of a zip
    #: import (``ingress.readers.zipreader.GoldFiles``); empty: a zip's other files are reported, not read
    gold_files: str = ""
    #: how each task type reads for people (forms, the API schema); a task type not listed reads as its value
    #: with spaces ("yes_no_check" → "Yes no check")
    task_type_labels: Mapping[str, str] = field(default_factory=dict)
    #: what a zip import of the kind's items takes beside the media and manifest, or for a text kind what else its
    #: imports read (the import form's help continues with it, e.g. " and boxes beside them as COCO JSON …")
    import_note: str = ""
    #: the fewest labels a project needs; None: two for one class per item, one for a set of classes
    min_labels: int | None = None
    #: whether a project of the kind may be multi-label (a set of classes per item)
    multi_label: bool = False
    #: keys the kind's widget takes on the label page, so no label may have them as its hotkey (lower case)
    reserved_hotkeys: frozenset[str] = frozenset()
    #: how pages name the kind's own issue reason codes (chips, filters)
    reason_words: Mapping[str, str] = field(default_factory=dict)
    #: the kind's headline figures on the quality page, read from the report's ``kind_figures``
    report_figures: tuple[ReportFigure, ...] = ()
    #: the kind's columns of the quality page's per-label table, read from the report's ``per_label`` rows
    label_figures: tuple[ReportFigure, ...] = ()
    #: what the shared α, κ and percent-agreement figures are computed on ("tokens" for spans); None: the kind
    #: does not compute them, so pages leave them out
    agreement_unit: str | None = "items"
    #: what an annotator's agreement with the consensus, the others and gold measures when it is not the share
    #: of equal answers (e.g. "span F1"); empty: that share
    annotator_agreement: str = ""
    #: the Label Studio result type whose regions a Label Studio import takes as gold (``labels``, ``rectanglelabels``)
    labelstudio_regions: str = ""
    #: module whose ``panels(source)`` builds dashboard panels replacing the class ones (``kind_panels``)
    dashboard_panels: str = ""
    #: template and script of the review item page's answer view and editor (``review_context`` fills it); empty: the class label buttons
    review_template: str = ""
    review_js: str = ""

    def media_of(self, task_type: str) -> str:
        return self.media.get(task_type, "text")

    def task_type_label(self, task_type: str) -> str:
        return self.task_type_labels.get(task_type) or task_type.replace("_", " ").capitalize()

    def part(self, name: str) -> Any:
        """``value``, ``quality``, ``export`` or ``learning``, imported when it was given as a dotted module
        path."""
        part = getattr(self, name)
        return importlib.import_module(part) if isinstance(part, str) else part

    @property
    def value_schema(self) -> ValueSchema:
        return self.part("value")

    @property
    def quality_part(self) -> QualityPart:
        return self.part("quality")

    @property
    def export_part(self) -> ExportPart:
        return self.part("export")

    @property
    def learning_part(self) -> LearningPart | None:
        return None if self.learning is None else self.part("learning")


class UnknownTaskType(LookupError):
    pass


_KINDS: dict[str, TaskKind] = {}
_BY_TASK_TYPE: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> TaskKind:
    """Add ``kind`` (replacing one of the same name); its task types must not belong to another kind."""
    for task_type in kind.task_types:
        owner = _BY_TASK_TYPE.get(task_type)
        if owner is not None and owner.name != kind.name:
            raise ValueError(f"task type {task_type!r} already belongs to kind {owner.name!r}")
    unregister(kind.name)
    _KINDS[kind.name] = kind
    for task_type in kind.task_types:
        _BY_TASK_TYPE[task_type] = kind
    return kind


def unregister(name: str) -> None:
    kind = _KINDS.pop(name, None)
    if kind is not None:
        for task_type in kind.task_types:
            _BY_TASK_TYPE.pop(task_type, None)


def kinds() -> list[TaskKind]:
    return list(_KINDS.values())


def kind_for_task_type(task_type: str) -> TaskKind:
    try:
        return _BY_TASK_TYPE[task_type]
    except KeyError:
        raise UnknownTaskType(f"no task kind serves task type {task_type!r}") from None


def kind_for(project: Project) -> TaskKind:
    return kind_for_task_type(project.task_type)


def item_media(project: Project) -> str:
    """``text``, ``image`` or ``audio``: what the project's items are (its kind's ``media``)."""
    return kind_for(project).media_of(project.task_type)


def task_types() -> list[str]:
    """Every registered kind's task types: what a project may be created with."""
    return [task_type for kind in _KINDS.values() for task_type in kind.task_types]


def task_type_choices() -> list[tuple[str, str]]:
    """The task types as field choices, in registration order; ``Project.task_type`` calls it, so every kind
    registered when a form or the schema reads the choices is offered."""
    return [
        (task_type, kind.task_type_label(task_type))
        for kind in _KINDS.values()
        for task_type in kind.task_types
    ]


def export_formats() -> dict[str, ExportFormat]:
    """Every registered kind's formats (first kind first), for choice fields shared by all projects."""
    out: dict[str, ExportFormat] = {}
    for kind in _KINDS.values():
        for name, fmt in kind.formats.items():
            out.setdefault(name, fmt)
    return out


from kinds.boxes import KIND as BOXES  # noqa: E402 - the built-in kinds, registered below
from kinds.classification import KIND as CLASSIFICATION  # noqa: E402
from kinds.spans import KIND as SPANS  # noqa: E402

register(CLASSIFICATION)
register(SPANS)
register(BOXES)
