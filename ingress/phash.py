"""Near-duplicate images (pure numpy; no Django): a 64-bit DCT perceptual hash, and a Hamming-radius search by
multi-index hashing (4 bands of 16 bits: two hashes within distance r share at least one band within r // 4
bits). Groups are chained as in ``ingress.dedup``."""

from __future__ import annotations

import numpy as np
import scipy.fft

from ingress.dedup import groups_from_pairs


def phash_from_gray32(gray: np.ndarray) -> np.ndarray:
    """64-bit DCT perceptual hashes of grayscale images resized to 32x32.

    ``gray``: float or uint8 array shaped (n, 32, 32) or (32, 32). Bit k (row-major over the 8x8
    lowest-frequency DCT block) is set when that coefficient exceeds the block's median, the DC term
    excluded from the median because it only encodes overall brightness. Returns uint64, shape (n,) or ().
    """
    arr = np.asarray(gray, dtype=np.float64)
    single = arr.ndim == 2
    arr = arr[None] if single else arr
    if arr.shape[1:] != (32, 32):
        raise ValueError(f"expected 32x32 grayscale images, got {arr.shape[1:]}")
    low = scipy.fft.dctn(arr, type=2, axes=(1, 2), norm="ortho")[:, :8, :8].reshape(len(arr), 64)
    median = np.median(low[:, 1:], axis=1, keepdims=True)
    bits = (low > median).astype(np.uint64)
    weights = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)
    hashes = (bits * weights).sum(axis=1, dtype=np.uint64)
    return hashes[0] if single else hashes


def hamming_groups(hashes: np.ndarray, *, max_distance: int = 6) -> list[np.ndarray]:
    """Groups of 64-bit hashes within Hamming distance ``max_distance`` of each other (chained).

    Preconditions: ``hashes`` uint64 (or int convertible), 0 <= max_distance <= 11 (the band search flips
    up to max_distance // 4 bits per 16-bit band; past 11 the candidate count grows too fast). Raises
    ValueError otherwise.
    """
    if not 0 <= max_distance <= 11:
        raise ValueError("max_distance must be between 0 and 11")
    h = np.asarray(hashes).astype(np.uint64)
    n = len(h)
    if n < 2:
        return []
    uniq, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    left_parts = [np.arange(n)]
    right_parts = [first[inverse]]
    if max_distance > 0 and len(uniq) > 1:
        ua, ub = _band_matches(uniq, max_distance)
        left_parts.append(first[ua])
        right_parts.append(first[ub])
    return groups_from_pairs(n, np.concatenate(left_parts), np.concatenate(right_parts))


def _flip_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    if radius >= 1:
        masks += [1 << i for i in range(bits)]
    if radius >= 2:
        masks += [(1 << i) | (1 << j) for i in range(bits) for j in range(i + 1, bits)]
    return np.array(masks, dtype=np.uint64)


def _band_matches(uniq: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of distinct hashes within ``max_distance``, found band by band."""
    radius = max_distance // 4
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for band in range(4):
        values = ((uniq >> np.uint64(16 * band)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(values, kind="stable")
        # A 65,536-entry offset table replaces a binary search per query.
        offsets = np.concatenate([[0], np.cumsum(np.bincount(values, minlength=1 << 16))])
        for mask in _flip_masks(16, radius):
            query = values ^ int(mask)
            lo = offsets[query]
            counts = offsets[query + 1] - lo
            if not counts.any():
                continue
            qi = np.repeat(np.arange(len(uniq)), counts)
            starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
            cj = order[np.arange(len(qi)) + starts]
            keep = qi < cj
            qi, cj = qi[keep], cj[keep]
            dist = np.bitwise_count(uniq[qi] ^ uniq[cj])
            close = dist <= max_distance
            lefts.append(qi[close])
            rights.append(cj[close])
    if not lefts:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return np.concatenate(lefts), np.concatenate(rights)
