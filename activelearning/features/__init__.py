"""Feature extraction per modality: inputs in, float32 matrix (NaN rows for failures) out."""

from __future__ import annotations

from activelearning.features.audio import AudioFeatureExtractor
from activelearning.features.embeddings import SentenceEmbeddingExtractor, installed_sentence_encoder
from activelearning.features.image import ImageFeatureExtractor
from activelearning.features.matrix import FeatureExtractor, FeatureMatrix
from activelearning.features.text import TextFeatureExtractor

__all__ = [
    "AudioFeatureExtractor",
    "FeatureExtractor",
    "FeatureMatrix",
    "ImageFeatureExtractor",
    "SentenceEmbeddingExtractor",
    "TextFeatureExtractor",
    "extractor_for",
]


def extractor_for(media: str, *, prefer_embeddings: bool = True) -> FeatureExtractor:
    """A fresh extractor for items of ``media``: "text", "image" or "audio" (``kinds.registry.item_media``).

    Text uses an installed sentence encoder when ``prefer_embeddings`` and one is registered, TF-IDF + SVD
    otherwise. Raises ValueError for any other media.
    """
    if media == "text":
        encoder = installed_sentence_encoder() if prefer_embeddings else None
        return encoder if encoder is not None else TextFeatureExtractor()
    if media == "image":
        return ImageFeatureExtractor()
    if media == "audio":
        return AudioFeatureExtractor()
    raise ValueError(f"unknown item media {media!r}")
