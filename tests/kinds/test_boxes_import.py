"""A zip of images with their existing boxes (COCO JSON, Pascal VOC XML, YOLO txt) imported on the real worker:
each image's boxes become its gold boxes in pixels, and a box outside its image, of zero area or with an unknown
label is reported for its row, which is not imported."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from annotation.models import Item
from core.models import JobStatus
from tests.conftest import wait_for_job
from tests.factories import make_project


def png(width: int, height: int, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, shade, shade)).save(buffer, format="PNG")
    return buffer.getvalue()


VOC = """<annotation><filename>voc.png</filename>
  <object><name>rock</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>110</xmax><ymax>70</ymax></bndbox></object>
</annotation>"""


@pytest.mark.worker
def test_a_zip_of_images_with_coco_voc_and_yolo_boxes_brings_them_in_as_gold(worker, api):
    # Given a box project and a zip of images (different shades, so no two are duplicates) and their box files
    project = make_project(name="Shelf", task_type="image_boxes", labels=("iguana", "rock"))
    coco = {
        "images": [
            {"id": 1, "file_name": "coco.png"},
            {"id": 2, "file_name": "outside.png"},
            {"id": 3, "file_name": "flat.png"},
            {"id": 4, "file_name": "dog.png"},
        ],
        "categories": [{"id": 1, "name": "iguana"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"image_id": 1, "category_id": 1, "bbox": [5, 6, 30, 40]},
            {"image_id": 2, "category_id": 1, "bbox": [180, 10, 30, 40]},
            {"image_id": 3, "category_id": 1, "bbox": [5, 6, 0, 40]},
            {"image_id": 4, "category_id": 2, "bbox": [5, 6, 30, 40]},
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("annotations.json", json.dumps(coco))
        for shade, name in enumerate(["coco.png", "outside.png", "flat.png", "dog.png", "voc.png"], start=1):
            archive.writestr(name, png(200, 100, shade * 20))
        archive.writestr("voc.xml", VOC)
        archive.writestr("images/yolo.png", png(200, 100, 200))
        archive.writestr("labels/yolo.txt", "1 0.5 0.5 0.25 0.5\n")
        archive.writestr("classes.txt", "iguana\nrock\n")
        archive.writestr("plain.png", png(200, 100, 220))
    # When the manager imports it
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/imports/",
        {"file": SimpleUploadedFile("shelf.zip", buffer.getvalue())},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["job"], worker=worker)
    # Then every image with good boxes is an item whose gold boxes are in pixels (YOLO: a 200 x 100 image, centre
    # (100, 50), size 50 x 50 → x 75, y 25), and an image without a box file is a plain item
    assert job.status == JobStatus.SUCCEEDED, job.error
    gold = dict(Item.objects.filter(project=project).values_list("external_id", "gold_label"))
    assert gold == {
        "coco.png": [{"x": 5.0, "y": 6.0, "w": 30.0, "h": 40.0, "label": "iguana"}],
        "voc.png": [{"x": 10.0, "y": 20.0, "w": 100.0, "h": 50.0, "label": "rock"}],
        "images/yolo.png": [{"x": 75.0, "y": 25.0, "w": 50.0, "h": 50.0, "label": "rock"}],
        "plain.png": None,
    }
    # And the three bad images are reported by row, in the annotation API's words
    report = {row["message"] for row in job.result["report"]}
    assert report == {
        "Gold: Box 1: outside the image (x 180 to 210; the image's width is 200 px, so 0 <= x and x + w <= 200).",
        "Gold: Box 1: w must be greater than 0.",
        "Gold: Box 1: unknown label 'dog'; this project's labels are iguana, rock.",
    }
    assert {row["field"] for row in job.result["report"]} == {"gold_label"}
