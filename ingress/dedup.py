"""Exact and near-duplicate detection (pure numpy; no Django).

- Exact: sha256 of the bytes, or of UTF-8 text.
- Near-duplicate text: a normalised key (NFKC, casefold, punctuation removed, whitespace collapsed) groups
  trivially different copies; MinHash over character shingles with LSH banding groups texts whose
  estimated Jaccard similarity is >= a threshold.
- Near-duplicate images: see ``ingress.phash``.

Groups are connected components of the "similar" graph (scipy's union-find equivalent), so similarity is
chained: A~B and B~C put A and C in one group even if A and C differ more. Each group is a sorted array of
input indices; only groups of two or more are returned, ordered by their smallest index.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import unicodedata
from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_WS = re.compile(r"\s+")
_EMPTY = np.uint64(1 << 32)  # above every 32-bit bin value: marks an empty bin
_LSH_WINDOW = 16
_DENSIFY_ROWS = 4096
_CHUNK_CHARS = 1_000_000


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the output (uint64 in, uint64 out)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def minhash_signatures(
    texts: Sequence[str], *, shingle_size: int = 5, num_perm: int = 128, seed: int = 0
) -> np.ndarray:
    """MinHash signatures, shape (n, num_perm) uint32, of the character ``shingle_size``-gram sets of ``texts``.

    One-permutation hashing: each shingle is hashed once, the top bits pick one of ``num_perm`` bins and the
    bin keeps its minimum; empty bins borrow from the next non-empty bin (rotation densification), so the
    share of equal entries between two rows estimates Jaccard similarity like ``num_perm`` separate
    permutations at a fraction of the cost. Texts shorter than a shingle give one (end-padded) shingle per
    character; a text with no characters gets a row of 0xFFFFFFFF. Preconditions: ``num_perm`` a power of two, ``shingle_size`` >= 1; raises ValueError otherwise.
    """
    if num_perm < 2 or num_perm & (num_perm - 1):
        raise ValueError("num_perm must be a power of two")
    if shingle_size < 1:
        raise ValueError("shingle_size must be >= 1")
    n = len(texts)
    sig = np.empty((n, num_perm), dtype=np.uint32)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    # Chunks of about _CHUNK_CHARS characters bound the temporaries (~60 bytes per character).
    cuts = np.searchsorted(np.cumsum(lengths), np.arange(_CHUNK_CHARS, int(lengths.sum()) + 1, _CHUNK_CHARS))
    bounds = [0, *sorted({int(c) + 1 for c in cuts if 0 <= c < n - 1}), n]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        sig[lo:hi] = _signature_chunk(texts[lo:hi], lengths[lo:hi], shingle_size, num_perm, seed)
    return sig


def _signature_chunk(
    texts: Sequence[str], lengths: np.ndarray, shingle_size: int, num_perm: int, seed: int
) -> np.ndarray:
    n = len(texts)
    pad = "\0" * shingle_size
    # One encode for the whole batch; the NUL padding keeps every shingle inside its own text.
    codes = np.frombuffer((pad.join(texts) + pad).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    span = len(codes) - shingle_size + 1
    # Contiguous slices (views) instead of gathers: a shingle hash for every position, padding included,
    # then only positions that start inside a text are kept.
    h = np.full(span, np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1), dtype=np.uint64)
    for j in range(shingle_size):
        h = h * np.uint64(0x100000001B3) + codes[j : j + span]
    starts = np.concatenate([[0], np.cumsum(lengths + shingle_size)[:-1]])
    keep = np.zeros(span + 1, dtype=np.int8)
    np.add.at(keep, starts, 1)
    np.add.at(keep, starts + lengths, -1)
    inside = np.cumsum(keep[:-1], dtype=np.int8).astype(bool)
    h = _mix64(h[inside])
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
    bits = num_perm.bit_length() - 1
    slot = doc * num_perm + (h >> np.uint64(64 - bits)).astype(np.int64)
    flat = np.full(n * num_perm, _EMPTY, dtype=np.uint64)
    np.minimum.at(flat, slot, h & np.uint64(0xFFFFFFFF))
    sig = flat.reshape(n, num_perm)
    out = np.empty((n, num_perm), dtype=np.uint32)
    for lo in range(0, n, _DENSIFY_ROWS):
        out[lo : lo + _DENSIFY_ROWS] = _densify(sig[lo : lo + _DENSIFY_ROWS])
    return out


def _densify(sig: np.ndarray) -> np.ndarray:
    """Fill each empty bin from the next non-empty bin to its right (circularly), offset by the distance so
    borrowed values differ from the originals (modulo 2^32). Rows with no shingle become all 0xFFFFFFFF."""
    n, k = sig.shape
    filled = sig != _EMPTY
    if filled.all():
        return sig.astype(np.uint32)
    cols = np.arange(2 * k, dtype=np.int32)
    src = np.where(np.concatenate([filled, filled], axis=1), cols, 2 * k)
    nxt = np.minimum.accumulate(src[:, ::-1], axis=1)[:, ::-1][:, :k]
    has_any = filled.any(axis=1)
    own = cols[:k][None, :]
    nxt = np.where(has_any[:, None], nxt, own)
    borrowed = np.take_along_axis(sig, nxt % k, axis=1)
    dist = (nxt - own).astype(np.uint64)
    out = np.where(filled, sig, (borrowed + dist * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF))
    return np.where(has_any[:, None], out, np.uint64(0xFFFFFFFF)).astype(np.uint32)


def lsh_bands(num_perm: int, threshold: float, *, recall: float = 0.9) -> tuple[int, int]:
    """(bands, rows) with bands * rows == num_perm: the most rows per band (fewest spurious candidates)
    for which a pair with similarity exactly ``threshold`` still collides with probability >= ``recall``
    under the LSH S-curve 1 - (1 - s^r)^b. Pairs above the threshold collide even more often."""
    best = (num_perm, 1)
    for rows in (r for r in range(1, num_perm + 1) if num_perm % r == 0):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= recall:
            best = (bands, rows)
    return best


def lsh_candidate_pairs(sig: np.ndarray, *, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct index pairs (i < j) of signature rows that collide in at least one LSH band.

    Within one bucket each row is paired with its next ``_LSH_WINDOW`` neighbours only, so a huge bucket
    of boilerplate costs linear time; the components still connect through the chain.
    """
    n, k = sig.shape
    bands, rows = lsh_bands(k, threshold)
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for band in range(bands):
        key = np.zeros(n, dtype=np.uint64)
        for col in range(band * rows, (band + 1) * rows):
            key = _mix64(key ^ sig[:, col].astype(np.uint64))
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        for d in range(1, min(_LSH_WINDOW, n - 1) + 1):
            same = sorted_key[d:] == sorted_key[:-d]
            if not same.any():
                break
            lefts.append(order[:-d][same])
            rights.append(order[d:][same])
    if not lefts:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    a = np.concatenate(lefts)
    b = np.concatenate(rights)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(lo.astype(np.int64) * n + hi)
    return pairs // n, pairs % n


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of raw content (files)."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Hex sha256 of text encoded as UTF-8 (lone surrogates kept, so any ``str`` hashes)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _punctuation_table() -> dict[int, None]:
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")}


