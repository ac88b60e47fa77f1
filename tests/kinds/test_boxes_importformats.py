"""Existing boxes from COCO, Pascal VOC, YOLO and Label Studio, converted to pixel boxes; expected values are
worked by hand from each format's definition."""

import pytest

from kinds.boxes.geometry import BoxError
from kinds.boxes.importformats import from_coco, from_labelstudio, from_voc, from_yolo


def test_coco_bboxes_are_pixels_already_and_name_their_category():
    doc = {
        "images": [{"id": 7, "file_name": "a.png"}, {"id": 8, "file_name": "b.png"}],
        "categories": [{"id": 1, "name": "iguana"}],
        "annotations": [
            {"image_id": 7, "category_id": 1, "bbox": [10, 20, 30, 40]},
            {"image_id": 7, "category_id": 9, "bbox": [0, 0, 5, 5]},
        ],
    }
    assert from_coco(doc) == {
        "a.png": [
            {"x": 10, "y": 20, "w": 30, "h": 40, "label": "iguana"},
            {"x": 0, "y": 0, "w": 5, "h": 5, "label": "category 9"},
        ],
        "b.png": [],
    }
    with pytest.raises(BoxError, match="COCO annotation 1"):
        from_coco({"images": [], "annotations": [{"image_id": 1, "bbox": [0, 0, 1, 1]}]})


def test_voc_corners_become_a_corner_and_a_size():
    xml = """<annotation><filename>shelf.jpg</filename>
      <object><name>can</name><bndbox><xmin>12</xmin><ymin>30</ymin><xmax>52</xmax><ymax>90</ymax></bndbox></object>
    </annotation>"""
    assert from_voc(xml) == ("shelf.jpg", [{"x": 12.0, "y": 30.0, "w": 40.0, "h": 60.0, "label": "can"}])
    with pytest.raises(BoxError, match="xmax is not a number"):
        from_voc(
            "<annotation><object><name>a</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
            "<xmax>x</xmax><ymax>2</ymax></bndbox></object></annotation>"
        )


def test_yolo_fractions_of_the_centre_and_size_become_pixels():
    # 400 x 300 image: centre (0.25, 0.5), size (0.1, 0.2) → x = 100 - 20 = 80, y = 150 - 30 = 120, 40 x 60
    boxes = from_yolo(
        "0 0.25 0.5 0.1 0.2\n\n3 0.5 0.5 1 1\n", names=["iguana", "rock"], width=400, height=300
    )
    assert boxes == [
        {
            "x": pytest.approx(80),
            "y": pytest.approx(120),
            "w": pytest.approx(40),
            "h": pytest.approx(60),
            "label": "iguana",
        },
        {"x": 0, "y": 0, "w": 400, "h": 300, "label": "class 3"},
    ]
    with pytest.raises(BoxError, match="YOLO line 1"):
        from_yolo("0 0.5 0.5", names=["a"], width=10, height=10)


def test_labelstudio_percentages_become_pixels_of_the_original_image():
    results = [
        {
            "type": "rectanglelabels",
            "original_width": 400,
            "original_height": 300,
            "value": {"x": 25, "y": 10, "width": 50, "height": 20, "rectanglelabels": ["iguana"]},
        },
        {"type": "choices", "value": {"choices": ["x"]}},
    ]
    assert from_labelstudio(results) == [{"x": 100.0, "y": 30.0, "w": 200.0, "h": 60.0, "label": "iguana"}]
    rotated = [{**results[0], "value": {**results[0]["value"], "rotation": 15}}]
    with pytest.raises(BoxError, match="rotated"):
        from_labelstudio(rotated)


def test_a_label_studio_task_brings_its_agreed_rectangles_as_gold_boxes():
    import json

    from ingress.readers.labelstudio import task_to_row
    from ingress.readers.rows import RowError

    region = {
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 640,
        "original_height": 480,
        "value": {"x": 10, "y": 50, "width": 25, "height": 12.5, "rectanglelabels": ["iguana"]},
    }
    task = {
        "id": 4,
        "data": {"image": "/data/upload/1/a.png"},
        "annotations": [
            {"id": 1, "result": [region]},
            {"id": 2, "result": [region]},
            {"id": 3, "was_cancelled": True},
        ],
    }
    # Given two annotations that drew the same region (640 x 480: x 64, y 240, 160 x 60)
    row = task_to_row(task, line=1, annotations_as="gold")
    assert json.loads(row.gold_label) == [{"x": 64.0, "y": 240.0, "w": 160.0, "h": 60.0, "label": "iguana"}]
    # Annotations that differ give no gold; without "gold" rectangles stay out of the gold label
    moved = {**region, "value": {**region["value"], "x": 11}}
    differing = {**task, "annotations": [{"id": 1, "result": [region]}, {"id": 2, "result": [moved]}]}
    assert task_to_row(differing, line=1, annotations_as="gold").gold_label is None
    assert task_to_row(task, line=1, annotations_as="metadata").gold_label is None
    # A region that cannot be converted is the row's gold_label error
    rotated = {**region, "value": {**region["value"], "rotation": 30}}
    bad = task_to_row(
        {**task, "annotations": [{"id": 1, "result": [rotated]}]}, line=3, annotations_as="gold"
    )
    assert isinstance(bad, RowError) and bad.field == "gold_label" and "rotated by 30 degrees" in bad.message
