"""The labelling page's audio picture: a spectrogram on a fixed decibel scale, so silence is the floor colour and
a tone is a bright line at its frequency."""

import io

import numpy as np
import soundfile as sf
from PIL import Image

from annotation.waveform import render_audio_png, spectrogram_db

RATE = 8000
WIDTH, HEIGHT = 800, 240
WAVE_ROWS = HEIGHT // 3  # the waveform strip above the spectrogram
# The colour map's first anchor (dark blue): the colour of -80 dB and below.
FLOOR_RGB = (12, 7, 40)


def _wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def _picture(samples: np.ndarray) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(render_audio_png(_wav(samples), width=WIDTH, height=HEIGHT))))


def test_silent_clip_spectrogram_is_uniformly_the_floor_colour():
    # Given one second of digital silence
    picture = _picture(np.zeros(RATE))
    # Then every spectrogram pixel is the floor colour (a scale relative to the clip's own maximum made it noise)
    spectrogram = picture[WAVE_ROWS:].reshape(-1, 3)
    assert {tuple(int(c) for c in rgb) for rgb in np.unique(spectrogram, axis=0)} == {FLOOR_RGB}


def test_near_silent_hiss_stays_at_the_floor():
    # Given hiss at about -100 dBFS, below the -80 dB floor
    hiss = np.random.default_rng(0).normal(0, 1e-5, RATE)
    spectrogram = _picture(hiss)[WAVE_ROWS:].reshape(-1, 3)
    assert {tuple(int(c) for c in rgb) for rgb in np.unique(spectrogram, axis=0)} == {FLOOR_RGB}


def test_tone_peaks_in_its_frequency_bin_at_its_level_re_full_scale():
    # Given a 1000 Hz sine of amplitude 0.5 at 8 kHz: with n_fft 1024 its bin is 1000 * 1024 / 8000 = 128
    t = np.arange(2 * RATE) / RATE
    db = spectrogram_db(0.5 * np.sin(2 * np.pi * 1000 * t))
    middle = db[:, db.shape[1] // 2]
    assert db.shape[0] == 1024 // 2 + 1
    assert int(np.argmax(middle)) == 128
    # and its level is 20 * log10(0.5) = -6.02 dB whatever the clip's own maximum
    assert abs(middle[128] - (-6.0206)) < 0.01


def test_tone_is_a_bright_band_at_its_row_of_the_picture():
    # Given the same tone drawn into the 800 x 240 picture
    t = np.arange(2 * RATE) / RATE
    picture = _picture(0.5 * np.sin(2 * np.pi * 1000 * t)).astype(int)
    # Bins run upwards; bin 128 of 513 is flipped index 512 - 128 = 384, and the 160 pixel rows each take the
    # bins from floor(y * 513 / 160): row 120 starts at floor(384.75) = 384, so the tone is on row 80 + 120 = 200
    column = picture[WAVE_ROWS:, WIDTH // 2]
    brightest = WAVE_ROWS + int(np.argmax(column.sum(axis=1)))
    assert brightest == 200
    red, green, _ = picture[200, WIDTH // 2]
    assert red > 150 and green > 180  # the yellow end of the map, not a faint line
    # and far from the tone the picture is at the floor
    assert tuple(picture[WAVE_ROWS + 10, WIDTH // 2]) == FLOOR_RGB
