"""The profile flag thresholds, apart from ``profiling`` so pages can explain a flag without loading the audio
and image stack (``profiling`` re-exports the class)."""

from __future__ import annotations

from dataclasses import dataclass, fields


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
    known = {}
    for key, value in (raw if isinstance(raw, dict) else {}).items():
        if key in names and isinstance(value, int | float) and not isinstance(value, bool):
            known[key] = value
    return ProfileThresholds(**known)
