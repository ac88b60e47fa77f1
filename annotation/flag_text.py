"""What each profile flag means in words, and the measured value and threshold that raised it (pure: no Django).

A flag shown alone ("low_snr") asks the reader to trust it; shown with its figure ("SNR 3.1 dB, threshold
10 dB") it can be checked, and a threshold that is wrong for the data is visible at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotation.profile_thresholds import ProfileThresholds

# Fewer values than this on either side and ``drift.compare`` does not test a field: KS and chi-square have next
# to no power there, so "no drift" would only mean "could not tell".
DRIFT_MIN_N = 20

FLAG_WORDS = {
    "corrupt": "corrupt",
    "decompression_bomb": "decompression bomb",
    "tiny": "tiny",
    "too_dark": "too dark",
    "too_bright": "too bright",
    "low_contrast": "low contrast",
    "blurry": "blurry",
    "too_short": "too short",
    "silent": "silent",
    "mostly_silent": "mostly silent",
    "clipped": "clipped",
    "low_snr": "low SNR",
    "empty": "empty",
    "encoding_error": "encoding error",
    "mojibake": "mojibake",
    "too_long": "too long",
    "duplicate": "duplicate",
    "near_duplicate": "near duplicate",
}


@dataclass(frozen=True, slots=True)
class FlagExplanation:
    """``words``: the flag's name for people; ``detail``: the value(s) that raised it and the threshold
    (empty when the profile no longer holds them); ``other_id``/``other_url``: the item a duplicate flag points
    to and its page."""

    flag: str
    words: str
    detail: str
    other_id: int | None = None
    other_url: str | None = None


def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, flag.replace("_", " "))


def _g(value: float, digits: int = 3) -> str:
    """A number in at most ``digits`` significant digits, with a real minus sign."""
    text = f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return text.replace("-", "\u2212")


def _pct(ratio: float) -> str:
    return f"{_g(ratio * 100)} %"


def flag_rule(flag: str, thresholds: ProfileThresholds) -> str:
    """The rule that raises ``flag`` under ``thresholds`` (for counts, where no single value applies)."""
    t = thresholds
    rules = {
        "tiny": f"shorter side under {t.tiny} px",
        "too_dark": f"mean brightness under {_g(t.too_dark)}",
        "too_bright": f"mean brightness over {_g(t.too_bright)}",
        "low_contrast": f"contrast (luma std) under {_g(t.low_contrast)}",
        "blurry": f"Laplacian variance under {_g(t.blurry)}",
        "too_short": f"shorter than {_g(t.too_short_seconds)} s",
        "silent": f"RMS under {_g(t.silent_dbfs)} dBFS",
        "mostly_silent": f"over {_pct(t.mostly_silent)} of 20 ms frames silent",
        "clipped": f"over {_pct(t.clipped)} of samples clipped",
        "low_snr": f"SNR under {_g(t.low_snr_db)} dB",
        "too_long": f"over {t.text_too_long:,} characters",
        "corrupt": "could not be decoded",
        "decompression_bomb": "too many pixels to decode safely",
        "empty": "no text, or only whitespace",
        "encoding_error": "invalid UTF-8 or replacement characters",
        "mojibake": "UTF-8 text read as cp1252/Latin-1",
        "duplicate": "same content as another item",
        "near_duplicate": "similar to another item",
    }
    return rules.get(flag, "")


def explain_profile_flag(
    flag: str, profile: dict[str, Any], thresholds: ProfileThresholds
) -> FlagExplanation:
    """The explanation of one profile flag from the item's stored profile. Duplicate flags need the other item:
    see ``annotation.flag_selectors``."""
    p, t = profile or {}, thresholds

    def has(*keys: str) -> bool:
        return all(isinstance(p.get(key), int | float) and not isinstance(p.get(key), bool) for key in keys)

    detail = ""
    if flag == "silent":
        if has("loudness_dbfs"):
            detail = f"RMS {_g(p['loudness_dbfs'])} dBFS (threshold {_g(t.silent_dbfs)} dBFS)"
        else:
            detail = f"no signal: every sample is zero (threshold {_g(t.silent_dbfs)} dBFS)"
    elif flag == "mostly_silent" and has("silence_ratio"):
        detail = (
            f"{_pct(p['silence_ratio'])} of 20 ms frames under {_g(t.silent_dbfs)} dBFS "
            f"(threshold {_pct(t.mostly_silent)})"
        )
    elif flag == "clipped" and has("clipping_ratio"):
        detail = f"{_pct(p['clipping_ratio'])} of samples clipped (threshold {_pct(t.clipped)})"
    elif flag == "low_snr" and has("snr_db"):
        detail = f"{_g(p['snr_db'], 2 if abs(p['snr_db']) < 10 else 3)} dB (threshold {_g(t.low_snr_db)} dB)"
    elif flag == "too_short" and has("duration"):
        detail = f"{_g(p['duration'])} s long (threshold {_g(t.too_short_seconds)} s)"
    elif flag == "tiny" and has("width", "height"):
        detail = f"{p['width']} × {p['height']} px, shorter side {min(p['width'], p['height'])} px (threshold {t.tiny} px)"
    elif flag in ("too_dark", "too_bright") and has("brightness"):
        limit = t.too_dark if flag == "too_dark" else t.too_bright
        detail = f"mean brightness {_g(p['brightness'], 2)} (threshold {_g(limit)})"
    elif flag == "low_contrast" and has("contrast"):
        detail = f"contrast (luma std) {_g(p['contrast'], 2)} (threshold {_g(t.low_contrast)})"
    elif flag == "blurry" and has("blur"):
        detail = f"Laplacian variance {_g(p['blur'])} (threshold {_g(t.blurry)})"
    elif flag == "too_long" and has("length"):
        detail = f"{p['length']:,} characters (threshold {t.text_too_long:,})"
    elif flag == "empty":
        detail = "only whitespace" if p.get("whitespace_only") else "no text"
    elif flag == "encoding_error":
        parts = ["not valid UTF-8"] if p.get("invalid_utf8") else []
        if p.get("replacement_chars"):
            n = p["replacement_chars"]
            parts.append(f"{n} replacement character{'s' if n != 1 else ''} (U+FFFD)")
        detail = ", ".join(parts)
    elif flag == "mojibake" and p.get("mojibake_hits"):
        n = p["mojibake_hits"]
        detail = f"{n} sequence{'s' if n != 1 else ''} of UTF-8 read as cp1252/Latin-1 (threshold 1)"
    elif flag == "corrupt":
        detail = "could not be decoded"
    elif flag == "decompression_bomb" and has("width", "height"):
        detail = f"{p['width']} × {p['height']} px, too many pixels to decode safely"
    return FlagExplanation(flag=flag, words=flag_words(flag), detail=detail)


def no_drift_sentence(*, new_rows: int, earlier_rows: int, min_n: int = DRIFT_MIN_N) -> str:
    """What a batch with no drift findings may truthfully say: that nothing moved only when both sides had at
    least ``min_n`` rows to test, otherwise that there were too few to judge."""
    if new_rows < min_n:
        return f"Too few rows in this batch to judge drift ({new_rows}; at least {min_n} needed)."
    if earlier_rows < min_n:
        return (
            f"Too few rows in the earlier batches to judge drift ({earlier_rows}; at least {min_n} needed)."
        )
    return "No material drift from the earlier batches."
