"""The whole box loop in headless Chromium on the real worker: a manager creates a box project with the form and
imports a zip of generated PNGs from the upload form; three annotators box every image, by mouse drag and by
keyboard (arrow keys move, "r" then arrows resize, "d" duplicates, a label key labels); the manager runs the quality
check from its page, accepts the two disputed images on their review pages, freezes a version and downloads its
COCO export, which pycocotools loads and evaluates against the hand-written truth.

Expected figures are hand-computed from the answers written below; the matched IoU is recomputed here from the
stored boxes with an IoU of this file's own."""

import contextlib
import csv
import io
import json
import zipfile

import pytest

from annotation.models import Annotation, Item, ItemStatus
from tests.conftest import wait_until_worker_idle
from tests.e2e import loop_steps as steps
from tests.factories import UserFactory
from tests.kinds.box_fixtures import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LABELS = ("iguana", "rock")
HOTKEYS = {"iguana": "1", "rock": "2"}
HEIGHT = 300
# Each image has a width of its own, so the labelling page tells which one it shows (its data-width).
WIDTHS = {"img-0": 400, "img-1": 410, "img-2": 420, "img-3": 430, "img-4": 440}
# The objects painted into each image, (x, y, w, h) in image pixels: the truth the annotators outline.
TRUTH = {
    "img-0": [((40, 40, 120, 80), "iguana")],
    "img-1": [((40, 40, 120, 80), "iguana"), ((250, 150, 80, 60), "rock")],
    "img-2": [((200, 100, 120, 90), "iguana")],
    "img-3": [((100, 100, 60, 60), "rock")],
    "img-4": [((60, 120, 100, 100), "iguana")],
}
# How each annotator boxes each image: a list of steps, ("drag", (x0, y0, x1, y1)) drags between two image points,
# ("keys", [...]) presses keys. anna drags every object exactly; ben drags img-2's iguana 10 px to the left and
# moves it back with Shift+→, drags img-4's 10 px short and makes it taller in resize mode, and makes img-1's rock
# from the iguana by keyboard only (duplicate, move, resize, relabel); cleo misses img-1's rock and calls img-3's
# rock an iguana. Every box ends on its object, so each stored box is the truth's within a pixel.


def drag(box):
    x, y, w, h = box
    return ("drag", (x, y, x + w, y + h))


def exact(image, *, label_as=None):
    return [
        step for (box, label) in TRUTH[image] for step in (drag(box), ("keys", [HOTKEYS[label_as or label]]))
    ]


ANNA = {image: exact(image) for image in TRUTH}
BEN = {
    **ANNA,
    "img-1": [
        drag((40, 40, 120, 80)),
        # (d puts the copy 6 px right and down: min(410, 300) / 50; it is then moved 204, 104 and made 40 px
        # narrower and 20 px lower)
        (
            "keys",
            ["1", "d"]
            + ["Shift+ArrowRight"] * 20
            + ["ArrowRight"] * 4
            + ["Shift+ArrowDown"] * 10
            + ["ArrowDown"] * 4
            + ["r"]
            + ["Shift+ArrowLeft"] * 4
            + ["Shift+ArrowUp"] * 2
            + ["r", "2"],
        ),
    ],
    "img-2": [("drag", (190, 100, 310, 190)), ("keys", ["Shift+ArrowRight", "1"])],
    "img-4": [("drag", (60, 120, 160, 210)), ("keys", ["r", "Shift+ArrowDown", "r", "1"])],
}
CLEO = {
    **ANNA,
    "img-1": [drag((40, 40, 120, 80)), ("keys", ["1"])],
    "img-3": exact("img-3", label_as="iguana"),
}
PLANS = {"anna": ANNA, "ben": BEN, "cleo": CLEO}
# The boxes each annotator's answer should hold.
EXPECTED = {
    "anna": TRUTH,
    "ben": TRUTH,
    "cleo": {
        **TRUTH,
        "img-1": [((40, 40, 120, 80), "iguana")],
        "img-3": [((100, 100, 60, 60), "iguana")],
    },
}
# Box F1 at IoU >= 0.5 per annotator pair, pooled over the five images (one-to-one, same label): anna and ben draw
# the same six boxes → 12/12; cleo draws five, four of them matching (not the missed rock, not the rock she calls
# an iguana) → 2·4 / (6 + 5) with each of the others. Per label: iguana anna 4, ben 4, cleo 5 boxes, 4 matching →
# (1 + 8/9 + 8/9) / 3; rock anna 2, ben 2, cleo 0 → (1 + 0 + 0) / 3.
BOX_F1 = (1 + 8 / 11 + 8 / 11) / 3
IGUANA_F1 = (1 + 8 / 9 + 8 / 9) / 3
ROCK_F1 = 1 / 3
DISPUTED = ("img-1", "img-3")


