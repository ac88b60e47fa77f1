"""The profile flag thresholds, apart from ``profiling`` so pages can explain a flag without loading the audio
and image stack (``profiling`` re-exports the class)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from annotation.item_flags import ALL_FLAGS


@dataclass(frozen=True, slots=True)
class ProfileThresholds:
    """Flag thresholds. Image brightness/contrast are 0-1 (mean / std of luma); ``blurry`` is the Laplacian
    variance (0-255 luma scale) on the <= 256 px analysis image; ``tiny`` is the shorter side in pixels."""

    too_dark: float = 0.15
    too_bright: float = 0.92
    low_contrast: float = 0.05
    blurry: float = 60.0
    tiny: int = 32
    silent_dbfs: float = -50.0
    mostly_silent: float = 0.9
    clipped: float = 0.001
    low_snr_db: float = 10.0
    too_short_seconds: float = 0.5
    text_too_long: int = 100_000


def thresholds_from(raw: object) -> ProfileThresholds:
    """``ProfileThresholds`` from a project's ``profile_thresholds`` JSON: known numeric keys only, the rest
    ignored (the duplicate thresholds and ``route_flags`` live in the same object)."""
    names = {f.name for f in fields(ProfileThresholds)}
    # Any: a number reaches the field of that name as stored (an int field may get a float, as before).
    known: dict[str, Any] = {}
    for key, value in (raw if isinstance(raw, dict) else {}).items():
        if key in names and isinstance(value, int | float) and not isinstance(value, bool):
            known[key] = value
    return ProfileThresholds(**known)


# Allowed range per threshold key, both ends inclusive (None: unbounded); int keys must be whole numbers.
THRESHOLD_RANGES: dict[str, tuple[float | None, float | None]] = {
    "too_dark": (0.0, 1.0),
    "too_bright": (0.0, 1.0),
    "low_contrast": (0.0, 1.0),
    "blurry": (0.0, None),
    "tiny": (0, 100_000),
    "silent_dbfs": (-200.0, 0.0),
    "mostly_silent": (0.0, 1.0),
    "clipped": (0.0, 1.0),
    "low_snr_db": (-100.0, 200.0),
    "too_short_seconds": (0.0, None),
    "text_too_long": (1, None),
    "phash_distance": (0, 64),
    "text_jaccard": (0.01, 1.0),
}
_INT_KEYS = {"tiny", "text_too_long", "phash_distance"}


def profile_thresholds_problems(raw: object) -> list[str]:
    """Why ``raw`` is not a valid ``project.profile_thresholds`` value ([] when it is): known keys only,
    numbers in range, ``route_flags`` a list of known flag names."""
    if not isinstance(raw, dict):
        return ["Must be an object."]
    problems = []
    for key, value in raw.items():
        if key == "route_flags":
            if not isinstance(value, list) or not all(isinstance(flag, str) for flag in value):
                problems.append("route_flags must be a list of flag names.")
            elif unknown := sorted(set(value) - ALL_FLAGS):
                problems.append(f"route_flags: unknown flag(s) {', '.join(unknown)}.")
            continue
        if key not in THRESHOLD_RANGES:
            problems.append(
                f"Unknown threshold '{key}'; known: {', '.join(sorted([*THRESHOLD_RANGES, 'route_flags']))}."
            )
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{key} must be a number.")
            continue
        if key in _INT_KEYS and float(value) != int(value):
            problems.append(f"{key} must be a whole number.")
            continue
        low, high = THRESHOLD_RANGES[key]
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            problems.append(f"{key} must be {bounds}.")
    return problems
