"""Shared builders for the box tests: generated PNGs and a box project created through the REST contract with
its images imported by the bulk endpoint."""

import base64
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from annotation.models import Item
from tests.factories import UserFactory

IGUANA_ROCK = ({"value": "iguana", "hotkey": "1"}, {"value": "rock", "hotkey": "2"})


def png_bytes(
    width: int = 400,
    height: int = 300,
    colour: tuple[int, int, int] = (120, 160, 90),
    objects: tuple[tuple[tuple[int, int, int, int], tuple[int, int, int]], ...] = (),
) -> bytes:
    """A PNG of one colour; ``objects`` paints ((x, y, w, h), colour) rectangles on it, in image pixels."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    for (x, y, w, h), fill in objects:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=fill)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_b64(width: int = 400, height: int = 300, colour: tuple[int, int, int] = (120, 160, 90)) -> str:
    """A one-colour PNG as the bulk endpoint's ``file_b64`` takes it."""
    return base64.b64encode(png_bytes(width, height, colour)).decode()


@dataclass(frozen=True)
class BoxProject:
    pid: int
    manager: object
    items: list[Item]
    bulk: dict


def box_project_create(
    api,
    *,
    images: list[str],
    name: str = "Iguanas",
    labels: tuple[dict, ...] = IGUANA_ROCK,
    annotations_per_item: int | None = 3,
) -> BoxProject:
    """An ``image_boxes`` project a new manager creates over the API, with one item per base64 image
    (external ids ``img-0``, ``img-1``, …); its items in id order."""
    manager = UserFactory(project_creator=True)
    body: dict = {"name": name, "task_type": "image_boxes", "labels": list(labels)}
    if annotations_per_item is not None:
        body["annotations_per_item"] = annotations_per_item
    response = api(manager).post("/api/projects/", body, format="json")
    assert response.status_code == 201, response.json()
    pid = response.json()["id"]
    rows = [{"external_id": f"img-{i}", "file_b64": image} for i, image in enumerate(images)]
    bulk = api(manager).post(f"/api/projects/{pid}/items/bulk/", rows, format="json")
    assert bulk.status_code in (200, 201), bulk.json()
    items = list(Item.objects.filter(project_id=pid).order_by("id"))
    return BoxProject(pid=pid, manager=manager, items=items, bulk=bulk.json())
