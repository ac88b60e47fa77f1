"""A text's near-duplicate key and MinHash sketch, computed as its item is built (imports) or later for items
that arrived without one (the near-duplicate refresh)."""

import hashlib

import numpy as np

from annotation.item_flags import SKETCH_PERM

SKETCH_CHARS = 1_000_000


def text_sketches(normalised: list[str]) -> list[bytes]:
    """128-byte MinHash sketches (32 x uint32 LE) of already-normalised texts; b"" for empty texts.

    Texts are hashed in groups of at most ``SKETCH_CHARS`` characters: the vectorised MinHash holds several
    8-byte arrays per character, so one group of long texts must not take hundreds of MB.
    """
    out = [b""] * len(normalised)
    group: list[int] = []
    chars = 0
    for index, text in enumerate(normalised):
        if not text:
            continue
        if group and chars + len(text) > SKETCH_CHARS:
            _sketch_group(normalised, group, out)
            group, chars = [], 0
        group.append(index)
        chars += len(text)
    if group:
        _sketch_group(normalised, group, out)
    return out


def _sketch_group(normalised: list[str], group: list[int], out: list[bytes]) -> None:
    from ingress import dedup  # lazy: scipy (keeps web/worker startup free of the ML stack)

    sig = dedup.minhash_signatures([normalised[i] for i in group], num_perm=SKETCH_PERM)
    packed = (sig & np.uint64(0xFFFFFFFF)).astype("<u4")
    for row, index in enumerate(group):
        out[index] = packed[row].tobytes()


def normalised_key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()[:32] if normalised else ""
