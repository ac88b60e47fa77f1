"""Shared helpers for the ingress tests: media bytes, isolated storage roots, running an import inline."""

import io
from pathlib import Path

import numpy as np
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import jobs
from core.models import Job
from ingress.services.imports import import_run, import_start


def png_bytes(value: int = 128, size: tuple[int, int] = (48, 48), pattern: int = 0) -> bytes:
    """A grey PNG; ``pattern`` > 0 draws a checkerboard of that cell size so images differ in structure."""
    arr = np.full((size[1], size[0]), value, dtype=np.uint8)
    if pattern:
        yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
        arr = np.where(((yy // pattern) + (xx // pattern)) % 2 == 0, 230, 20).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def wav_bytes(signal: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, signal.astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def tone(seconds: float = 1.0, freq: float = 440.0, amp: float = 0.5, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def run_import(project, name: str, data: bytes, *, user=None, **options) -> Job:
    """Start an import as the API does, then run the job's work function in this process."""
    job = import_start(
        project=project, user=user or project.created_by, upload=SimpleUploadedFile(name, data), **options
    )
    jobs.job_execute(job_id=str(job.pk), work=import_run)
    job.refresh_from_db()
    return job


def stored_media(media_root: Path) -> list[Path]:
    """Item files in storage (uploads and caches excluded)."""
    base = media_root / "projects"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []
