"""Exact and near-duplicate detection."""

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from ingress.dedup import (
    exact_groups,
    minhash_signatures,
    near_duplicate_text_groups,
    normalise_text,
    sha256_bytes,
    sha256_text,
)
from ingress.phash import hamming_groups, phash_from_gray32
from ingress.profiling import profile_image


def _as_lists(groups):
    return [g.tolist() for g in groups]


def test_sha256_matches_hashlib_for_bytes_and_utf8_text():
    assert sha256_bytes(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_text("é") == hashlib.sha256("é".encode()).hexdigest()


def test_normalise_text_folds_case_width_punctuation_and_whitespace():
    assert normalise_text("  Hello,\tWORLD!!  ｆｕｌｌ-width…  ") == "hello world fullwidth"


def test_the_ascii_shortcut_of_normalise_text_equals_the_general_steps():
    import random

    from ingress.dedup import _normalise_text_general

    # Every ASCII character alone and next to every other, then random ASCII strings rich in punctuation,
    # symbols, control characters and whitespace (\x1c-\x1f are whitespace to both str.split and re's \s)
    pairs = [chr(a) + chr(b) for a in range(128) for b in range(128)]
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)] + [" "] * 20 + list("aZ9.,!-_ \t\n") * 5
    samples = ["".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(5000)]
    for text in pairs + samples + [f"  {p}x{p}  " for p in pairs[:2000]]:
        assert text.isascii()
        assert normalise_text(text) == _normalise_text_general(text), repr(text)
    # The shortcut is taken only for ASCII: other text still goes through NFKC and casefold
    assert normalise_text("Straße ＡＢ") == "strasse ab"


def test_exact_groups_collect_equal_keys():
    assert _as_lists(exact_groups(["a", "b", "a", "c", "b", "a"])) == [[0, 2, 5], [1, 4]]


def test_minhash_similarity_estimates_jaccard_of_shingle_sets():
    # Given two texts whose 5-shingle sets have a known Jaccard similarity
    rng = np.random.default_rng(0)
    base = "".join(rng.choice(list("abcdefghij"), 4000))
    other = base[:3000] + "".join(rng.choice(list("klmnop"), 1000))

    def shingles(t):
        return {t[i : i + 5] for i in range(len(t) - 4)}

    true_j = len(shingles(base) & shingles(other)) / len(shingles(base) | shingles(other))
    # When signatures are compared, then the estimate is within ~3 standard errors of the truth
    sig = minhash_signatures([base, other], num_perm=256)
    estimate = (sig[0] == sig[1]).mean()
    assert estimate == pytest.approx(true_j, abs=3 * np.sqrt(true_j * (1 - true_j) / 256) + 0.02)


def test_minhash_is_deterministic_per_text_regardless_of_batch():
    a = minhash_signatures(["alpha beta gamma", "x"])[0]
    b = minhash_signatures(["zzz", "q", "alpha beta gamma"])[2]
    assert np.array_equal(a, b)


def test_near_duplicate_texts_are_grouped_and_distinct_ones_are_not():
    # Given crafted near-duplicates among unrelated texts
    base = "The quick brown fox jumps over the lazy dog near the river bank at dawn, every single day."
    texts = [
        base,
        "An entirely different sentence about machine learning pipelines and data quality checks.",
        base.upper().replace(",", ";"),  # same after normalisation
        base.replace("every single day", "every day"),  # small edit: high shingle Jaccard
        "Completely unrelated: recipes for sourdough bread with rye flour and honey glaze.",
        "An entirely different sentence about machine learning pipelines and data quality checks!!",
    ]
    # When grouped at Jaccard >= 0.8
    groups = _as_lists(near_duplicate_text_groups(texts, threshold=0.8))
    # Then the three fox variants and the two ML sentences form groups; the bread text stays alone
    assert groups == [[0, 2, 3], [1, 5]]


