"""Existing boxes from the common formats, as boxes in pixels of the image (``{x, y, w, h, label}``, top-left
origin). Pure: no Django. Coordinates are converted, not judged: what comes out goes through the gold checks of
any import (``value.gold_value``, ``value.fit_to_item``), which report a box outside the image, of zero area or
with an unknown label as that row's error, in the same words as the annotation API.

Conventions: COCO ``bbox`` is already ``[x, y, w, h]`` in pixels; Pascal VOC ``bndbox`` corners are read as
pixel edges (``w = xmax - xmin``); YOLO lines are ``class cx cy w h`` as fractions of the image's size; Label
Studio ``rectanglelabels`` values are percentages of ``original_width``/``original_height``.
"""

from __future__ import annotations

from xml.etree import ElementTree

from kinds.boxes.geometry import BoxError


def _box(x: float, y: float, w: float, h: float, label: str) -> dict:
    return {"x": x, "y": y, "w": w, "h": h, "label": label}


def from_coco(doc: object) -> dict[str, list[dict]]:
    """{image ``file_name``: its boxes} of a COCO detection document; every listed image appears (``[]`` when
    it has no annotation). A category id the document does not define reads as the label ``category <id>``.
    Raises BoxError for a document that is not COCO detection JSON."""
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations")):
        raise BoxError("A COCO file needs 'images' and 'annotations' lists.")
    names = {c.get("id"): str(c.get("name")) for c in doc.get("categories") or [] if isinstance(c, dict)}
    files = {im.get("id"): str(im.get("file_name")) for im in doc["images"] if isinstance(im, dict)}
    out: dict[str, list[dict]] = {name: [] for name in files.values()}
    for number, ann in enumerate(doc["annotations"], start=1):
        bbox = ann.get("bbox") if isinstance(ann, dict) else None
        if not isinstance(bbox, list) or len(bbox) != 4 or ann.get("image_id") not in files:
            raise BoxError(
                f"COCO annotation {number}: needs an image_id of a listed image and a bbox [x, y, w, h]."
            )
        label = names.get(ann.get("category_id"), f"category {ann.get('category_id')}")
        x, y, w, h = bbox
        out[files[ann["image_id"]]].append(_box(x, y, w, h, label=label))
    return out


def _number(element: ElementTree.Element, path: str, where: str) -> float:
    text = element.findtext(path)
    try:
        return float(text or "")
    except ValueError:
        raise BoxError(f"{where}: {path} is not a number ({text!r}).") from None


def from_voc(xml: bytes | str) -> tuple[str | None, list[dict]]:
    """(``filename``, boxes) of a Pascal VOC annotation. Raises BoxError for unreadable XML or bad numbers."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise BoxError(f"The Pascal VOC file is not readable XML: {exc}.") from exc
    boxes = []
    for number, obj in enumerate(root.iter("object"), start=1):
        bndbox = obj.find("bndbox")
        where = f"VOC object {number}"
        if bndbox is None:
            raise BoxError(f"{where}: no bndbox.")
        x0, y0, x1, y1 = (_number(bndbox, name, where) for name in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append(_box(x0, y0, x1 - x0, y1 - y0, label=(obj.findtext("name") or "").strip()))
    return root.findtext("filename"), boxes


def from_yolo(text: str, *, names: list[str], width: int, height: int) -> list[dict]:
    """The boxes of one YOLO label file for a ``width`` × ``height`` image; ``names`` are the class names by
    index. A class index out of range reads as the label ``class <n>``. Raises BoxError for a malformed line."""
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            index = int(parts[0])
            cx, cy, w, h = (float(p) for p in parts[1:5])
        except ValueError:
            raise BoxError(f"YOLO line {number}: expected 'class cx cy w h', got {line.strip()!r}.") from None
        if len(parts) != 5:
            raise BoxError(f"YOLO line {number}: expected 'class cx cy w h', got {line.strip()!r}.")
        label = names[index] if 0 <= index < len(names) else f"class {index}"
        boxes.append(_box((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height, label=label))
    return boxes


def from_labelstudio(results: list) -> list[dict]:
    """The boxes of one Label Studio annotation's ``result`` list (its ``rectanglelabels`` regions; other
    controls are ignored). Raises BoxError for a rotated region or one without its image's original size."""
    boxes = []
    for number, region in enumerate(results or [], start=1):
        if not isinstance(region, dict) or region.get("type") != "rectanglelabels":
            continue
        value = region.get("value") or {}
        width, height = region.get("original_width"), region.get("original_height")
        where = f"Label Studio region {number}"
        if not width or not height:
            raise BoxError(f"{where}: no original_width/original_height to convert percentages to pixels.")
        if value.get("rotation"):
            raise BoxError(f"{where}: rotated by {value['rotation']} degrees; only upright boxes are taken.")
        labels = value.get("rectanglelabels") or []
        if len(labels) != 1:
            raise BoxError(f"{where}: needs exactly one label, has {len(labels)}.")
        try:
            x, y, w, h = (float(value[k]) / 100 for k in ("x", "y", "width", "height"))
        except (KeyError, TypeError, ValueError):
            raise BoxError(f"{where}: x, y, width and height must be numbers.") from None
        boxes.append(_box(x * width, y * height, w * width, h * height, label=str(labels[0])))
    return boxes
