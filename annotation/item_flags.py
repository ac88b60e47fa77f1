"""The vocabulary of ``Item.flags`` and the format of ``Item.minhash``.

Ingress raises these flags and writes the sketches; annotation's pages explain them and its project settings
validate ``route_flags`` against them. They live here, in the lowest app, so both read one definition (pure:
no Django).
"""

# Every flag the profiler (``ingress.profiling.flags_for``) can raise; a project's ``route_flags`` setting may
# only name these.
ALL_FLAGS = frozenset(
    {
        "corrupt",
        "decompression_bomb",
        "tiny",
        "too_dark",
        "too_bright",
        "low_contrast",
        "blurry",
        "too_short",
        "silent",
        "mostly_silent",
        "clipped",
        "low_snr",
        "empty",
        "encoding_error",
        "mojibake",
        "too_long",
    }
)

DUPLICATE_FLAG = "duplicate"
NEAR_DUPLICATE_FLAG = "near_duplicate"
DUP_FLAGS = frozenset({DUPLICATE_FLAG, NEAR_DUPLICATE_FLAG})


def profiling_flagged(flags: list[str] | None) -> bool:
    """Whether the profiler flagged an item (the ``profile_flag`` review reason, the dashboard's "flagged items"):
    a duplicate flag alone is no profiling flag, and a near duplicate only becomes a reason to review when its
    group's labels conflict (``near_duplicate_conflict``)."""
    return any(flag not in DUP_FLAGS for flag in flags or ())


# Defaults of the duplicate thresholds a project may set in ``profile_thresholds`` (phash_distance,
# text_jaccard).
DEFAULT_HAMMING = 6
DEFAULT_JACCARD = 0.8

# ``Item.minhash``: 32 uint32 MinHash values, little-endian.
SKETCH_PERM = 32
SKETCH_BYTES = SKETCH_PERM * 4
