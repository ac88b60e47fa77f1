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

# How pages name each code (chips, filters, dashboard tables); the codes stay in URLs and data-* attributes.
REASON_WORDS = {
    "model_disagrees": "model disagrees",
    "low_consensus_confidence": "low consensus confidence",
    "annotators_split": "annotators split",
    "gold_mismatch": "differs from gold",
    "near_duplicate_conflict": "near-duplicate conflict",
    "profile_flag": "profiling flag",
    "unsure_or_unusable": "unsure or unusable",
    "model_overrides_annotators": "consensus method picks against the vote majority",
}
