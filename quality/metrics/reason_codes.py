"""The issue reason codes, bit ``i`` of an item's reasons bitmask being ``REASON_CODES[i]``.

Kept apart from ``label_issues`` (which defines the reasons and re-exports this tuple) so that forms, selectors
and tables can name the codes without importing cleanlab and scikit-learn at web/worker startup.
"""

REASON_CODES = (
    "model_disagrees",
    "low_consensus_confidence",
    "annotators_split",
    "gold_mismatch",
    "near_duplicate_conflict",
    "profile_flag",
    "unsure_or_unusable",
    # Appended, never inserted: stored bitmasks keep their meaning.
    "model_overrides_annotators",
)
