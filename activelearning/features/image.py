"""Image features from encoded bytes: grayscale thumbnail, colour histograms, gradient-orientation histogram.

Decoding is per image (Pillow has no batch decoder); everything after decoding runs on stacked arrays.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from activelearning.features.matrix import FeatureMatrix, assemble, describe_error

_HOG_SIZE = 64
_COLOUR_SIZE = 32


class ImageFeatureExtractor:
    """Concatenation of a ``thumb``×``thumb`` grayscale thumbnail in [0, 1], per-channel RGB histograms
    (``colour_bins`` each, shares of pixels) and a HOG-like histogram: ``hog_bins`` unsigned orientation bins
    weighted by gradient magnitude in each of ``hog_cells``×``hog_cells`` cells, L2-normalised per cell.

    Images larger than ``max_pixels`` are rejected before decoding (decompression-bomb guard).
    """

    name = "image-pixels-hist-hog"
    version = "1"

    def __init__(
        self,
        *,
        thumb: int = 16,
        colour_bins: int = 8,
        hog_cells: int = 4,
        hog_bins: int = 9,
        max_pixels: int = 50_000_000,
    ) -> None:
        if _HOG_SIZE % hog_cells or 256 % colour_bins:
            raise ValueError("hog_cells must divide 64 and colour_bins must divide 256")
        self.thumb = thumb
        self.colour_bins = colour_bins
        self.hog_cells = hog_cells
        self.hog_bins = hog_bins
        self.max_pixels = max_pixels

    @property
    def identity(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def dim(self) -> int:
        return self.thumb**2 + 3 * self.colour_bins + self.hog_cells**2 * self.hog_bins

    def fit(self, inputs: Iterable[Any]) -> ImageFeatureExtractor:
        """Stateless; present so every extractor has the same interface."""
        return self

    def _decode(self, data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"expected image bytes, got {type(data).__name__}")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(data))) as image:
                width, height = image.size
                if width * height > self.max_pixels:
                    raise ValueError(
                        f"image of {width}x{height} pixels exceeds the {self.max_pixels} pixel limit"
                    )
                image.draft("RGB", (_HOG_SIZE, _HOG_SIZE))  # lets JPEG decode at reduced scale
                rgb = ImageOps.exif_transpose(image).convert("RGB")
        gray = rgb.convert("L")
        thumb = np.asarray(gray.resize((self.thumb, self.thumb), Image.Resampling.BILINEAR))
        hog_input = np.asarray(gray.resize((_HOG_SIZE, _HOG_SIZE), Image.Resampling.BILINEAR))
        colour = np.asarray(rgb.resize((_COLOUR_SIZE, _COLOUR_SIZE), Image.Resampling.BILINEAR))
        return thumb, hog_input, colour

    def _colour_histograms(self, colour: np.ndarray) -> np.ndarray:
        n = colour.shape[0]
        bins = (colour // (256 // self.colour_bins)).astype(np.int64)  # (n, 32, 32, 3)
        flat = (np.arange(n)[:, None, None, None] * 3 + np.arange(3)) * self.colour_bins + bins
        counts = np.bincount(flat.ravel(), minlength=n * 3 * self.colour_bins)
        return counts.reshape(n, 3 * self.colour_bins) / float(_COLOUR_SIZE**2)

    def _orientation_histograms(self, gray: np.ndarray) -> np.ndarray:
        n = gray.shape[0]
        pixels = gray.astype(np.float32) / 255.0
        gx = np.zeros_like(pixels)
        gy = np.zeros_like(pixels)
        gx[:, :, 1:-1] = pixels[:, :, 2:] - pixels[:, :, :-2]
        gy[:, 1:-1, :] = pixels[:, 2:, :] - pixels[:, :-2, :]
        magnitude = np.hypot(gx, gy)
        angle = np.mod(np.arctan2(gy, gx), np.pi)  # unsigned orientation: edges, not edge polarity
        orientation = np.minimum((angle / np.pi * self.hog_bins).astype(np.int64), self.hog_bins - 1)
        cell_size = _HOG_SIZE // self.hog_cells
        cell_row = np.arange(_HOG_SIZE) // cell_size
        cell = cell_row[:, None] * self.hog_cells + cell_row[None, :]  # (64, 64)
        per_image = self.hog_cells**2 * self.hog_bins
        flat = np.arange(n)[:, None, None] * per_image + cell * self.hog_bins + orientation
        histogram = np.bincount(flat.ravel(), weights=magnitude.ravel(), minlength=n * per_image)
        histogram = histogram.reshape(n, self.hog_cells**2, self.hog_bins)
        norms = np.linalg.norm(histogram, axis=2, keepdims=True)
        return (histogram / np.maximum(norms, 1e-6)).reshape(n, per_image)

    def transform(self, inputs: Sequence[Any]) -> FeatureMatrix:
        """Float32 (n, dim) features; unreadable, oversized or non-bytes inputs give a NaN row and an error."""
        errors: list[str | None] = [None] * len(inputs)
        ok_rows: list[int] = []
        thumbs, hog_inputs, colours = [], [], []
        for row, data in enumerate(inputs):
            try:
                thumb, hog_input, colour = self._decode(data)
            except Exception as exc:  # noqa: BLE001 — any decoder failure is a per-row error, never a batch failure
                errors[row] = describe_error(exc)
                continue
            ok_rows.append(row)
            thumbs.append(thumb)
            hog_inputs.append(hog_input)
            colours.append(colour)
        if ok_rows:
            ok_values = np.hstack(
                [
                    np.stack(thumbs).reshape(len(ok_rows), -1) / 255.0,
                    self._colour_histograms(np.stack(colours)),
                    self._orientation_histograms(np.stack(hog_inputs)),
                ]
            )
        else:
            ok_values = np.empty((0, self.dim), dtype=np.float32)
        return assemble(
            dim=self.dim,
            n=len(inputs),
            ok_rows=np.asarray(ok_rows, dtype=np.int64),
            ok_values=ok_values,
            errors=errors,
            identity=self.identity,
        )
