"""Audio decoding and the waveform picture the labelling page shows for audio items (pure: no Django).

Apart from ``ingress.profiling`` because annotation's media view renders waveforms on the labelling path and
must not import a higher app; profiling decodes audio with the same ``decode_audio``.

The spectrogram is numpy's FFT rather than librosa's: the first ``librosa.stft`` in a process loads numba and
scipy (4-5 s on an idle machine, ~10 s on a busy one), and the labelling page waited that long for its first
waveform on every fresh web worker.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image

DEFAULT_MAX_AUDIO_SECONDS = 120.0
# Dark-blue → teal → yellow anchors, interpolated to a 256-entry colour map for the spectrogram.
_ANCHORS = np.array([[12, 7, 40], [59, 40, 120], [33, 120, 140], [60, 185, 110], [250, 230, 35]], dtype=float)
_COLOURMAP = np.stack(
    [np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c]) for c in range(3)],
    axis=1,
).astype(np.uint8)


def finite_rounded(value: float | np.floating | None, digits: int = 6) -> float | None:
    if value is None:
        return None
    f = float(value)
    return round(f, digits) if math.isfinite(f) else None


def decode_audio(
    data: bytes, *, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS
) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Decode audio bytes to float32 (frames, channels), at most ``max_seconds`` of it, plus file info
    (format, sample_rate, channels, duration of the whole file). Raises ValueError when undecodable."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as handle:
            rate, channels, total = handle.samplerate, handle.channels, handle.frames
            samples = handle.read(frames=int(max_seconds * rate), dtype="float32", always_2d=True)
            fmt = handle.format
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"undecodable audio: {exc}") from exc
    duration = total / rate if total > 0 else len(samples) / rate
    return (
        samples,
        rate,
        {"format": fmt, "sample_rate": rate, "channels": channels, "duration": finite_rounded(duration)},
    )


# Levels are decibels relative to a full-scale sine (0 dB), not to the loudest bin of the clip: scaling to the
# clip's own maximum stretches a silent or near-silent clip's rounding noise over the whole colour map.
FLOOR_DB = -80.0
_AMPLITUDE_FLOOR = 10 ** (FLOOR_DB / 20)
_BLOCK = 2048


def spectrogram_db(mono: np.ndarray, *, n_fft: int = 1024) -> np.ndarray:
    """Magnitude spectrogram (frequency bins × frames, bin k at k·rate/n_fft) in dB re a full-scale sine,
    clipped below at ``FLOOR_DB``: silence is exactly the floor, a sine of amplitude A peaks near 20·log10(A).

    Hann window, hop n_fft/4, the signal zero-padded by n_fft/2 at both ends; a clip shorter than ``n_fft``
    uses the largest power of two (at least 16) that fits. Precondition: ``mono`` is not empty."""
    if len(mono) < n_fft:
        n_fft = 1 << max(4, (len(mono) - 1).bit_length() - 1)
    hop = max(1, n_fft // 4)
    padded = np.pad(mono.astype(np.float32), n_fft // 2)
    framed = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as spectral analysis uses
    # In blocks of frames: a minute at 48 kHz is ~11,000 frames, ~90 MB as one complex array.
    magnitude = np.concatenate(
        [np.abs(np.fft.rfft(framed[i : i + _BLOCK] * window, axis=1)) for i in range(0, len(framed), _BLOCK)]
    ).T
    # A sine of amplitude A puts A·sum(window)/2 into its bin: dividing by that makes a full-scale sine 1.0.
    amplitude = magnitude / (window.sum() / 2)
    return 20 * np.log10(np.maximum(amplitude, _AMPLITUDE_FLOOR))


def render_audio_png(data: bytes, *, width: int = 800, height: int = 240, max_seconds: float = 60.0) -> bytes:
    """PNG of the waveform (top third, min/max envelope per pixel column) over a spectrogram
    (bottom two thirds, low frequencies at the bottom, ``spectrogram_db`` from the floor colour up to 0 dB) of
    the first ``max_seconds`` of ``data``.

    Preconditions: width >= 16, height >= 24. Raises ValueError for undecodable or empty audio.
    """
    if width < 16 or height < 24:
        raise ValueError("width must be >= 16 and height >= 24")
    samples, rate, _ = decode_audio(data, max_seconds=max_seconds)
    mono = samples.mean(axis=1)
    if mono.size == 0:
        raise ValueError("the audio has no samples")
    wave_h = height // 3
    spec_h = height - wave_h
    padded = np.pad(mono, (0, (-len(mono)) % width))
    cols = padded.reshape(width, -1)
    top = ((1 - np.clip(cols.max(axis=1), -1, 1)) / 2 * (wave_h - 1)).astype(int)
    bottom = ((1 - np.clip(cols.min(axis=1), -1, 1)) / 2 * (wave_h - 1)).astype(int)
    rows = np.arange(wave_h)[:, None]
    wave = np.full((wave_h, width, 3), 250, dtype=np.uint8)
    wave[(rows >= top[None, :]) & (rows <= bottom[None, :])] = (40, 70, 160)
    scaled = (spectrogram_db(mono) - FLOOR_DB) / -FLOOR_DB * 255
    level = scaled.clip(0, 255).astype(np.uint8)[::-1]
    # Each pixel row shows the loudest of its frequency bins: averaging them (a plain resize) turned a pure tone's
    # one bright bin into a faint line.
    starts = np.floor(np.arange(spec_h) * level.shape[0] / spec_h).astype(int)
    bands = np.maximum.reduceat(level, starts, axis=0)
    spec_img = Image.fromarray(bands, mode="L").resize((width, spec_h), Image.Resampling.BILINEAR)
    spec = _COLOURMAP[np.asarray(spec_img)]
    canvas = Image.fromarray(np.concatenate([wave, spec], axis=0), mode="RGB")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