def test_the_hand_written_plans_make_the_expected_boxes():
    # ben's keyboard rock: the copy of the iguana at (46, 46, 120, 80), moved by (204, 104), resized by (-40, -20)
    assert (46 + 204, 46 + 104, 120 - 40, 80 - 20) == TRUTH["img-1"][1][0]
    # ben's shifted and short drags end on the truth after +10 px
    assert (190 + 10, 100, 120, 90) == TRUTH["img-2"][0][0]
    assert (60, 120, 100, 90 + 10) == TRUTH["img-4"][0][0]


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def images_zip() -> bytes:
    dark = {"iguana": (30, 90, 30), "rock": (90, 80, 70)}
    buffer = io.BytesIO()
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["file", "external_id"])
    with zipfile.ZipFile(buffer, "w") as archive:
        for image, objects in TRUTH.items():
            painted = tuple((box, dark[label]) for box, label in objects)
            archive.writestr(
                f"{image}.png", png_bytes(WIDTHS[image], HEIGHT, (230, 230, 230), objects=painted)
            )
            writer.writerow([f"{image}.png", image])
        archive.writestr("manifest.csv", manifest.getvalue())
    return buffer.getvalue()


def box_one_image(page, plan) -> None:
    from playwright.sync_api import expect

    stage = page.locator("#box-stage")
    image = page.locator("#box-image").bounding_box()
    scale = image["width"] / int(stage.get_attribute("data-width"))

    def screen(x, y):
        return image["x"] + x * scale, image["y"] + y * scale

    drawn = 0
    for kind, what in plan:
        if kind == "drag":
            x0, y0, x1, y1 = what
            page.mouse.move(*screen(x0, y0))
            page.mouse.down()
            page.mouse.move(*screen((x0 + x1) / 2, (y0 + y1) / 2), steps=4)
            page.mouse.move(*screen(x1, y1), steps=4)
            page.mouse.up()
            drawn += 1
            expect(stage).to_have_attribute("data-boxes", str(drawn))
        else:
            for key in what:
                page.keyboard.press(key)
                if key == "d":
                    drawn += 1
                    expect(stage).to_have_attribute("data-boxes", str(drawn))


def as_expected(stored: list[dict], expected) -> bool:
    """Same labels, and every stored box within 1 px of its expected one (both sorted by label and position)."""
    got = sorted((b["label"], b["x"], b["y"], b["w"], b["h"]) for b in stored)
    want = sorted((label, *box) for box, label in expected)
    return len(got) == len(want) and all(
        g[0] == w[0] and all(abs(a - b) <= 1 for a, b in zip(g[1:], w[1:], strict=True))
        for g, w in zip(got, want, strict=True)
    )


