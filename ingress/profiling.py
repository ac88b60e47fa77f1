"""Know-your-data profiles for images, audio and text (pure: no Django).

Profiles are JSON-ready dicts (plain int/float/str/bool, None for "not measurable", never NaN) with a
``kind`` key; ``flags_for`` turns one into a list of problem flags under ``ProfileThresholds``.

Audio conventions: loudness is the RMS level in dBFS (a full-scale sine reads -3 dBFS); a 20 ms frame is
silent when its RMS is below ``SILENCE_DBFS`` (-50 dBFS, absolute, so a quiet but clean recording is not
called silent); clipping counts samples with |x| >= 0.999; SNR is a minimum-statistics estimate (see
``snr_db``), rough by design (+-3 dB on stationary noise), bounded to [-20, 100] dB, and None for a clip whose
RMS is under ``SILENCE_DBFS`` (silence has no signal to compare with its noise).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from typing import Any

import librosa
import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy.ndimage import median_filter
from scipy.stats import gamma

from annotation.item_flags import ALL_FLAGS  # noqa: F401 - the flags ``flags_for`` raises, defined with Item.flags
from annotation.profile_thresholds import ProfileThresholds
from annotation.waveform import DEFAULT_MAX_AUDIO_SECONDS, decode_audio, render_audio_png  # noqa: F401
from annotation.waveform import finite_rounded as _num
from ingress.phash import phash_from_gray32

SILENCE_DBFS = -50.0
CLIP_LEVEL = 0.999
ANALYSIS_SIDE = 256
DEFAULT_MAX_PIXELS = 64_000_000
_FRAME_SECONDS = 0.02
_SNR_FFT = 512
_SNR_BLOCK = 4
_SNR_QUANTILE = 0.1
# About 1 kHz at 16 kHz: wide enough that a low tone's harmonics and their window leakage stay a minority.
_SNR_MEDIAN_BINS = 31
_SNR_CAP_DB = 100.0
# Below this the estimate is noise measuring noise: "no signal above the noise floor", not a figure to rank by.
_SNR_FLOOR_DB = -20.0
# The noise floor is never taken below 16-bit quantisation noise (LSB² / 12 per sample), expressed in the units
# of the summed Hann-windowed power spectrum: each of the n_fft/2 + 1 bins of white noise of variance σ² has
# expected power σ² Σw², and Σw² = 3/8 n_fft for a periodic Hann window.
_QUANT_NOISE = (_SNR_FFT // 2 + 1) * (3 * _SNR_FFT / 8) * (2.0**-15) ** 2 / 12
# C0 controls other than tab, newline and carriage return; DEL and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# UTF-8 text mis-decoded as cp1252/Latin-1: a lead byte (Â-ô) followed by continuation-byte characters.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]+"
)


def profile_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, Any]:
    """Profile of encoded image bytes: format, width, height, mode, brightness, contrast, blur, phash (16 hex
    digits, see ``phash.phash_from_gray32``), corrupt, error, decompression_bomb.

    The pixel count is checked from the header, before any decoding, against ``max_pixels`` (independent of
    Pillow's global ``Image.MAX_IMAGE_PIXELS``); Pillow's own bomb error/warning is caught as well. Never
    raises for bad content: unreadable, truncated or oversized images come back with ``corrupt`` or
    ``decompression_bomb`` set and ``error`` explaining why.
    """
    out: dict[str, Any] = {
        "kind": "image",
        "bytes": len(data),
        "format": None,
        "width": None,
        "height": None,
        "mode": None,
        "brightness": None,
        "contrast": None,
        "blur": None,
        "phash": None,
        "corrupt": False,
        "decompression_bomb": False,
        "error": None,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            out.update(format=img.format, width=img.width, height=img.height, mode=img.mode)
            if img.width * img.height > max_pixels:
                out.update(
                    decompression_bomb=True, error=f"{img.width}x{img.height} exceeds {max_pixels} pixels"
                )
                return out
            img.draft("L", (ANALYSIS_SIDE, ANALYSIS_SIDE))
            img.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
            gray_img = img.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        out.update(decompression_bomb=True, error=str(exc))
        return out
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        out.update(corrupt=True, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return out
    gray = np.asarray(gray_img, dtype=np.float64)
    out["brightness"] = _num(gray.mean() / 255.0)
    out["contrast"] = _num(gray.std() / 255.0)
    if min(gray.shape) >= 3:
        lap = gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:] - 4.0 * gray[1:-1, 1:-1]
        out["blur"] = _num(lap.var(), 3)
    small = np.asarray(gray_img.resize((32, 32), Image.Resampling.BOX), dtype=np.float64)
    out["phash"] = f"{int(phash_from_gray32(small)):016x}"
    return out


def profile_audio(data: bytes, *, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS) -> dict[str, Any]:
    """Profile of encoded audio bytes: format, sample_rate, channels, duration (s, whole file),
    analysed_seconds, loudness_dbfs, peak_dbfs, silence_ratio, clipping_ratio, snr_db, corrupt, error.

    Only the first ``max_seconds`` are analysed (bounded memory). Loudness, silence and SNR use the channel
    mean; clipping looks at every channel. Never raises for bad content (``corrupt`` is set instead).
    """
    out: dict[str, Any] = {
        "kind": "audio",
        "bytes": len(data),
        "format": None,
        "sample_rate": None,
        "channels": None,
        "duration": None,
        "analysed_seconds": None,
        "loudness_dbfs": None,
        "peak_dbfs": None,
        "silence_ratio": None,
        "clipping_ratio": None,
        "snr_db": None,
        "corrupt": False,
        "error": None,
    }
    try:
        samples, rate, info = decode_audio(data, max_seconds=max_seconds)
    except ValueError as exc:
        out.update(corrupt=True, error=str(exc))
        return out
    out.update(info)
    out["analysed_seconds"] = _num(len(samples) / rate)
    if samples.size == 0:
        return out
    mono = samples.mean(axis=1, dtype=np.float64)
    rms = float(np.sqrt(np.mean(mono**2)))
    peak = float(np.max(np.abs(samples)))
    out["loudness_dbfs"] = _num(20 * math.log10(rms), 3) if rms > 0 else None
    out["peak_dbfs"] = _num(20 * math.log10(peak), 3) if peak > 0 else None
    out["clipping_ratio"] = _num(np.mean(np.abs(samples) >= CLIP_LEVEL))
    frame = max(1, int(rate * _FRAME_SECONDS))
    n_frames = max(1, len(mono) // frame)
    framed = mono[: n_frames * frame].reshape(n_frames, -1) if len(mono) >= frame else mono[None, :]
    frame_rms = np.sqrt(np.mean(framed**2, axis=1))
    silent = frame_rms < 10 ** (SILENCE_DBFS / 20)
    out["silence_ratio"] = _num(silent.mean())
    out["snr_db"] = _num(snr_db(mono), 3) if rms >= 10 ** (SILENCE_DBFS / 20) else None
    return out


def snr_db(signal: np.ndarray) -> float | None:
    """Rough SNR (dB) of a mono float signal by minimum statistics, or None when too short or all zero.

    Noise power per frequency bin is the 10th percentile over time of the power averaged over blocks of
    ``_SNR_BLOCK`` non-overlapping Hann frames, divided by that percentile's expected value for pure noise
    (a Gamma(block) quantile), so stationary noise is not under-estimated. A median across
    ``_SNR_MEDIAN_BINS`` neighbouring bins then removes steady tones, which a time percentile alone would count as noise. Signal power is
    the total minus the noise. The noise is never taken below 16-bit quantisation noise, and the result is
    clamped to [-20, 100] dB: -20 dB means no signal was found above the noise floor (noise alone, where the
    noise estimate can exceed the total by chance), 100 dB a clean digital signal.
    """
    frames = len(signal) // _SNR_FFT
    if frames < 2:
        return None
    spec = librosa.stft(
        signal[: frames * _SNR_FFT].astype(np.float32),
        n_fft=_SNR_FFT,
        hop_length=_SNR_FFT,
        center=False,
        window="hann",
    )
    power = np.abs(spec.astype(np.complex128)) ** 2
    block = _SNR_BLOCK if frames >= 8 * _SNR_BLOCK else 1
    usable = power.shape[1] // block * block
    blocks = power[:, :usable].reshape(power.shape[0], -1, block).mean(axis=2)
    bias = gamma.ppf(_SNR_QUANTILE, a=block, scale=1.0 / block)
    noise_bins = np.quantile(blocks, _SNR_QUANTILE, axis=1) / bias
    noise_bins = np.minimum(noise_bins, median_filter(noise_bins, size=_SNR_MEDIAN_BINS, mode="nearest"))
    total = float(power.mean(axis=1).sum())
    if total <= 0:
        return None
    noise = max(float(noise_bins.sum()), _QUANT_NOISE)
    signal_power = max(total - noise, noise * 10 ** (_SNR_FLOOR_DB / 10))
    return min(_SNR_CAP_DB, max(_SNR_FLOOR_DB, 10 * math.log10(signal_power / noise)))


def profile_text(text: str | bytes) -> dict[str, Any]:
    """Profile of one text: length (characters), bytes (UTF-8), empty, whitespace_only, invalid_utf8 (only
    for ``bytes`` input that is not UTF-8; it is then decoded with U+FFFD replacements), replacement_chars
    (U+FFFD count), mojibake_hits (UTF-8 read as cp1252/Latin-1, e.g. 'Ã©'), control_chars (C0/C1 other
    than tab/newline/CR). Never raises."""
    invalid = False
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            invalid, text = True, raw.decode("utf-8", errors="replace")
    hits = 0
    for match in _MOJIBAKE.finditer(text):
        try:
            match.group().encode("cp1252").decode("utf-8")
            hits += 1
        except UnicodeError:
            try:
                match.group().encode("latin-1").decode("utf-8")
                hits += 1
            except UnicodeError:
                pass
    stripped = text.strip()
    return {
        "kind": "text",
        "length": len(text),
        "bytes": len(text.encode("utf-8", "surrogatepass")),
        "empty": not text,
        "whitespace_only": bool(text) and not stripped,
        "invalid_utf8": invalid,
        "replacement_chars": text.count("\ufffd"),
        "mojibake_hits": hits,
        "control_chars": len(_CONTROL.findall(text)),
    }


DEFAULT_THRESHOLDS = ProfileThresholds()


def flags_for(profile: dict[str, Any], thresholds: ProfileThresholds = DEFAULT_THRESHOLDS) -> list[str]:
    """Problem flags for a profile made by this module (unknown kinds give no flags). Flags: corrupt,
    decompression_bomb, tiny, too_dark, too_bright, low_contrast, blurry (images); corrupt, too_short,
    silent, mostly_silent, clipped, low_snr (audio); empty, encoding_error, mojibake, too_long (text)."""
    t, p, flags = thresholds, profile, []
    kind = p.get("kind")

    def below(key: str, limit: float) -> bool:
        return p.get(key) is not None and p[key] < limit

    def above(key: str, limit: float) -> bool:
        return p.get(key) is not None and p[key] > limit

    if p.get("corrupt"):
        flags.append("corrupt")
    if kind == "image":
        if p.get("decompression_bomb"):
            flags.append("decompression_bomb")
        if p.get("width") is not None and min(p["width"], p["height"]) < t.tiny:
            flags.append("tiny")
        flags += [
            f
            for f, hit in (
                ("too_dark", below("brightness", t.too_dark)),
                ("too_bright", above("brightness", t.too_bright)),
                ("low_contrast", below("contrast", t.low_contrast)),
                ("blurry", below("blur", t.blurry)),
            )
            if hit
        ]
    elif kind == "audio" and not p.get("corrupt"):
        if below("duration", t.too_short_seconds):
            flags.append("too_short")
        if p.get("analysed_seconds") and (
            p.get("loudness_dbfs") is None or p["loudness_dbfs"] < t.silent_dbfs
        ):
            flags.append("silent")
        elif above("silence_ratio", t.mostly_silent):
            flags.append("mostly_silent")
        if above("clipping_ratio", t.clipped):
            flags.append("clipped")
        # A silent clip has no signal, so no signal-to-noise ratio: it is "silent", not also "low SNR".
        if "silent" not in flags and below("snr_db", t.low_snr_db):
            flags.append("low_snr")
    elif kind == "text":
        if p.get("empty") or p.get("whitespace_only"):
            flags.append("empty")
        if p.get("invalid_utf8") or p.get("replacement_chars"):
            flags.append("encoding_error")
        if p.get("mojibake_hits"):
            flags.append("mojibake")
        if above("length", t.text_too_long):
            flags.append("too_long")
    return flags