def test_near_duplicate_threshold_separates_moderate_overlap():
    a = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore"
    b = "lorem ipsum dolor sit amet consectetur but then something else entirely different follows here"
    assert near_duplicate_text_groups([a, b], threshold=0.8) == []


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_phash_is_stable_under_resize_and_brightness_but_not_for_other_images():
    # Given a scene with rich low-frequency structure (random 8x8 blocks smoothed up to 128 px)
    rng = np.random.default_rng(3)

    def scene(seed):
        small = np.random.default_rng(seed).integers(0, 255, (8, 8), dtype=np.uint8)
        return np.asarray(Image.fromarray(small).resize((128, 128), Image.Resampling.BICUBIC))

    base = scene(1)
    brighter = np.clip(base.astype(int) + 20, 0, 255).astype(np.uint8)
    resized = np.asarray(Image.fromarray(base).resize((96, 96), Image.Resampling.BILINEAR))
    noisy = np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
    variants = (base, brighter, resized, noisy, scene(2))
    # When hashed through the image profile
    hashes = np.array([int(profile_image(_png(a))["phash"], 16) for a in variants], dtype=np.uint64)
    dist = [int(np.bitwise_count(hashes[0] ^ h)) for h in hashes[1:]]
    # Then edits of the same scene stay close and another scene is far (random hashes differ by ~32 bits)
    assert max(dist[:3]) <= 6 and dist[3] > 16


def test_phash_matches_a_direct_dct_definition_and_median_rule():
    # Given a random 32x32 image and DCT-II written out from its definition (independent of scipy.fft)
    gray = np.random.default_rng(6).uniform(0, 255, (32, 32))
    n = np.arange(32)
    basis = np.sqrt(2 / 32) * np.cos(np.pi * (2 * n[None, :] + 1) * n[:, None] / 64)
    basis[0] /= np.sqrt(2)
    coeffs = (basis @ gray @ basis.T)[:8, :8].ravel()
    bits = coeffs > np.median(coeffs[1:])
    expected = sum(1 << (63 - int(i)) for i in np.flatnonzero(bits))
    # Then the hash sets exactly those bits, first coefficient in the highest bit
    assert int(phash_from_gray32(gray)) == expected


def test_hamming_groups_link_hashes_within_distance_and_scale_past_band_boundaries():
    rng = np.random.default_rng(4)
    h = rng.integers(0, 2**63, size=1000, dtype=np.int64).astype(np.uint64)
    # Given pairs at distance 6 spread over all four 16-bit bands, and one pair at distance 7
    h[10] = h[11] ^ np.uint64((1 << 1) | (1 << 17) | (1 << 33) | (1 << 49) | (1 << 50) | (1 << 2))
    h[20] = h[21] ^ np.uint64((1 << 3) | (1 << 4) | (1 << 19) | (1 << 35) | (1 << 51) | (1 << 52) | (1 << 60))
    h[30] = h[31]  # exact duplicate
    # When grouped at distance <= 6
    groups = _as_lists(hamming_groups(h, max_distance=6))
    # Then the distance-6 pair and the duplicate are found, the distance-7 pair is not
    assert groups == [[10, 11], [30, 31]]


def test_hamming_groups_match_brute_force_on_clustered_hashes():
    rng = np.random.default_rng(5)
    centres = rng.integers(0, 2**63, size=50, dtype=np.int64).astype(np.uint64)
    flips = [
        np.uint64(sum(1 << int(b) for b in rng.choice(64, rng.integers(0, 5), replace=False)))
        for _ in range(400)
    ]
    h = np.array([centres[i % 50] ^ f for i, f in enumerate(flips)], dtype=np.uint64)
    dist = np.bitwise_count(h[:, None] ^ h[None, :])
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(dist <= 5, directed=False)
    expected = sorted(
        sorted(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels) if (labels == c).sum() > 1
    )
    assert _as_lists(hamming_groups(h, max_distance=5)) == expected


def test_hamming_distance_outside_supported_range_is_rejected():
    with pytest.raises(ValueError):
        hamming_groups(np.zeros(3, dtype=np.uint64), max_distance=12)
