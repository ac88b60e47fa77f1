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


def extractor_for(task_type: str, *, prefer_embeddings: bool = True) -> FeatureExtractor:
    """A fresh extractor for a project task type.

    ``task_type`` is "text_classification", "image_classification" or "audio_classification" (a
    "multilabel"/"multi_label" variant of the same string picks the same extractor). Text uses an installed
    sentence encoder when ``prefer_embeddings`` and one is registered, TF-IDF + SVD otherwise.
    Raises ValueError for any other task type.
    """
    modality = task_type.split("_", 1)[0]
    if modality == "text":
        encoder = installed_sentence_encoder() if prefer_embeddings else None
        return encoder if encoder is not None else TextFeatureExtractor()
    if modality == "image":
        return ImageFeatureExtractor()
    if modality == "audio":
        return AudioFeatureExtractor()
    raise ValueError(f"unknown task type {task_type!r}")
