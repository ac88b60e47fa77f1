"""Box files beside the images of a zip import, read as the images' gold boxes. Pure: no Django.

Recognised members (anywhere in the archive): COCO detection JSON (``*.json``, matched to images by
``file_name``, full path or base name), Pascal VOC XML (``*.xml``, by the image's path without its extension, or
its ``filename``), YOLO label files (``*.txt`` with the image's path and stem, also under a ``labels/`` folder
beside ``images/``) with their class names from ``classes.txt``, ``obj.names`` or ``data.yaml`` (``names``).
"""

from __future__ import annotations

import io
import json
from pathlib import PurePosixPath

import yaml
from PIL import Image, UnidentifiedImageError

from kinds.boxes.geometry import BoxError
from kinds.boxes.importformats import from_coco, from_voc, from_yolo

_NAME_FILES = {"classes.txt", "obj.names", "data.yaml", "data.yml"}
SUFFIXES = frozenset({".json", ".xml", ".txt", ".names", ".yaml", ".yml"})


def _stem(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    return str(path.with_suffix(""))


class GoldFiles:
    """Collects the box files of one archive (``add``), then gives each image its gold boxes (``gold_for``)."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[dict]] = {}
        self.by_stem: dict[str, list[dict]] = {}
        self.yolo: dict[str, str] = {}
        self.names: list[str] = []

    def wants(self, name: str) -> bool:
        return PurePosixPath(name).suffix.lower() in SUFFIXES

    def add(self, name: str, data: bytes) -> None:
        """Read one box file. Raises BoxError when it is not a readable file of its kind."""
        base = PurePosixPath(name).name.lower()
        suffix = PurePosixPath(name).suffix.lower()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BoxError(f"{name!r} is not UTF-8 text.") from None
        if base in _NAME_FILES:
            self.names = self._names(name, text)
        elif suffix == ".json":
            try:
                doc = json.loads(text)
            except ValueError as exc:
                raise BoxError(f"{name!r} is not JSON: {exc}.") from exc
            for image, boxes in from_coco(doc).items():
                self.by_file.setdefault(image, []).extend(boxes)
        elif suffix == ".xml":
            named, boxes = from_voc(data)
            self.by_stem[_stem(name)] = boxes
            if named:
                self.by_file.setdefault(named, []).extend(boxes)
        elif suffix == ".txt":
            self.yolo[_stem(name)] = text

    def _names(self, name: str, text: str) -> list[str]:
        if not name.lower().endswith((".yaml", ".yml")):
            return [line.strip() for line in text.splitlines() if line.strip()]
        try:
            names = (yaml.safe_load(text) or {}).get("names")
        except (yaml.YAMLError, AttributeError) as exc:
            raise BoxError(f"{name!r} has no readable 'names'.") from exc
        if isinstance(names, dict):
            return [str(names[key]) for key in sorted(names)]
        if isinstance(names, list):
            return [str(value) for value in names]
        raise BoxError(f"{name!r} has no 'names' list.")

    def gold_for(self, name: str, data: bytes) -> str | None:
        """The image's gold boxes as JSON text (what a gold_label cell holds), None when no file names it.
        Raises BoxError when its YOLO file cannot be read or the image's size cannot be."""
        posix = name.replace("\\", "/")
        stem = _stem(posix)
        for boxes in (
            self.by_file.get(posix),
            self.by_file.get(PurePosixPath(posix).name),
            self.by_stem.get(stem),
        ):
            if boxes is not None:
                return json.dumps(boxes)
        parts = PurePosixPath(stem).parts
        label_stem = "/".join("labels" if part == "images" else part for part in parts)
        text = self.yolo.get(stem, self.yolo.get(label_stem))
        if text is None:
            return None
        try:
            width, height = Image.open(io.BytesIO(data)).size
        except (UnidentifiedImageError, OSError) as exc:
            raise BoxError(f"the image's size cannot be read for its YOLO boxes: {exc}.") from exc
        return json.dumps(from_yolo(text, names=self.names, width=width, height=height))
