"""Bridge from item creation to the pure profiling, dedup and drift modules.

Thresholds come from ``project.profile_thresholds`` (keys of ``profiling.ProfileThresholds``; unknown keys are
ignored there). Two extra keys belong to ingress: ``route_flags`` (the flags that send an item to review
instead of annotators when ``project.route_flagged_to_review``), and the duplicate thresholds read by
``ingress.services.near_duplicates``.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field

from annotation.models import Project
from annotation.profile_thresholds import ProfileThresholds, thresholds_from
from ingress.profile_summary import BatchSummary, SummaryBuilder, merge_summaries

# profiling (librosa, soundfile, scipy), drift and dedup (scipy) are imported inside the functions that use them:
# ingress code and serializers import this module, and web/worker startup must stay free of them.

# Flags that make an item unlabellable as it stands. Milder ones (blurry, dark, clipped, low SNR, mojibake…)
# stay in the annotators' queue and are shown on the batches page.
DEFAULT_ROUTED_FLAGS = frozenset(
    {"corrupt", "decompression_bomb", "empty", "encoding_error", "silent", "too_short"}
)
IMAGE_TYPES = {
    "PNG": ("image/png", ".png"),
    "JPEG": ("image/jpeg", ".jpg"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
    "BMP": ("image/bmp", ".bmp"),
    "TIFF": ("image/tiff", ".tif"),
}
IMAGE_FORMATS = "PNG, JPEG, GIF, WebP, BMP or TIFF"
AUDIO_FORMATS = "WAV, FLAC, OGG, MP3 or AIFF"
AUDIO_TYPES = {
    "WAV": ("audio/wav", ".wav"),
    "WAVEX": ("audio/wav", ".wav"),
    "FLAC": ("audio/flac", ".flac"),
    "OGG": ("audio/ogg", ".ogg"),
    "MP3": ("audio/mpeg", ".mp3"),
    "AIFF": ("audio/aiff", ".aiff"),
}


def thresholds_for(project: Project) -> ProfileThresholds:
    return thresholds_from(project.profile_thresholds)


def routed_to_review(*, project: Project, flags: list[str]) -> bool:
    if not project.route_flagged_to_review or not flags:
        return False
    configured = (project.profile_thresholds or {}).get("route_flags")
    routed = frozenset(configured) if isinstance(configured, list) else DEFAULT_ROUTED_FLAGS
    return any(flag in routed for flag in flags)


def text_profile_normalised(
    *, project: Project, text: str, thresholds: ProfileThresholds | None = None
) -> tuple[dict, list[str], str]:
    """(profile, flags, normalised text) — the import job keeps the normalised text for MinHash. Pass
    ``thresholds`` (``thresholds_for(project)``) when profiling many rows: it is read once, not per row."""
    from ingress import dedup, profiling  # lazy: see the note at the top

    profile = profiling.profile_text(text)
    thresholds = thresholds_for(project) if thresholds is None else thresholds
    return profile, profiling.flags_for(profile, thresholds), dedup.normalise_text(text)


@dataclass
class MediaCheck:
    """What ingress needs to store one media file; ``error`` set means it must not be stored."""

    error: str | None = None
    content_type: str = ""
    extension: str = ""
    near_key: str = ""
    profile: dict = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def media_check(*, project: Project, data: bytes, file_name: str, kind: str) -> MediaCheck:
    """Profile image or audio bytes. Undecodable content (corrupt, zero bytes, a decompression bomb, another
    media type) comes back with ``error``: an annotator could not label it, and a bomb must never reach a
    browser. The content type comes from the decoded format, never from the file name."""
    if not data:
        return MediaCheck(error="The file is empty (0 bytes).")
    from ingress import profiling  # lazy: see the note at the top

    thresholds = thresholds_for(project)
    if kind == "image":
        profile = profiling.profile_image(data)
        if profile.get("decompression_bomb"):
            return MediaCheck(error=f"Refused as a possible decompression bomb: {_reason(profile)}.")
        if profile.get("corrupt"):
            return MediaCheck(error=f"{_described(file_name)} is not a readable image ({IMAGE_FORMATS}).")
        content_type, extension = IMAGE_TYPES.get(profile.get("format") or "", ("", ""))
        if not content_type:
            return MediaCheck(
                error=f"{_described(file_name)} is a {profile.get('format')} image; supported: {IMAGE_FORMATS}."
            )
        near_key = profile.get("phash") or ""
    else:
        profile = profiling.profile_audio(data)
        if profile.get("corrupt"):
            return MediaCheck(
                error=f"{_described(file_name)} is not a readable audio file ({AUDIO_FORMATS})."
            )
        content_type, extension = AUDIO_TYPES.get(profile.get("format") or "", ("", ""))
        if not content_type:
            guessed = mimetypes.guess_type(file_name)[0] or ""
            content_type, extension = (guessed, "") if guessed.startswith("audio/") else ("audio/wav", ".wav")
        near_key = ""
    return MediaCheck(
        content_type=content_type,
        extension=extension,
        near_key=near_key,
        profile=profile,
        flags=profiling.flags_for(profile, thresholds),
    )


def _reason(profile: dict) -> str:
    return str(profile.get("error") or "unknown error").rstrip(". ")


def _described(file_name: str) -> str:
    # The decoder's own message is left out on purpose: it names library internals (exception classes,
    # "<_io.BytesIO object at 0x…>") that tell the person who made the file nothing.
    return file_name or "The file"


def summary_builder() -> SummaryBuilder:
    return SummaryBuilder()


def compact_summary(summary: BatchSummary, flags: dict[str, int]) -> dict:
    """The figures the batches page and API show (the full summary with its reservoirs stays internal)."""
    keep = ("n", "mean", "std", "min", "max", "p5", "p50", "p95")
    numeric = {}
    for name, values in summary.to_dict()["numeric"].items():
        numeric[name] = {key: values[key] for key in keep}
    return {
        "n_items": summary.n_items,
        "numeric": numeric,
        "categorical": summary.to_dict()["categorical"],
        "flags": dict(sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def drift_findings(*, number: int, summary: BatchSummary, earlier: list[dict]) -> list[dict]:
    """Findings (with sentences) of this batch against the merged earlier batches; [] without a baseline."""
    if not earlier:
        return []
    from ingress import drift  # lazy: see the note at the top

    baseline = merge_summaries(BatchSummary.from_dict(state) for state in earlier)
    findings = drift.compare(new=summary, baseline=baseline, label=f"Batch {number}")
    return [finding.to_dict() for finding in findings]