def test_a_box_project_runs_the_whole_loop_by_mouse_and_keyboard_in_the_browser(
    browser, live_server, worker, api, tmp_path
):
    import numpy as np
    from playwright.sync_api import expect
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    manager = UserFactory(username="maya", project_creator=True)
    for name in PLANS:
        UserFactory(username=name)
    context, page = steps.open_page(browser, live_server, manager.username)
    try:
        # Given a box project created with the form (k=3, capped at 3), its three annotators added with the
        # members form, and five PNGs imported as a zip with a manifest from the upload form
        pid = steps.create_project(
            page,
            name="Desert",
            task_type="image_boxes",
            labels="\n".join(f"{label} | {HOTKEYS[label]}" for label in LABELS),
            k=3,
        )
        steps.set_max_annotations(page, pid, 3)
        for name in PLANS:
            steps.add_member(page, pid, name)
        figures = steps.import_file(page, pid, name="images.zip", mime="application/zip", data=images_zip())
        # Then the page's report says all five images were imported
        assert figures == {"Rows": 5, "Created": 5, "Duplicates": 0, "Errors": 0}
    finally:
        context.close()
    ids = dict(Item.objects.filter(project_id=pid).values_list("external_id", "pk"))
    assert set(ids) == set(TRUTH)
    image_of_width = {str(width): image for image, width in WIDTHS.items()}

    # When each annotator boxes every image as planned, in whatever order the queue serves them
    for name, plan in PLANS.items():
        context, page = steps.open_page(browser, live_server, name)
        try:
            steps.open_labelling(page, pid)
            stage = page.locator("#box-stage")
            for done in range(len(TRUTH)):
                expect(stage).to_have_attribute("data-ready", "1")
                width = stage.get_attribute("data-width")
                box_one_image(page, plan[image_of_width[width]])
                page.keyboard.press("Enter")
                if done < len(TRUTH) - 1:
                    expect(stage).not_to_have_attribute("data-width", width)
            expect(page.locator("#empty-state")).to_be_visible()
        finally:
            context.close()
    # Then each stored answer holds the planned boxes, in image pixels within 1 px
    stored = {
        (user, image): boxes
        for user, image, boxes in Annotation.objects.filter(project_id=pid, is_live=True).values_list(
            "annotator__username", "item__external_id", "labels"
        )
    }
    assert set(stored) == {(name, image) for name in PLANS for image in TRUTH}
    for (name, image), boxes in stored.items():
        assert as_expected(boxes, EXPECTED[name][image]), (name, image, boxes)
    wait_until_worker_idle(120)

    context, page = steps.open_page(browser, live_server, manager.username)
    try:
        # When the manager runs the quality check from its page
        steps.run_quality(page, pid)
        report = api(manager).get(f"/api/projects/{pid}/quality/").json()
        # Then box F1 is the hand-computed one, overall and per label, and the page shows it
        assert report["mean_pairwise_box_f1"] == pytest.approx(BOX_F1, abs=1e-6)
        assert report["per_label"]["iguana"]["mean_pairwise_box_f1"] == pytest.approx(IGUANA_F1, abs=1e-6)
        assert report["per_label"]["rock"]["mean_pairwise_box_f1"] == pytest.approx(ROCK_F1, abs=1e-6)
        assert steps.headline_text(page, "mean_pairwise_box_f1") == f"{BOX_F1:.3f}"
        # and the mean matched IoU is this file's IoU over the matched pairs of stored boxes (one box per label
        # and image in each answer, so a match is the same label on the same image)
        names = list(PLANS)
        matched = [
            iou(
                (a["x"], a["y"], a["w"], a["h"]),
                (b["x"], b["y"], b["w"], b["h"]),
            )
            for i, first in enumerate(names)
            for second in names[i + 1 :]
            for image in TRUTH
            for a in stored[(first, image)]
            for b in stored[(second, image)]
            if a["label"] == b["label"]
        ]
        assert len(matched) == 6 + 4 + 4
        assert report["mean_matched_iou"] == pytest.approx(float(np.mean(matched)), abs=1e-6)
        assert steps.headline_text(page, "mean_matched_iou") == f"{np.mean(matched):.3f}"
        # and the disputed images carry the reasons a reviewer reads
        assert "missing_box" in Item.objects.get(pk=ids["img-1"]).issue_kinds
        assert "class_confusion" in Item.objects.get(pk=ids["img-3"]).issue_kinds

        # When the manager accepts each disputed image with its consensus on its review page
        for image in DISPUTED:
            steps.accept_on_review_page(page, pid, ids[image])
            # Then it is accepted with the majority's boxes: the truth
            item = Item.objects.get(pk=ids[image])
            assert item.status == ItemStatus.ACCEPTED
            assert as_expected(item.final_label, TRUTH[image]), (image, item.final_label)

        # When they freeze a version from the datasets page and download its COCO export
        wait_until_worker_idle(120)
        steps.freeze_version(page, pid)
        expect(page.locator("#n-entries")).to_have_text(str(len(TRUTH)))
        coco_json = steps.download(page, "coco")
    finally:
        context.close()

    # Then pycocotools loads it: the five images at their sizes, categories in label order, the truth's boxes
    path = tmp_path / "coco.json"
    path.write_bytes(coco_json)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(LABELS)
    external = {pk: image for image, pk in ids.items()}
    assert {external[i["id"]]: (i["width"], i["height"]) for i in coco.loadImgs(coco.getImgIds())} == {
        image: (width, HEIGHT) for image, width in WIDTHS.items()
    }
    for image, pk in ids.items():
        exported = [
            {"label": LABELS[a["category_id"] - 1], **dict(zip("xywh", a["bbox"], strict=True))}
            for a in coco.loadAnns(coco.getAnnIds(imgIds=[pk]))
        ]
        assert as_expected(exported, TRUTH[image]), (image, exported)
    # and COCOeval of the export's boxes against the hand-written truth: each true box has exactly one detection
    # of its class, within a pixel (IoU > 0.9), and there are no others, so AP at IoU 0.5 and at 0.75 is 1
    truth = {
        "images": [{"id": pk, "width": WIDTHS[image], "height": HEIGHT} for image, pk in ids.items()],
        "categories": [{"id": n + 1, "name": label} for n, label in enumerate(LABELS)],
        "annotations": [
            {
                "id": n + 1,
                "image_id": ids[image],
                "category_id": LABELS.index(label) + 1,
                "bbox": list(box),
                "area": box[2] * box[3],
                "iscrowd": 0,
            }
            for n, (image, box, label) in enumerate(
                (image, box, label) for image, objects in TRUTH.items() for box, label in objects
            )
        ],
    }
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth))
    detections = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "score": a.get("score", 1.0),
        }
        for a in coco.loadAnns(coco.getAnnIds())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(truth_path))
        evaluation = COCOeval(gt, gt.loadRes(detections), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert evaluation.stats[1] == pytest.approx(1.0)
    assert evaluation.stats[2] == pytest.approx(1.0)
