"""Review decisions, label-schema changes, label examples and annotator feedback (issue 6).

Models live in ``quality.models`` (``ReviewDecision``, ``LabelSchemaChange``, ``LabelExample``).
"""
