"""The counts and row report of one file import."""

from collections import Counter
from dataclasses import dataclass, field

REPORT_CAP = 1000
DUPLICATE_SAMPLE = 100
ROW_AS_A_WHOLE = "row"


OUTCOME_COMPLETED = "completed"
ROW_AS_A_WHOLE = "row"
OUTCOME_WITH_ERRORS = "completed_with_errors"
OUTCOME_FAILED = "failed"


@dataclass
class ImportReport:
    """Counts of one import. Each row read is counted once in ``rows`` and ends in exactly one of ``created``
    (with ``created_earlier``), ``duplicates`` or ``error_count``."""

    rows: int = 0
    created: int = 0
    created_earlier: int = 0
    duplicates: int = 0
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)
    flags: Counter = field(default_factory=Counter)
    routed: int = 0
    # Of ``created``: items that arrived with a gold label (served to annotators only at the project's gold rate).
    gold: int = 0
    file_error: str | None = None

    def error(self, line: int, field_name: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < REPORT_CAP:
            # A problem with the row as a whole (its shape, its quoting) has no column: the report says "row",
            # the user's word, never a framework's internal key.
            self.errors.append({"line": line, "field": field_name or ROW_AS_A_WHOLE, "message": message})

    def duplicate(self, external_id: str) -> None:
        self.duplicates += 1
        if len(self.duplicate_ids) < DUPLICATE_SAMPLE:
            self.duplicate_ids.append(external_id)
