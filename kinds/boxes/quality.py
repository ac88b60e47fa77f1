"""The boxes kind's quality part: a structured encoding whose ``run`` computes the whole quality run
(``kinds.boxes.quality_run``). Imported by quality tasks only; ``kinds.registry`` names it by path."""

from kinds.boxes.quality_run import BOXES, Boxes, encoding

__all__ = ["BOXES", "Boxes", "encoding"]
