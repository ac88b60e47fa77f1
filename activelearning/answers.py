"""How a project's stored answers become the classes active learning counts and trains on: its task kind's
``learning`` part (``kinds.registry``), so no code of this app names a kind."""

from __future__ import annotations

from dataclasses import dataclass

from annotation.models import Project
from kinds.registry import LearningTargets, kind_for


@dataclass(frozen=True)
class NoClasses:
    """A kind without a learning part: nothing to train on, and no votes to count (adaptive overlap would read
    every answer as no vote and keep asking for more)."""

    cold_start_reason: str
    counts_votes: bool = False

    def class_code(self, value: object, index: dict[str, int]) -> int:
        return -1


def answer_classes(project: Project) -> LearningTargets:
    kind = kind_for(project)
    part = kind.learning_part
    if part is None:
        return NoClasses(
            cold_start_reason=f"The built-in model learns classes, and {kind.task_type_label(project.task_type).lower()} "
            "answers are no classes: no model is trained on them, and items are served in the cold-start order."
        )
    return part.targets(multi_label=project.multi_label)
