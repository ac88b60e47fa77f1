"""Classification exports: the canonical JSONL rows with a ``label`` (a class name, or a sorted list of them),
CSV, Parquet, the Hugging Face zip and Label Studio, all written by ``datasets``' streamers."""

from __future__ import annotations

from collections.abc import Iterator

from datasets.archive import stream_zip
from datasets.exporters import (
    stream_csv,
    stream_jsonl,
    stream_labelstudio,
    stream_labelstudio_config,
    stream_parquet,
)
from datasets.models import DatasetVersion

LABEL_DESCRIPTION = "a class name (multi-label: a list of them); its class id is its index in label_schema.labels"


def stream(*, fmt: str, version: DatasetVersion, split: str | None, base_url: str = "") -> Iterator[bytes]:
    """The export's bytes as a stream (the zip always holds every split)."""
    if fmt == "zip":
        return stream_zip(version=version)
    if fmt == "labelstudio":
        return stream_labelstudio(version=version, split=split, base_url=base_url)
    if fmt == "labelstudio-config":
        return stream_labelstudio_config(version=version)
    return {"jsonl": stream_jsonl, "csv": stream_csv, "parquet": stream_parquet}[fmt](version=version, split=split)


def label_description(*, multi_label: bool) -> str:
    return LABEL_DESCRIPTION


def parquet_label_type(*, multi_label: bool):
    import pyarrow as pa  # lazy: only Parquet needs it (see datasets.exporters.parquet_schema)

    # Single-label: a dictionary column holding every class in id order, even those without rows, so pandas
    # reads a Categorical whose categories (and codes) are the version's classes.
    return pa.list_(pa.string()) if multi_label else pa.dictionary(pa.int32(), pa.string())
