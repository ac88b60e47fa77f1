"""Know-your-data profiles: images, audio, text, flags, waveform rendering."""

import io
import json
import struct
import zlib

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from ingress.profiling import (
    ProfileThresholds,
    flags_for,
    profile_audio,
    profile_image,
    profile_text,
    render_audio_png,
    snr_db,
)

RATE = 16_000


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def _checkerboard(size: int = 128, cell: int = 8) -> np.ndarray:
    ys, xs = np.indices((size, size))
    return (((ys // cell + xs // cell) % 2) * 255).astype(np.uint8)


def _box_blur(img: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(img.astype(float), radius, mode="edge")
    k = 2 * radius + 1
    out = np.zeros(img.shape)
    for dy in range(k):
        for dx in range(k):
            out += padded[dy : dy + img.shape[0], dx : dx + img.shape[1]]
    return (out / k**2).astype(np.uint8)


def test_black_image_is_too_dark_with_zero_contrast():
    profile = profile_image(_png(np.zeros((64, 64), np.uint8)))
    assert (profile["brightness"], profile["contrast"], profile["width"], profile["format"]) == (
        0.0,
        0.0,
        64,
        "PNG",
    )
    assert {"too_dark", "low_contrast"} <= set(flags_for(profile))
    assert "too_bright" not in flags_for(profile)


def test_brightness_is_mean_luma_on_a_zero_to_one_scale():
    half = np.zeros((64, 64), np.uint8)
    half[:, 32:] = 255
    profile = profile_image(_png(half))
    assert profile["brightness"] == pytest.approx(0.5)
    assert profile["contrast"] == pytest.approx(0.5)  # std of a 50/50 black-white image is half the range


def test_blurred_checkerboard_has_lower_laplacian_variance_than_sharp_one():
    sharp = _checkerboard()
    blurred = _box_blur(sharp, 3)
    sharp_blur = profile_image(_png(sharp))["blur"]
    soft_blur = profile_image(_png(blurred))["blur"]
    assert sharp_blur > 5 * soft_blur
    assert "blurry" in flags_for(profile_image(_png(_box_blur(sharp, 6))))
    assert "blurry" not in flags_for(profile_image(_png(sharp)))


def test_tiny_image_is_flagged_and_profile_is_json_serialisable():
    profile = profile_image(_png(np.full((8, 8, 3), 120, np.uint8)))
    assert "tiny" in flags_for(profile)
    assert json.loads(json.dumps(profile, allow_nan=False)) == profile


def test_corrupt_png_is_reported_not_raised():
    # Given a PNG cut in the middle of its pixel data
    data = _png(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8))[:600]
    # When it is profiled
    profile = profile_image(data)
    # Then it is corrupt with a reason, and flagged
    assert profile["corrupt"] is True and profile["error"]
    assert "corrupt" in flags_for(profile)


def test_zero_byte_image_is_corrupt():
    profile = profile_image(b"")
    assert profile["corrupt"] is True and profile["width"] is None


def _png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_header_is_caught_before_decoding():
    # Given a tiny file whose header claims 100,000 x 100,000 pixels (beyond even Pillow's hard limit)
    profile = profile_image(_png_header_claiming(100_000, 100_000))
    # Then it is a decompression bomb, never decoded
    assert profile["decompression_bomb"] is True and profile["brightness"] is None
    assert "decompression_bomb" in flags_for(profile)


def test_own_pixel_limit_applies_regardless_of_pillow_global():
    # Given a real blank 3000 x 3000 PNG (well under Pillow's global limit), compressed to a few KB
    data = _png(np.zeros((3000, 3000), np.uint8))
    assert len(data) < 100_000
    # When profiled with a 1-megapixel limit, then it is refused from the header
    profile = profile_image(data, max_pixels=1_000_000)
    assert profile["decompression_bomb"] is True and (profile["width"], profile["height"]) == (3000, 3000)


def test_text_file_named_wav_is_corrupt_audio():
    profile = profile_audio(b"this is not audio, just text saved as clip.wav\n" * 10)
    assert profile["corrupt"] is True and flags_for(profile) == ["corrupt"]


def test_zero_byte_audio_is_corrupt():
    assert profile_audio(b"")["corrupt"] is True


def test_silence_is_flagged_silent():
    profile = profile_audio(_wav(np.zeros(RATE)))
    assert profile["silence_ratio"] == 1.0 and profile["loudness_dbfs"] is None
    assert "silent" in flags_for(profile)


def test_sine_loudness_matches_rms_in_dbfs_and_duration_and_rate_are_read():
    t = np.arange(2 * RATE) / RATE
    profile = profile_audio(_wav(0.5 * np.sin(2 * np.pi * 440 * t)))
    # RMS of a 0.5 sine = 0.5 / sqrt(2) -> 20 log10 = -9.03 dBFS
    assert profile["loudness_dbfs"] == pytest.approx(-9.03, abs=0.01)
    assert (profile["sample_rate"], profile["channels"], profile["duration"]) == (RATE, 1, 2.0)
    assert profile["clipping_ratio"] == 0.0 and flags_for(profile) == []


def test_clipped_sine_is_flagged_clipped():
    t = np.arange(RATE) / RATE
    clipped = np.clip(2.0 * np.sin(2 * np.pi * 220 * t), -1.0, 1.0)
    profile = profile_audio(_wav(clipped))
    # |2 sin θ| >= 1 when |sin θ| >= 1/2, i.e. θ in [π/6, 5π/6] of each half period: two thirds of the time
    assert profile["clipping_ratio"] == pytest.approx(2 / 3, abs=0.01)
    assert "clipped" in flags_for(profile)


@pytest.mark.parametrize("true_snr", [0.0, 10.0, 20.0, 30.0])
def test_sine_plus_white_noise_snr_is_within_3_db_of_truth(true_snr):
    # Given a 0.3-amplitude sine plus white noise at a known power ratio
    rng = np.random.default_rng(1)
    t = np.arange(4 * RATE) / RATE
    signal = 0.3 * np.sin(2 * np.pi * 1000 * t)
    noise_power = (0.3**2 / 2) / 10 ** (true_snr / 10)
    mixed = signal + rng.normal(0, np.sqrt(noise_power), len(t))
    # When the SNR is estimated, then it is within 3 dB
    assert snr_db(mixed) == pytest.approx(true_snr, abs=3.0)


@pytest.mark.parametrize("true_snr", [0.0, 10.0, 20.0, 30.0])
def test_snr_of_a_16_bit_wav_is_within_3_db_of_truth(true_snr):
    # Given a 0.5-amplitude 440 Hz sine (power 0.125) plus white noise at a set power ratio, stored as 16-bit PCM
    rng = np.random.default_rng(7)
    t = np.arange(RATE) / RATE
    noise = rng.normal(0, np.sqrt(0.125 / 10 ** (true_snr / 10)), len(t))
    profile = profile_audio(_wav(0.5 * np.sin(2 * np.pi * 440 * t) + noise))
    assert profile["snr_db"] == pytest.approx(true_snr, abs=3.0)
    assert ("low_snr" in flags_for(profile)) == (true_snr < 10)


@pytest.mark.parametrize("seed", range(8))
def test_snr_of_noise_alone_is_bounded_at_the_floor_not_hundreds_of_db_below(seed):
    # White noise has no signal: the estimate may land anywhere at or under about 0 dB, but inside [-20, 100]
    noise = np.random.default_rng(seed).normal(0, 0.1, RATE)
    value = snr_db(noise)
    assert -20.0 <= value <= 3.0


def test_quiet_hiss_is_silent_with_no_snr_and_no_low_snr_flag():
    # A -80 dBFS hiss (as the demo's silent clips): RMS 1e-4 -> 20 log10(1e-4) = -80 dBFS, under -50 dBFS
    hiss = 1e-4 * np.random.default_rng(3).standard_normal(RATE)
    profile = profile_audio(_wav(hiss))
    assert profile["snr_db"] is None
    assert flags_for(profile) == ["silent"]


def test_digital_silence_has_no_snr():
    profile = profile_audio(_wav(np.zeros(RATE)))
    assert profile["snr_db"] is None and "low_snr" not in flags_for(profile)


@pytest.mark.parametrize("f0", [180.0, 181.4, 250.0, 600.0, 900.0])
def test_clean_harmonic_tone_is_not_low_snr(f0):
    # Given a clean tone with two overtones and 20 ms fades (as the demo's tones), only 16-bit quantisation noise
    t = np.arange(RATE) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    tone = sum(0.6 / h * np.sin(2 * np.pi * f0 * h * t) for h in (1, 2, 3)) * fade / 1.2
    profile = profile_audio(_wav(tone))
    # Then no low-SNR flag is raised. (The truth is near 90 dB; under ~250 Hz the window's leakage between
    # close harmonics reads as noise and the estimate drops to about 25 dB, still far above the 10 dB threshold.)
    assert profile["snr_db"] > 20 and flags_for(profile) == []


def test_clean_chirp_is_not_low_snr():
    t = np.arange(RATE) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    chirp = 0.6 * np.sin(2 * np.pi * (300 * t + (3000 - 300) * t**2 / 2)) * fade
    profile = profile_audio(_wav(chirp))
    assert profile["snr_db"] > 30 and flags_for(profile) == []


def test_noise_only_signal_has_low_snr_flag():
    noise = np.random.default_rng(2).normal(0, 0.05, 2 * RATE)
    profile = profile_audio(_wav(noise))
    assert "low_snr" in flags_for(profile)


def test_short_clip_is_too_short():
    assert "too_short" in flags_for(profile_audio(_wav(0.2 * np.ones(RATE // 10))))


def test_text_profile_flags_empty_whitespace_mojibake_and_replacement_chars():
    assert flags_for(profile_text("")) == ["empty"]
    assert flags_for(profile_text(" \n\t ")) == ["empty"]
    mojibake = "cafÃ© crÃ¨me, itâ€™s"
    assert profile_text(mojibake)["mojibake_hits"] == 3 and flags_for(profile_text(mojibake)) == ["mojibake"]
    assert flags_for(profile_text("bad \ufffd char")) == ["encoding_error"]
    assert flags_for(profile_text("café crème, it’s fine")) == []


def test_text_bytes_that_are_not_utf8_are_flagged():
    profile = profile_text("café".encode("latin-1"))
    assert profile["invalid_utf8"] is True and "encoding_error" in flags_for(profile)


def test_text_thresholds_are_configurable():
    assert flags_for(profile_text("abcdef"), ProfileThresholds(text_too_long=5)) == ["too_long"]


def test_render_audio_png_is_a_png_of_the_requested_size():
    t = np.arange(RATE) / RATE
    png = render_audio_png(_wav(0.5 * np.sin(2 * np.pi * 440 * t)), width=400, height=120)
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size, image.mode) == ("PNG", (400, 120), "RGB")


def test_render_audio_png_rejects_undecodable_audio():
    with pytest.raises(ValueError, match="undecodable"):
        render_audio_png(b"not audio")