@functools.cache
def _ascii_punctuation() -> bytes:
    return bytes(c for c in range(128) if unicodedata.category(chr(c)).startswith("P"))


def normalise_text(text: str) -> str:
    """Key for near-identical text: NFKC, casefold, punctuation (Unicode category P*) dropped, runs of
    whitespace collapsed to one space, ends stripped."""
    if text.isascii():
        # The same steps for ASCII, where NFKC changes nothing and casefold is lower(): about 3x faster on the
        # import path, and equal to the general branch (a property test pins that).
        folded = text.lower().encode("ascii").translate(None, _ascii_punctuation()).decode("ascii")
        return " ".join(folded.split())
    return _normalise_text_general(text)


def _normalise_text_general(text: str) -> str:
    """``normalise_text`` without the ASCII shortcut."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_punctuation_table())
    return _WS.sub(" ", folded).strip()


def _key_ids(keys: Sequence[str]) -> np.ndarray:
    # 8-byte digests instead of a fixed-width numpy string array, whose width is the longest key: one long
    # text would otherwise multiply memory by n. A collision needs ~4e9 distinct keys to become likely.
    digests = b"".join(
        hashlib.blake2b(k.encode("utf-8", "surrogatepass"), digest_size=8).digest() for k in keys
    )
    return np.frombuffer(digests, dtype="<u8")


def groups_from_pairs(n: int, left: np.ndarray, right: np.ndarray) -> list[np.ndarray]:
    """Connected components (size >= 2) of the graph on ``n`` nodes with edges ``left[i]–right[i]``."""
    if n == 0 or len(left) == 0:
        return []
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    groups = [g for g in np.split(order, cuts) if len(g) > 1]
    groups.sort(key=lambda g: int(g[0]))
    return groups


def _equal_key_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges chaining consecutive members of each run of equal keys (enough for components)."""
    order = np.argsort(keys, kind="stable")
    same = keys[order][1:] == keys[order][:-1]
    return order[:-1][same], order[1:][same]


def exact_groups(keys: Sequence[str] | np.ndarray) -> list[np.ndarray]:
    """Groups of indices whose keys (sha256 hex, normalised text, ...) are equal."""
    ids = _key_ids([str(k) for k in keys])
    left, right = _equal_key_pairs(ids)
    return groups_from_pairs(len(ids), left, right)


def near_duplicate_text_groups(
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    shingle_size: int = 5,
    num_perm: int = 128,
    seed: int = 0,
) -> list[np.ndarray]:
    """Groups of texts that are equal after ``normalise_text`` or whose MinHash-estimated Jaccard similarity
    of character ``shingle_size``-grams (on the normalised text) is >= ``threshold``.

    Preconditions: 0 < threshold <= 1; ``num_perm`` a multiple of 8. Similarity is estimated from the
    signatures (standard error ~ sqrt(J(1-J)/num_perm)), so pairs near the threshold may fall either way.
    """
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    norm = [normalise_text(t) for t in texts]
    n = len(norm)
    if n < 2:
        return []
    # Texts equal after normalisation are linked directly; MinHash runs once per distinct key.
    _, first, inverse = np.unique(_key_ids(norm), return_index=True, return_inverse=True)
    left_exact = np.arange(n)
    right_exact = first[inverse]
    sig = minhash_signatures(
        [norm[i] for i in first], shingle_size=shingle_size, num_perm=num_perm, seed=seed
    )
    a, b = lsh_candidate_pairs(sig, threshold=threshold)
    if len(a):
        estimate = (sig[a] == sig[b]).mean(axis=1)
        keep = estimate >= threshold
        a, b = first[a[keep]], first[b[keep]]
    left = np.concatenate([left_exact, a])
    right = np.concatenate([right_exact, b])
    return groups_from_pairs(n, left, right)
