"""Placeholder so the boxes kind registers: the box exports (JSONL, COCO, YOLO, the zip) replace this module.
Until then freezing or exporting a box project fails with this message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_MISSING = "Exports of boxes are not installed yet."


def stream(*, fmt: str, version: Any, split: str | None, base_url: str = "") -> Iterator[bytes]:
    raise NotImplementedError(_MISSING)


def label_schema(*, project: Any, project_labels: list, parent: dict | None, seen: list[str]) -> dict:
    raise NotImplementedError(_MISSING)


def label_description(*, version: Any) -> str:
    raise NotImplementedError(_MISSING)


def card_label_feature(*, version: Any) -> str:
    raise NotImplementedError(_MISSING)
