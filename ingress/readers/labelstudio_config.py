"""A Label Studio labelling config read for what an import and an export need from it."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

_OBJECT_TAGS = {"text", "hypertext", "paragraphs", "image", "audio", "audioplus"}
MAX_CONFIG_CHARS = 200_000
# Classes, spans, boxes: the first of these in the config is the control
_CONTROL_TAGS = {"choices", "labels", "rectanglelabels"}


@dataclass(frozen=True, slots=True)
class LsConfig:
    """What an import and an export need from a labelling config: the first ``<Choices>`` (or, for spans and
    boxes, ``<Labels>``, ``<RectangleLabels>``) control, the object tag it labels and that tag's data key
    (``value="$review"`` → ``review``)."""

    control: str
    target: str
    data_key: str | None
    object_tag: str | None
    choices: tuple[str, ...]
    multiple: bool


def parse_config(xml: str) -> LsConfig:
    """Read a Label Studio labelling config. Raises ValueError, in the config author's words, when it is not XML,
    is too long or has no ``<Choices>``, ``<Labels>`` or ``<RectangleLabels>`` control."""
    if len(xml) > MAX_CONFIG_CHARS:
        raise ValueError(f"The labelling config is longer than {MAX_CONFIG_CHARS} characters.")
    if "<!DOCTYPE" in xml.upper() or "<!ENTITY" in xml.upper():
        raise ValueError("The labelling config may not declare a DOCTYPE or entities.")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ValueError(f"The labelling config is not valid XML: {exc}.") from exc
    objects = {el.get("name"): el for el in root.iter() if el.tag.lower() in _OBJECT_TAGS and el.get("name")}
    control = next((el for el in root.iter() if el.tag.lower() in _CONTROL_TAGS and el.get("name")), None)
    if control is None:
        raise ValueError(
            "The labelling config has no <Choices name=... toName=...> control to take labels from "
            "(nor <Labels> for spans or <RectangleLabels> for boxes)."
        )
    target = (control.get("toName") or "").split(",")[0].strip()
    obj = objects.get(target)
    value = (obj.get("value") or "") if obj is not None else ""
    return LsConfig(
        control=control.get("name") or "",
        target=target,
        data_key=value[1:] if value.startswith("$") and len(value) > 1 else None,
        object_tag=obj.tag if obj is not None else None,
        choices=tuple(
            c.get("value") or c.get("alias") or ""
            for c in control.iter()
            if c.tag.lower() in ("choice", "label")
        ),
        multiple=(control.get("choice") or "single").lower() == "multiple",
    )
