"""Pure numerical quality metrics (no Django): agreement, HLP, annotator quality, error analysis."""

from quality.metrics.table import AnnotationTable

__all__ = ["AnnotationTable"]
