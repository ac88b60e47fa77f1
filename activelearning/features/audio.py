"""Audio features from bytes or a file path: MFCC and spectral statistics at 16 kHz mono.

Each clip is decoded and analysed on its own (clips differ in length); within a clip librosa works on
whole frame matrices.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import Any

import librosa
import numpy as np
import soundfile

from activelearning.features.matrix import FeatureMatrix, assemble, describe_error

SAMPLE_RATE = 16_000
_N_FFT = 512  # 32 ms windows and 10 ms hops, the usual framing for speech and short sound events
_HOP = 160


class AudioFeatureExtractor:
    """Per clip: MFCC mean and std (``n_mfcc`` each), mean/std of spectral centroid, bandwidth, roll-off
    (kHz) and flatness, RMS mean/std plus overall loudness in dBFS, zero-crossing-rate mean/std, and
    duration in seconds. Only the first ``max_seconds`` of a clip are read, which bounds the cost per item.
    """

    name = "audio-mfcc-spectral"
    version = "1"

    def __init__(self, *, n_mfcc: int = 20, n_mels: int = 40, max_seconds: float = 60.0) -> None:
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels
        self.max_seconds = max_seconds

    @property
    def identity(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def dim(self) -> int:
        return 2 * self.n_mfcc + 8 + 3 + 2 + 1

    def fit(self, inputs: Iterable[Any]) -> AudioFeatureExtractor:
        """Stateless; present so every extractor has the same interface."""
        return self

    def _decode(self, source: Any) -> np.ndarray:
        if isinstance(source, bytes | bytearray | memoryview):
            handle: Any = io.BytesIO(bytes(source))
        elif isinstance(source, str | os.PathLike):
            handle = source
        else:
            raise TypeError(f"expected audio bytes or a path, got {type(source).__name__}")
        with soundfile.SoundFile(handle) as audio:
            rate = audio.samplerate
            samples = audio.read(frames=int(self.max_seconds * rate), dtype="float32", always_2d=True)
        mono = samples.mean(axis=1)
        if mono.size == 0:
            raise ValueError("audio has no samples")
        if not np.all(np.isfinite(mono)):
            raise ValueError("audio contains non-finite samples")
        if rate != SAMPLE_RATE:
            mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE)
        return mono

    def _features(self, signal: np.ndarray) -> np.ndarray:
        duration = signal.size / SAMPLE_RATE
        if signal.size < _N_FFT:  # shorter than one window: pad so every statistic is defined
            signal = np.pad(signal, (0, _N_FFT - signal.size))
        magnitude = np.abs(librosa.stft(signal, n_fft=_N_FFT, hop_length=_HOP))
        mel = librosa.feature.melspectrogram(S=magnitude**2, sr=SAMPLE_RATE, n_mels=self.n_mels)
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=self.n_mfcc)
        spectral = np.vstack(
            [
                librosa.feature.spectral_centroid(S=magnitude, sr=SAMPLE_RATE, n_fft=_N_FFT) / 1000.0,
                librosa.feature.spectral_bandwidth(S=magnitude, sr=SAMPLE_RATE, n_fft=_N_FFT) / 1000.0,
                librosa.feature.spectral_rolloff(S=magnitude, sr=SAMPLE_RATE, n_fft=_N_FFT) / 1000.0,
                librosa.feature.spectral_flatness(S=magnitude),
            ]
        )
        rms = librosa.feature.rms(S=magnitude, frame_length=_N_FFT)[0]
        zcr = librosa.feature.zero_crossing_rate(signal, frame_length=_N_FFT, hop_length=_HOP)[0]
        loudness_dbfs = 20.0 * np.log10(max(float(np.sqrt(np.mean(signal**2))), 1e-10))
        values = np.concatenate(
            [
                mfcc.mean(axis=1),
                mfcc.std(axis=1),
                np.column_stack([spectral.mean(axis=1), spectral.std(axis=1)]).ravel(),
                [rms.mean(), rms.std(), loudness_dbfs, zcr.mean(), zcr.std(), duration],
            ]
        )
        if not np.all(np.isfinite(values)):
            raise ValueError("audio features are not finite")
        return values

    def transform(self, inputs: Sequence[Any]) -> FeatureMatrix:
        """Float32 (n, dim) features; unreadable or empty clips give a NaN row and an error."""
        errors: list[str | None] = [None] * len(inputs)
        ok_rows: list[int] = []
        rows: list[np.ndarray] = []
        for row, source in enumerate(inputs):
            try:
                rows.append(self._features(self._decode(source)))
            except Exception as exc:  # noqa: BLE001 — libsndfile/librosa failures are per-row errors
                errors[row] = describe_error(exc)
                continue
            ok_rows.append(row)
        ok_values = np.vstack(rows) if rows else np.empty((0, self.dim))
        return assemble(
            dim=self.dim,
            n=len(inputs),
            ok_rows=np.asarray(ok_rows, dtype=np.int64),
            ok_values=ok_values,
            errors=errors,
            identity=self.identity,
        )
