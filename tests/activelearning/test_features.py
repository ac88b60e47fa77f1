import io

import numpy as np
import pytest
import soundfile
from PIL import Image

from activelearning.features import (
    AudioFeatureExtractor,
    ImageFeatureExtractor,
    TextFeatureExtractor,
    extractor_for,
)


def png(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def wav(signal: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, signal, rate, format="WAV")
    return buffer.getvalue()


def sine(frequency: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * frequency * np.arange(int(rate * seconds)) / rate)


def test_extractor_for_picks_modality_and_rejects_unknown_task():
    assert isinstance(extractor_for("text"), TextFeatureExtractor)
    assert isinstance(extractor_for("image"), ImageFeatureExtractor)
    assert isinstance(extractor_for("audio"), AudioFeatureExtractor)
    with pytest.raises(ValueError):
        extractor_for("video")


def test_text_features_stream_from_a_generator_and_bad_rows_become_nan():
    # Given a corpus passed as a generator (consumed once) in chunks of 7
    corpus = [f"the {w} cat sat on mat {i}" for i, w in enumerate(["red", "blue", "green"] * 20)]
    corpus += [f"stock market fell {i} points" for i in range(60)]
    extractor = TextFeatureExtractor(n_components=16, chunk_size=7, svd_sample=50)
    extractor.fit(text for text in corpus)
    # When transforming good, None and undecodable rows
    result = extractor.transform(["the red cat sat", None, b"\xff\xfe", "stock market fell", b"the blue cat"])
    # Then the matrix is float32 (5, 16) with NaN rows and a reason for the bad ones
    assert result.values.dtype == np.float32 and result.values.shape == (5, 16)
    assert result.ok.tolist() == [True, False, False, True, True]
    assert np.isnan(result.values[1]).all() and "NoneType" in result.errors[1]
    assert "UnicodeDecodeError" in result.errors[2]
    assert result.extractor == "text-tfidf-svd/1"
    # and texts on the same topic are closer than texts on different topics
    cats = result.values[[0, 4]]
    cosine = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cosine(*cats) > cosine(cats[0], result.values[3])


def test_text_fit_on_tiny_corpus_reduces_dimensions_and_rejects_empty():
    extractor = TextFeatureExtractor().fit(["a b", "c d", "e f"])
    assert extractor.dim == 2
    with pytest.raises(ValueError):
        TextFeatureExtractor().fit([None, 3])


def test_image_features_of_plain_colour_and_stripes():
    extractor = ImageFeatureExtractor()
    red = png(Image.new("RGB", (40, 30), (255, 0, 0)))
    grey = png(Image.new("L", (20, 20), 128))
    vertical = np.zeros((64, 64), dtype=np.uint8)
    vertical[:, ::8] = 255  # vertical lines: horizontal gradients, orientation 0
    stripes = png(Image.fromarray(vertical), "PNG")
    jpeg = png(Image.fromarray(vertical.T).convert("RGB"), "JPEG")  # horizontal lines: orientation pi/2

    result = extractor.transform([red, grey, stripes, jpeg])
    assert result.values.shape == (4, 256 + 24 + 144) and result.ok.all()
    thumb, colour, hog = result.values[:, :256], result.values[:, 256:280], result.values[:, 280:]
    # grey 128 → every thumbnail pixel 128/255
    np.testing.assert_allclose(thumb[1], 128 / 255, atol=1e-6)
    # pure red: R in the top bin, G and B in the bottom bin, each a share of 1
    expected = np.zeros(24)
    expected[[7, 8, 16]] = 1.0
    np.testing.assert_allclose(colour[0], expected)
    # a flat image has no gradients; stripes put their energy in bin 0 (vertical) or bin 4 (horizontal)
    assert np.all(hog[0] == 0)
    assert hog[2].reshape(16, 9).sum(axis=0).argmax() == 0
    assert hog[3].reshape(16, 9).sum(axis=0).argmax() == 4


def test_corrupt_truncated_oversized_and_non_bytes_images_give_nan_rows():
    good = png(Image.new("RGB", (100, 100), (0, 0, 255)))
    extractor = ImageFeatureExtractor(max_pixels=5_000)
    result = extractor.transform(
        [b"not an image", good[: len(good) // 2], good, "a/path.png", png(Image.new("RGB", (50, 50)))]
    )
    assert result.ok.tolist() == [False, False, False, False, True]
    assert "pixel limit" in result.errors[2]
    assert np.isnan(result.values[:4]).all() and np.isfinite(result.values[4]).all()


def test_audio_features_separate_low_and_high_tones_and_resample(tmp_path):
    extractor = AudioFeatureExtractor()
    path = tmp_path / "tone.wav"
    soundfile.write(path, sine(3000, 16_000), 16_000)
    stereo = np.column_stack([sine(300, 44_100), sine(300, 44_100)])
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 8_000)
    result = extractor.transform(
        [wav(sine(300, 44_100), 44_100), str(path), wav(stereo, 44_100), wav(noise, 16_000)]
    )
    assert result.values.shape == (4, 54) and result.ok.all()
    centroid_mean = result.values[:, 40]
    assert centroid_mean[0] < 1.0 < 2.5 < centroid_mean[1]  # kHz
    # duration in seconds is the last column; the stereo copy of the same tone gives the same features
    np.testing.assert_allclose(result.values[:, -1], [1.0, 1.0, 1.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(result.values[2], result.values[0], rtol=1e-4, atol=1e-4)
    # white noise is flatter and crosses zero more often than a tone
    flatness_mean, zcr_mean = result.values[:, 46], result.values[:, 51]
    assert flatness_mean[3] > 10 * flatness_mean[0]
    assert zcr_mean[3] > 10 * zcr_mean[0]


def test_corrupt_and_empty_audio_give_nan_rows_with_reasons():
    extractor = AudioFeatureExtractor()
    good = wav(sine(440, 16_000), 16_000)
    result = extractor.transform([b"RIFF garbage", wav(np.zeros(0), 16_000), good[:30], None, good])
    assert result.ok.tolist() == [False, False, False, False, True]
    assert all(error for error in result.errors[:4])
    assert np.isnan(result.values[:4]).all()
