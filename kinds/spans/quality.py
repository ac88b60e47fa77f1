"""The spans kind's quality part: a structured encoding whose ``run`` computes the whole quality run
(``kinds.spans.spans_quality``). Imported by quality tasks only; ``kinds.registry`` names it by path."""

from kinds.spans.spans_quality import SPANS, Spans, encoding

__all__ = ["SPANS", "Spans", "encoding"]
