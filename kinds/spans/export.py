"""Placeholder export part of the spans kind: it declares no formats yet. The span exports replace this module."""

from collections.abc import Iterator
from typing import Any


def stream(*, fmt: str, version: Any, split: str | None, base_url: str) -> Iterator[bytes]:
    raise NotImplementedError("span projects have no exports yet")
